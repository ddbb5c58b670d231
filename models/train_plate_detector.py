"""Train the plate detector (models/plate_detector.onnx): a small centre-point CNN over whole frames.

What it learns from (the manifest's [training_sources]; models/plate_data.py builds the lists):
- real frames with plate boxes: 1,580 Spanish (UC3M-LP, ODbL) and 427 Romanian (MIT) frames;
- real plates pasted into real images without plates (openalpr/train-detector raw-neg, AGPL-3.0):
  Brazilian, Spanish and European crops (train-detector br/, eu/, eu2/; UC3M-LP crops), each
  turned, scaled and blended, one to three per image, so the detector sees many plate styles in
  many places, and the signs and shop fronts of those images as what is not a plate;
- synthetic frames of the product's own crossing scene (edge.synthetic.plate_frames: US, EU and
  Brazilian plates on cars, with vehicle lettering painted beside them as what is not a plate).

Every training example is a random part of one of those images (as a technician's ROI would
cut it), fitted into the 384 x 224 input as the runtime fits a frame (edge/plates/detector.py),
then darkened or brightened, blurred, noised and JPEG-compressed.

Held out: the sources' own validation frames (395 Spanish, 107 Romanian). After every epoch the
script prints the share of their plates found among the top 3 boxes and the precision of the
boxes above the score threshold; the best epoch is kept.

Run (after models/plate_data.py):

    .venv/bin/python models/train_plate_detector.py
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from plate_data import BUILD, MODELS, BoxedFrame, RealCrop
from train_plate_reader import add_run_arguments, bf16_cpu, record_sha256

from edge.plates.detector import INPUT_SIZE, STRIDE, decode_peaks, letterbox
from edge.synthetic import plate_frames

MODEL_FILE = MODELS / "plate_detector.onnx"
_W, _H = INPUT_SIZE
_LONG_SIDE = 800  # scenes are kept at most this big: the input is 384 px wide
# A found plate: a top box that overlaps it this much (intersection over union).
MATCH_IOU = 0.3
CornerBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class Scene:
    image: np.ndarray  # grey uint8
    boxes: tuple[CornerBox, ...]


def _fit(image: np.ndarray, boxes: tuple[CornerBox, ...]) -> Scene:
    scale = min(1.0, _LONG_SIDE / max(image.shape[:2]))
    if scale < 1.0:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return Scene(image, tuple(tuple(float(v) * scale for v in b) for b in boxes))  # type: ignore[misc]


def real_scenes(frames: list[BoxedFrame]) -> list[Scene]:
    scenes = []
    for frame in frames:
        image = cv2.imread(str(BUILD / frame.path), cv2.IMREAD_GRAYSCALE)
        if image is not None:
            scenes.append(_fit(image, frame.boxes))
    return scenes


def synthetic_scenes(count: int, seed: int) -> list[Scene]:
    cache = BUILD / f"detector-synthetic-{seed}-{count}.pkl"
    if cache.is_file():
        return pickle.loads(cache.read_bytes())
    scenes = []
    for item in plate_frames(count, seed, lettering=3):
        ok, jpeg = cv2.imencode(".jpg", item.image, [cv2.IMWRITE_JPEG_QUALITY, item.jpeg_quality])
        grey = cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE) if ok else cv2.cvtColor(item.image, cv2.COLOR_BGR2GRAY)
        x0, y0 = item.quad.min(axis=0)
        x1, y1 = item.quad.max(axis=0)
        scenes.append(_fit(grey, ((float(x0), float(y0), float(x1), float(y1)),)))
    cache.write_bytes(pickle.dumps(scenes))
    return scenes


class Paster:
    """Real plate crops pasted into real images without plates."""

    def __init__(self, plates: list[np.ndarray], backgrounds: list[Path]) -> None:
        self.plates = plates
        self.backgrounds = backgrounds
        self._cache: dict[int, np.ndarray] = {}

    def scene(self, rng: np.random.Generator) -> Scene:
        index = int(rng.integers(len(self.backgrounds)))
        if index not in self._cache:
            image = cv2.imread(str(self.backgrounds[index]), cv2.IMREAD_GRAYSCALE)
            self._cache[index] = _fit(image if image is not None else np.full((480, 640), 128, np.uint8), ()).image
        canvas = self._cache[index].copy()
        height, width = canvas.shape
        boxes: list[CornerBox] = []
        for _ in range(int(rng.integers(1, 4))):
            plate = self.plates[int(rng.integers(len(self.plates)))]
            plate_w = float(np.exp(rng.uniform(np.log(0.05), np.log(0.45)))) * width
            plate_h = plate_w * plate.shape[0] / plate.shape[1]
            if plate_w >= width - 2 or plate_h >= height - 2:
                continue
            x = rng.uniform(0, width - plate_w)
            y = rng.uniform(0, height - plate_h)
            # A slightly turned plate: each corner moves by up to 8% of the plate's height.
            quad = np.array([[x, y], [x + plate_w, y], [x + plate_w, y + plate_h], [x, y + plate_h]], np.float32)
            quad += rng.normal(0, 0.08 * plate_h, quad.shape).astype(np.float32)
            source = np.array([[0, 0], [plate.shape[1], 0], [plate.shape[1], plate.shape[0]], [0, plate.shape[0]]],
                              np.float32)
            warp = cv2.getPerspectiveTransform(source, quad)
            pasted = cv2.warpPerspective(plate, warp, (width, height), flags=cv2.INTER_AREA)
            mask = cv2.warpPerspective(np.full(plate.shape, 255, np.uint8), warp, (width, height))
            # Soft edges: a hard seam would be a cue real plates do not give.
            alpha = cv2.GaussianBlur(mask, (3, 3), 0).astype(np.float32) / 255
            canvas = (canvas * (1 - alpha) + pasted * alpha).astype(np.uint8)
            x0, y0 = quad.min(axis=0)
            x1, y1 = quad.max(axis=0)
            boxes.append((float(x0), float(y0), float(x1), float(y1)))
        return Scene(canvas, tuple(boxes))


def _photometric(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = image.astype(np.float32)
    out = 255 * (out / 255) ** np.exp(rng.normal(0, 0.3))
    out = out * rng.uniform(0.6, 1.3) + rng.uniform(-35, 35)
    if rng.random() < 0.4:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.3, 1.2))
    out += rng.normal(0, rng.uniform(0, 8), out.shape)
    out = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < 0.6:
        ok, jpeg = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 95))])
        out = cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE) if ok else out
    return out


def example(scene: Scene, rng: np.random.Generator) -> tuple[np.ndarray, list[CornerBox]]:
    """A random window of the scene fitted into the input as the runtime fits an ROI; its boxes."""
    height, width = scene.image.shape
    if rng.random() < 0.3:
        x0, y0, w, h = 0, 0, width, height
    else:
        w = int(width * rng.uniform(0.45, 1.0))
        h = int(min(height, w / rng.uniform(1.2, 2.2)))
        x0, y0 = int(rng.integers(0, width - w + 1)), int(rng.integers(0, height - h + 1))
    image, scale = letterbox(scene.image[y0:y0 + h, x0:x0 + w])
    boxes = []
    for bx0, by0, bx1, by1 in scene.boxes:
        cx, cy = (bx0 + bx1) / 2, (by0 + by1) / 2
        if x0 <= cx < x0 + w and y0 <= cy < y0 + h:
            boxes.append(((max(bx0, x0) - x0) * scale, (max(by0, y0) - y0) * scale,
                          (min(bx1, x0 + w) - x0) * scale, (min(by1, y0 + h) - y0) * scale))
    return _photometric(image, rng), boxes


def targets(boxes: list[CornerBox]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Heat map (H x W), and at each plate's centre cell: size, offset (4 x H x W), and a mask (H x W)."""
    gw, gh = _W // STRIDE, _H // STRIDE
    heat = np.zeros((gh, gw), np.float32)
    regress = np.zeros((4, gh, gw), np.float32)
    mask = np.zeros((gh, gw), np.float32)
    ys, xs = np.mgrid[0:gh, 0:gw].astype(np.float32)
    for x0, y0, x1, y1 in boxes:
        w, h = max(1.0, x1 - x0) / STRIDE, max(1.0, y1 - y0) / STRIDE
        cx, cy = (x0 + x1) / 2 / STRIDE, (y0 + y1) / 2 / STRIDE
        ix, iy = min(gw - 1, int(cx)), min(gh - 1, int(cy))
        # A Gaussian over the plate, a sixth of its size: cells near the centre are not punished as hard.
        sx, sy = max(0.6, w / 6), max(0.6, h / 6)
        heat = np.maximum(heat, np.exp(-((xs - ix) ** 2 / (2 * sx * sx) + (ys - iy) ** 2 / (2 * sy * sy))))
        regress[:, iy, ix] = (np.log(w), np.log(h), cx - ix, cy - iy)
        mask[iy, ix] = 1.0
    return heat, regress, mask


def _conv(inputs: int, outputs: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(inputs, outputs, 3, stride, 1, bias=False), nn.BatchNorm2d(outputs),
                         nn.ReLU(inplace=True))


class PlateDetectorNet(nn.Module):
    """384 x 224 grey -> heat (1), size (2), offset (2) on a 96 x 56 grid; a small U-shaped network."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(_conv(1, 16, 2), _conv(16, 24, 2))  # 1/4
        self.down8 = nn.Sequential(_conv(24, 48, 2), _conv(48, 48))
        self.down16 = nn.Sequential(_conv(48, 64, 2), _conv(64, 64))
        self.down32 = nn.Sequential(_conv(64, 96, 2), _conv(96, 96))
        self.lateral16 = nn.Conv2d(96, 64, 1)
        self.up16 = _conv(64, 64)
        self.lateral8 = nn.Conv2d(64, 48, 1)
        self.up8 = _conv(48, 32)
        self.lateral4 = nn.Conv2d(32, 24, 1)
        self.up4 = _conv(24, 24)
        self.heat = nn.Conv2d(24, 1, 1)
        self.box = nn.Conv2d(24, 4, 1)
        nn.init.constant_(self.heat.bias, -4.6)  # start near "no plate anywhere" (CenterNet's prior)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x4 = self.stem(image / 127.5 - 1.0)
        x8 = self.down8(x4)
        x16 = self.down16(x8)
        x32 = self.down32(x16)
        up = nn.functional.interpolate
        y16 = self.up16(x16 + up(self.lateral16(x32), size=x16.shape[2:], mode="nearest"))
        y8 = self.up8(x8 + up(self.lateral8(y16), size=x8.shape[2:], mode="nearest"))
        y4 = self.up4(x4 + up(self.lateral4(y8), size=x4.shape[2:], mode="nearest"))
        return self.heat(y4), self.box(y4)


class _Exported(nn.Module):
    def __init__(self, net: PlateDetectorNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        heat, box = self.net(image)
        return torch.sigmoid(heat), box


def focal_loss(logits: torch.Tensor, heat: torch.Tensor) -> torch.Tensor:
    """CenterNet's penalty-reduced focal loss, per plate."""
    p = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    positive = heat.eq(1).float()
    pos = -torch.log(p) * (1 - p) ** 2 * positive
    neg = -torch.log(1 - p) * p ** 2 * (1 - heat) ** 4 * (1 - positive)
    return (pos.sum() + neg.sum()) / positive.sum().clamp(min=1)


def iou(a: CornerBox, b: CornerBox) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def held_out_scores(detect, scenes: list[Scene], threshold: float) -> dict[str, float]:
    """Plates found among the top 3 boxes, and the precision of the boxes above the threshold."""
    plates = found = kept = right = 0
    for scene in scenes:
        boxes = detect(scene.image)
        top = [b for b, _ in boxes[:3]]
        plates += len(scene.boxes)
        found += sum(any(iou(t, b) >= MATCH_IOU for b in top) for t in scene.boxes)
        sure = [b for b, s in boxes if s >= threshold]
        kept += len(sure)
        right += sum(any(iou(t, b) >= MATCH_IOU for t in scene.boxes) for b in sure)
    return {"top3_recall": found / max(1, plates), "precision": right / max(1, kept), "plates": plates}


def torch_detector(net: PlateDetectorNet, device: torch.device):
    def detect(image: np.ndarray) -> list[tuple[CornerBox, float]]:
        fitted, scale = letterbox(image)
        with torch.no_grad():
            heat, box = net(torch.from_numpy(fitted).float()[None, None].to(device))
        peaks = decode_peaks(torch.sigmoid(heat)[0, 0].float().cpu().numpy(), box[0, :2].float().cpu().numpy(),
                             box[0, 2:].float().cpu().numpy(), 0.05, 10)
        return [(tuple(v / scale for v in p.box), p.score) for p in peaks]
    return detect


def _batch(examples: list[tuple[np.ndarray, list[CornerBox]]], device: torch.device
           ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Images and their training targets (heat map, box regression, where boxes are) as tensors."""
    images = [image for image, _ in examples]
    heats, regresses, masks = zip(*(targets(boxes) for _, boxes in examples), strict=True)
    return (torch.from_numpy(np.stack(images)).float()[:, None].to(device),
            torch.from_numpy(np.stack(heats))[:, None].to(device),
            torch.from_numpy(np.stack(regresses)).to(device),
            torch.from_numpy(np.stack(masks))[:, None].to(device))


def train(args: argparse.Namespace) -> PlateDetectorNet:
    device = torch.device("cuda" if torch.cuda.is_available() and not args.cpu else "cpu")
    if device.type == "cpu":
        torch.set_num_threads(args.threads)
    autocast = device.type == "cuda" or bf16_cpu()
    torch.manual_seed(args.seed)
    frames: list[BoxedFrame] = pickle.loads((BUILD / "frames.pkl").read_bytes())
    crops: list[RealCrop] = pickle.loads((BUILD / "crops.pkl").read_bytes())
    train_scenes = real_scenes([f for f in frames if f.split == "train"])
    held = real_scenes([f for f in frames if f.split == "val"])
    synthetic = synthetic_scenes(args.synthetic, args.seed)
    detector = BUILD / "sources" / "train_detector"
    plates = [c.image for c in crops if c.split == "train"] + [
        img for folder in ("eu", "eu2") for img in (cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)
                                                    for p in sorted((detector / folder).iterdir())) if img is not None]
    negatives = [BUILD / p for p in (BUILD / "negatives.txt").read_text(encoding="utf-8").split()]
    paster = Paster(plates, negatives)
    print(f"device {device}, autocast {autocast}: {len(train_scenes)} real frames, {len(synthetic)} synthetic, "
          f"{len(plates)} plates to paste into {len(negatives)} images; {len(held)} held-out frames", flush=True)
    net = PlateDetectorNet().to(device)
    optimiser = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    steps = args.epochs * args.steps
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=args.lr, total_steps=steps, pct_start=0.1)
    rng = np.random.default_rng(args.seed)
    best, best_state = -1.0, None
    for epoch in range(args.epochs):
        started = time.time()
        running = 0.0
        for _ in range(args.steps):
            scenes = []
            for _ in range(args.batch):
                kind = rng.random()
                scene = (train_scenes[int(rng.integers(len(train_scenes)))] if kind < 0.45
                         else paster.scene(rng) if kind < 0.8 else synthetic[int(rng.integers(len(synthetic)))])
                scenes.append(example(scene, rng))
            x, heat_t, regress_t, mask_t = _batch(scenes, device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
                heat_logits, box = net(x)
            heat_loss = focal_loss(heat_logits.float(), heat_t)
            box_loss = (torch.abs(box.float() - regress_t) * mask_t).sum() / mask_t.sum().clamp(min=1)
            loss = heat_loss + 0.5 * box_loss
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            running += loss.item()
        net.eval()
        scores = held_out_scores(torch_detector(net, device), held, args.threshold)
        net.train()
        print(f"epoch {epoch + 1}/{args.epochs}: loss {running / args.steps:.4f}, held out: plates in the top 3 "
              f"{scores['top3_recall']:.3f}, precision above {args.threshold} {scores['precision']:.3f} "
              f"({time.time() - started:.0f} s)", flush=True)
        if scores["top3_recall"] + 0.5 * scores["precision"] > best:
            best = scores["top3_recall"] + 0.5 * scores["precision"]
            best_state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
            torch.save(best_state, BUILD / "plate_detector.pt")
    net.load_state_dict(best_state)
    return net.to("cpu").eval()


def export(net: PlateDetectorNet, path: Path = MODEL_FILE) -> str:
    """ONNX: input `image` (1, 1, 224, 384) grey 0-255; outputs `heat` (1, 1, 56, 96) and `box` (1, 4, 56, 96)."""
    torch.onnx.export(_Exported(net).eval(), torch.zeros(1, 1, _H, _W), str(path), input_names=["image"],
                      output_names=["heat", "box"], opset_version=17, dynamo=False)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def onnx_latency_ms(path: Path, threads: int = 2, runs: int = 50) -> float:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    x = np.zeros((1, 1, _H, _W), np.float32)
    for _ in range(5):
        session.run(None, {"image": x})
    started = time.perf_counter()
    for _ in range(runs):
        session.run(None, {"image": x})
    return (time.perf_counter() - started) / runs * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--steps", type=int, default=250, help="batches per epoch")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--synthetic", type=int, default=1500, help="synthetic scene frames (cached)")
    parser.add_argument("--threshold", type=float, default=0.3, help="score of a box counted as a plate")
    add_run_arguments(parser)
    args = parser.parse_args(argv)
    if not (BUILD / "frames.pkl").is_file():
        raise SystemExit("run models/plate_data.py first: it builds the real training data")
    started = time.time()
    net = train(args)
    if not args.no_write:
        digest = export(net)
        record_sha256("plate_detector", digest)
        print(f"wrote {MODEL_FILE.name} ({MODEL_FILE.stat().st_size // 1024} kB, sha256 {digest}); "
              f"onnxruntime on 2 threads: {onnx_latency_ms(MODEL_FILE):.2f} ms per input")
    print(f"done in {(time.time() - started) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
