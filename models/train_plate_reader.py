"""Train the plate reader (models/plate_reader.onnx): a compact CNN that reads a whole plate crop.

The network takes the box a detector drew around one plate, grey, scaled to 128 x 64, and gives
for each of 10 character slots a probability over "no character" and A-Z0-9 (the slots are the
plate's characters left to right, then "no character"; a two-line plate's top line comes first).
This is the design of fast-plate-ocr: a fixed-size input, convolutions, one dense layer to the
slots. Every layer is trained here, from scratch.

Data (`models/plate_data.py` builds the real part; the manifest's [training_sources] name it):
- real crops: Brazilian plates (openalpr/train-detector, AGPL-3.0) and Spanish plates (UC3M-LP,
  ODbL) whose two masked characters are left out of the loss, each seen through a new random
  camera view (plate_views.py) every time it is drawn;
- synthetic plates (plate_synth.py: generic fonts, region layouts, real character tiles from
  openalpr/train-ocr, AGPL-3.0), rendered once into a cached set, each through its own view;
- pieces of images without plates (openalpr/train-detector raw-neg), to be read as no characters:
  a detector's false box must not come back as a confident plate.

A tenth of the real plate texts is held out (plate_data.py's split) with 5,000 synthetic plates
of another seed; the exact-read share on them is printed after every epoch, and the best epoch's
weights are kept.

Run (CPU: about 1,100 samples/s on two cores with bfloat16 where the CPU has AMX; a GPU is
used when torch sees one):

    .venv/bin/python models/plate_data.py --sources DIR        # once: the real data
    .venv/bin/python models/train_plate_reader.py             # render, train, export, manifest
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import pickle
import re
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from plate_data import BUILD, HIDDEN, MODELS, RealCrop
from plate_synth import Backgrounds, Tiles, generic_plate, region_plate, tile_plate
from plate_views import INPUT_SIZE, camera_view, crop_quad

from edge.plates.formats import ALPHABET

SLOTS = 10
CLASSES = 1 + len(ALPHABET)  # class 0: no character
IGNORE = -100  # a masked character: no loss
MODEL_FILE = MODELS / "plate_reader.onnx"
_WIDTH, _HEIGHT = INPUT_SIZE


def _block(inputs: int, outputs: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(inputs, outputs, 3, stride, 1, bias=False), nn.BatchNorm2d(outputs),
                         nn.ReLU(inplace=True))


class PlateReaderNet(nn.Module):
    """128 x 64 grey (0-255) -> SLOTS x CLASSES probabilities. 1.35 M parameters, ~60 M multiply-adds.

    Two strided convolutions first (the plate's strokes are several pixels wide at this size),
    then pairs of 3x3 convolutions at 32 x 16 and 16 x 8; the dense layer sees all 4 x 8 places, so
    each slot learns where its character may stand.
    """

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            _block(1, 32, 2), _block(32, 48, 2), _block(48, 64), _block(64, 64), nn.MaxPool2d(2),
            _block(64, 96), _block(96, 96), nn.MaxPool2d(2))
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(96 * (_HEIGHT // 16) * (_WIDTH // 16),
                                                                            SLOTS * CLASSES))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Logits (N, SLOTS, CLASSES) of (N, 1, 64, 128) images in 0-255."""
        return self.head(self.features(image / 127.5 - 1.0)).view(-1, SLOTS, CLASSES)


class _Probabilities(nn.Module):
    """What is exported: the network with its softmax."""

    def __init__(self, net: PlateReaderNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net(image), dim=-1)


def slot_labels(text: str) -> np.ndarray:
    labels = np.zeros(SLOTS, np.int64)
    for i, char in enumerate(text[:SLOTS]):
        labels[i] = IGNORE if char == HIDDEN else 1 + ALPHABET.index(char)
    return labels


# --- the synthetic set, rendered once ------------------------------------------------------------

def _render(job: tuple[int, int, int]) -> tuple[np.ndarray, list[str]]:
    """`count` synthetic views from seed `seed + start` (one generator per plate: any slice is reproducible)."""
    start, count, seed = job
    negatives = [BUILD / p for p in (BUILD / "negatives.txt").read_text(encoding="utf-8").split()]
    backgrounds = Backgrounds(negatives)
    tiles = Tiles([BUILD / "sources" / "train_ocr" / "gb" / "chars", BUILD / "sources" / "train_ocr" / "br" / "chars"])
    images = np.empty((count, _HEIGHT, _WIDTH), np.uint8)
    texts = []
    for i in range(count):
        rng = np.random.default_rng(seed + start + i)
        kind = rng.random()
        plate = (generic_plate(rng) if kind < 0.45 else region_plate(rng, backgrounds) if kind < 0.8
                 else tile_plate(rng, tiles, backgrounds))
        images[i] = camera_view(plate.image, plate.quad, rng)
        texts.append(plate.text)
    return images, texts


def synthetic_set(count: int, seed: int, workers: int) -> tuple[np.ndarray, list[str]]:
    cache = BUILD / f"synthetic-{seed}-{count}.npz"
    if cache.is_file():
        data = np.load(cache)
        return data["images"], [str(t) for t in data["texts"]]
    started = time.time()
    chunk = 2000
    jobs = [(start, min(chunk, count - start), seed) for start in range(0, count, chunk)]
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        parts = pool.map(_render, jobs)
    images = np.concatenate([p[0] for p in parts])
    texts = [t for p in parts for t in p[1]]
    np.savez(cache, images=images, texts=np.array(texts))
    print(f"rendered {count} synthetic plates (seed {seed}) in {time.time() - started:.0f} s", flush=True)
    return images, texts


# --- real plates and negatives, viewed anew each time --------------------------------------------

class RealViews:
    def __init__(self, crops: list[RealCrop], negatives: list[Path]) -> None:
        self.crops = crops
        self.labels = np.stack([slot_labels(c.text) for c in crops])
        self.negatives = [img for img in (_grey(p) for p in negatives[:600]) if img is not None]

    def batch(self, count: int, negatives: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        picks = rng.integers(len(self.crops), size=count)
        images = [camera_view(self.crops[i].image, crop_quad(self.crops[i].image), rng, real=True) for i in picks]
        labels = [self.labels[i] for i in picks]
        for _ in range(negatives):
            images.append(self._background(rng))
            labels.append(np.zeros(SLOTS, np.int64))
        return np.stack(images), np.stack(labels)

    def _background(self, rng: np.random.Generator) -> np.ndarray:
        """A plate-shaped piece of an image without plates."""
        image = self.negatives[int(rng.integers(len(self.negatives)))]
        h, w = image.shape
        bw = int(min(w, rng.uniform(30, 300)))
        bh = int(min(h, bw / rng.uniform(1.5, 5.0)))
        x, y = int(rng.integers(0, w - bw + 1)), int(rng.integers(0, h - bh + 1))
        return camera_view(image, np.array([[x, y], [x + bw, y], [x + bw, y + bh], [x, y + bh]], np.float32),
                           rng, real=True)


def _grey(path: Path) -> np.ndarray | None:
    return cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)


def tight_view(image: np.ndarray) -> np.ndarray:
    """A crop as it is, scaled to the input: the held-out check (no random view)."""
    return cv2.resize(image, INPUT_SIZE, interpolation=cv2.INTER_AREA)


# --- training -------------------------------------------------------------------------------------

def _bf16_cpu() -> bool:
    """bfloat16 autocast pays on CPUs with AMX or AVX-512 BF16 (3x here); elsewhere it is slower."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return bool(re.search(r"\b(amx_bf16|avx512_bf16)\b", flags))


def evaluate(net: PlateReaderNet, images: np.ndarray, labels: np.ndarray, device: torch.device) -> dict[str, float]:
    """Exact reads (every labelled slot right) and character accuracy over the labelled slots."""
    net.eval()
    exact = chars = total = 0
    with torch.no_grad():
        for start in range(0, len(images), 512):
            x = torch.from_numpy(images[start:start + 512]).float().unsqueeze(1).to(device)
            predicted = net(x).argmax(-1).cpu().numpy()
            truth = labels[start:start + 512]
            known = truth != IGNORE
            right = (predicted == truth) | ~known
            exact += int(right.all(axis=1).sum())
            chars += int(((predicted == truth) & known).sum())
            total += int(known.sum())
    net.train()
    return {"exact": exact / max(1, len(images)), "chars": chars / max(1, total)}


def train(args: argparse.Namespace) -> PlateReaderNet:
    device = torch.device("cuda" if torch.cuda.is_available() and not args.cpu else "cpu")
    torch.manual_seed(args.seed)
    if device.type == "cpu":
        torch.set_num_threads(args.threads)
    autocast = device.type == "cuda" or _bf16_cpu()
    crops: list[RealCrop] = pickle.loads((BUILD / "crops.pkl").read_bytes())
    negatives = [BUILD / p for p in (BUILD / "negatives.txt").read_text(encoding="utf-8").split()]
    real = RealViews([c for c in crops if c.split == "train"], negatives)
    held = [c for c in crops if c.split == "val"]
    checks = {
        "real-br": (np.stack([tight_view(c.image) for c in held if c.region == "br"]),
                    np.stack([slot_labels(c.text) for c in held if c.region == "br"])),
        "real-es": (np.stack([tight_view(c.image) for c in held if c.region == "es"]),
                    np.stack([slot_labels(c.text) for c in held if c.region == "es"])),
    }
    synth_images, synth_texts = synthetic_set(args.synthetic, args.seed, args.workers)
    synth_labels = np.stack([slot_labels(t) for t in synth_texts])
    check_images, check_texts = synthetic_set(5000, args.seed + 10_000_000, args.workers)
    checks["synthetic"] = (check_images, np.stack([slot_labels(t) for t in check_texts]))

    net = PlateReaderNet().to(device)
    if device.type == "cpu":
        net = net.to(memory_format=torch.channels_last)
    real_per_batch = round(args.batch * args.real_share)
    negatives_per_batch = max(1, round(args.batch * 0.03))
    synth_per_batch = args.batch - real_per_batch - negatives_per_batch
    steps_per_epoch = len(synth_images) // synth_per_batch
    optimiser = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch,
                                                   pct_start=0.15)
    loss_fn = nn.CrossEntropyLoss(ignore_index=IGNORE)
    rng = np.random.default_rng(args.seed)
    best, best_state = -1.0, None
    print(f"device {device}, autocast {autocast}, {sum(p.numel() for p in net.parameters())} parameters, "
          f"{steps_per_epoch} steps x {args.batch} per epoch", flush=True)
    for epoch in range(args.epochs):
        started = time.time()
        order = rng.permutation(len(synth_images))
        running = 0.0
        for step in range(steps_per_epoch):
            picks = order[step * synth_per_batch:(step + 1) * synth_per_batch]
            real_images, real_labels = real.batch(real_per_batch, negatives_per_batch, rng)
            images = np.concatenate([synth_images[picks], real_images])
            labels = np.concatenate([synth_labels[picks], real_labels])
            x = torch.from_numpy(images).float().unsqueeze(1).to(device)
            if device.type == "cpu":
                x = x.contiguous(memory_format=torch.channels_last)
            y = torch.from_numpy(labels).to(device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
                logits = net(x)
            loss = loss_fn(logits.float().reshape(-1, CLASSES), y.reshape(-1))
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            running += loss.item()
        scores = {name: evaluate(net, *data, device) for name, data in checks.items()}
        # Kept by the real held-out plates first (what the product reads), synthetic as a tie-break.
        score = scores["real-br"]["exact"] + scores["real-es"]["chars"] + 0.5 * scores["synthetic"]["exact"]
        words = ", ".join(f"{name} exact {s['exact']:.3f} chars {s['chars']:.3f}" for name, s in scores.items())
        print(f"epoch {epoch + 1}/{args.epochs}: loss {running / steps_per_epoch:.4f}, {words} "
              f"({time.time() - started:.0f} s)", flush=True)
        if score > best:
            best, best_state = score, {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
            torch.save(best_state, BUILD / "plate_reader.pt")
    net.load_state_dict(best_state)
    return net.to("cpu").to(memory_format=torch.contiguous_format).eval()


def export(net: PlateReaderNet, path: Path = MODEL_FILE) -> str:
    """Write the ONNX file (input `image` N x 1 x 64 x 128, 0-255; output `slots` N x SLOTS x CLASSES)."""
    torch.onnx.export(_Probabilities(net).eval(), torch.zeros(1, 1, _HEIGHT, _WIDTH), str(path),
                      input_names=["image"], output_names=["slots"],
                      dynamic_axes={"image": {0: "batch"}, "slots": {0: "batch"}}, opset_version=17, dynamo=False)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def record_sha256(name: str, digest: str, manifest: Path = MODELS / "manifest.toml") -> None:
    """Put the new file's sha256 into its manifest entry (the runtime refuses any other file)."""
    text = manifest.read_text(encoding="utf-8")
    pattern = re.compile(rf'(\[{re.escape(name)}\][^\[]*?sha256 = ")[0-9a-f]*(")', re.S)
    if not pattern.search(text):
        raise SystemExit(f"models/manifest.toml has no [{name}] entry with a sha256 line")
    manifest.write_text(pattern.sub(rf"\g<1>{digest}\g<2>", text), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--synthetic", type=int, default=200_000, help="synthetic plates rendered (cached)")
    parser.add_argument("--epochs", type=int, default=16)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--real-share", type=float, default=0.35, help="share of each batch from real crops")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="processes that render the synthetic set")
    parser.add_argument("--cpu", action="store_true", help="train on the CPU even when a GPU is there")
    parser.add_argument("--no-write", action="store_true", help="train and check only; keep the committed model")
    args = parser.parse_args(argv)
    if not (BUILD / "crops.pkl").is_file():
        raise SystemExit("run models/plate_data.py first: it builds the real training data")
    started = time.time()
    net = train(args)
    if not args.no_write:
        digest = export(net)
        record_sha256("plate_reader", digest)
        print(f"wrote {MODEL_FILE.name} ({MODEL_FILE.stat().st_size // 1024} kB, sha256 {digest})")
    print(f"done in {(time.time() - started) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
