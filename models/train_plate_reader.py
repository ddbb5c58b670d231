"""Train the plate reader (models/plate_reader.onnx): a compact CNN that reads a whole plate at once.

The network takes the box a detector drew around one plate, grey, scaled to 128 x 64 without
keeping the aspect, and gives for each of its 32 columns a probability over "no character",
A-Z0-9 and "a masked character" (below), read with CTC: a column only has to know the glyph
under it, not how many came before it. Every layer is trained here, from scratch (0.5 M
parameters, ~100 M multiply-adds, ~2 ms a plate on onnxruntime).

Two other designs were trained on the same data and schedule and measured against it
(docs/models.md, "The plate models and how they were trained"): the same convolutions with a dense
head into 10 character slots (fast-plate-ocr's design), which read out-of-domain plates far worse
(characters shifted by a slot), and EasyOCR's english_g2 with every layer trained further
(`--network g2`), kept as an option here.

Data (`models/plate_data.py` builds the real part; the manifest's [training_sources] name it):
- real crops: Brazilian plates (openalpr/train-detector, AGPL-3.0) and Spanish plates (UC3M-LP,
  ODbL), each seen through a new random camera view (plate_views.py) every time it is drawn.
  UC3M-LP hides two characters of each plate under a grey box: the network learns those boxes as
  "a masked character", which the export folds into "no character" (no real plate has them);
- synthetic plates (plate_synth.py: generic fonts, region layouts, real character tiles from
  openalpr/train-ocr, AGPL-3.0), rendered once into a cached set, each through its own view;
- pieces of images without plates (openalpr/train-detector raw-neg), read as no characters: a
  detector's false box must not come back as a confident plate.
Two-line real crops are left out (CTC reads one line; the runtime reads a squarish plate's halves).

A tenth of the real plate texts is held out (plate_data.py's split) with 5,000 synthetic plates
of another seed; the exact-read share on them is printed after every epoch, and the best epoch's
weights are kept.

Run (CPU: about 500 samples/s on two cores with bfloat16 where the CPU has AMX, ~6 min an epoch;
a GPU is used when torch sees one):

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

CLASSES = 2 + len(ALPHABET)  # 0: no character; 1-36: ALPHABET; 37: a masked character
MASKED = CLASSES - 1
MODEL_FILE = MODELS / "plate_reader.onnx"
_WIDTH, _HEIGHT = INPUT_SIZE


def _block(inputs: int, outputs: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(inputs, outputs, 3, stride, 1, bias=False), nn.BatchNorm2d(outputs),
                         nn.ReLU(inplace=True))


class PlateReaderNet(nn.Module):
    """128 x 64 grey (0-255) -> 32 columns x CLASSES logits.

    Two strided convolutions first (a plate's strokes are several pixels wide at this size), then
    pairs of 3x3 convolutions; pooling halves the height only, so the 32 columns stay, and a last
    convolution across three columns at a time gives each column its classes.
    """

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            _block(1, 32, 2), _block(32, 48, 2), _block(48, 64), _block(64, 64), nn.MaxPool2d((2, 1)),
            _block(64, 96), _block(96, 96), nn.MaxPool2d((2, 1)))
        self.columns = nn.Sequential(
            nn.Conv1d(96 * (_HEIGHT // 16), 256, 3, padding=1), nn.ReLU(inplace=True), nn.Dropout(0.2),
            nn.Conv1d(256, CLASSES, 1))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = self.features(image / 127.5 - 1.0)  # N x 96 x 4 x 32
        return self.columns(x.flatten(1, 2)).transpose(1, 2)  # N x 32 x CLASSES


class G2PlateNet(nn.Module):
    """EasyOCR's english_g2 (as released) reading the same 128 x 64 plate view; every layer trained.
    Its 97 classes are folded onto ours (lower case onto upper, symbols onto "no character", `#` is
    the masked character), so it returns log-probabilities over CLASSES."""

    def __init__(self) -> None:
        super().__init__()
        from export_plate_ocr import CHARACTERS, load_recogniser

        self.g2 = load_recogniser(sequence=None)
        fold = torch.zeros(len(CHARACTERS) + 1, CLASSES)
        fold[0, 0] = 1.0
        for index, char in enumerate(CHARACTERS, start=1):
            upper = char.upper()
            column = MASKED if char == "#" else 1 + ALPHABET.index(upper) if upper in ALPHABET else 0
            fold[index, column] = 1.0
        self.register_buffer("fold", fold)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        probs = torch.softmax(self.g2(image / 127.5 - 1.0).float(), dim=-1) @ self.fold
        return torch.log(probs.clamp(min=1e-8))


class _Folded(nn.Module):
    """What is exported: per-column probabilities (N x 32 x 37), the masked class folded into
    "no character"."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        probs = torch.softmax(self.net(image), dim=-1)
        return torch.cat([probs[..., :1] + probs[..., MASKED:], probs[..., 1:MASKED]], dim=-1)


def targets(text: str) -> list[int]:
    return [MASKED if c == HIDDEN else 1 + ALPHABET.index(c) for c in text]


def greedy(logits: np.ndarray) -> list[str]:
    """The best path of each row of N x T x CLASSES, as text (HIDDEN for a masked character)."""
    out = []
    for row in logits.argmax(-1):
        chars, previous = [], 0
        for c in row:
            if c != previous and c != 0:
                chars.append(HIDDEN if c == MASKED else ALPHABET[c - 1])
            previous = c
        out.append("".join(chars))
    return out


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
        self.negatives = [img for img in (cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in negatives[:600])
                          if img is not None]

    def batch(self, count: int, negatives: int, rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
        """`count` real plates and `negatives` pieces of plate-free images, with their texts."""
        picks = rng.integers(len(self.crops), size=count)
        images = [camera_view(self.crops[i].image, crop_quad(self.crops[i].image), rng, real=True) for i in picks]
        images += [self._background(rng) for _ in range(negatives)]
        return np.stack(images), [self.crops[i].text for i in picks] + [""] * negatives

    def _background(self, rng: np.random.Generator) -> np.ndarray:
        """A plate-shaped piece of an image without plates."""
        image = self.negatives[int(rng.integers(len(self.negatives)))]
        h, w = image.shape
        bw = int(min(w, rng.uniform(30, 300)))
        bh = int(min(h, bw / rng.uniform(1.5, 5.0)))
        x, y = int(rng.integers(0, w - bw + 1)), int(rng.integers(0, h - bh + 1))
        return camera_view(image, np.array([[x, y], [x + bw, y], [x + bw, y + bh], [x, y + bh]], np.float32),
                           rng, real=True)


def tight_view(image: np.ndarray) -> np.ndarray:
    """A crop as it is, scaled to the input: the held-out check (no random view)."""
    return cv2.resize(image, INPUT_SIZE, interpolation=cv2.INTER_AREA)


# --- training -------------------------------------------------------------------------------------

def bf16_cpu() -> bool:
    """bfloat16 autocast pays on CPUs with AMX or AVX-512 BF16 (3x here); elsewhere it is slower."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return bool(re.search(r"\b(amx_bf16|avx512_bf16)\b", flags))


def evaluate(net: nn.Module, images: np.ndarray, texts: list[str], device: torch.device) -> float:
    """The share of exact reads (best path)."""
    net.eval()
    right = 0
    with torch.no_grad():
        for start in range(0, len(images), 512):
            x = torch.from_numpy(images[start:start + 512]).float().unsqueeze(1).to(device)
            read = greedy(net(x).float().cpu().numpy())
            right += sum(p == t for p, t in zip(read, texts[start:start + 512], strict=True))
    net.train()
    return right / max(1, len(images))


def _ctc_step(net: nn.Module, images: np.ndarray, texts: list[str], ctc: nn.CTCLoss,
              optimiser: torch.optim.Optimizer, device: torch.device, autocast: bool) -> float:
    """One optimiser step on a batch of line images and their texts; returns the CTC loss."""
    x = torch.from_numpy(images).float().unsqueeze(1).to(device)
    if device.type == "cpu":
        x = x.contiguous(memory_format=torch.channels_last)
    flat = torch.tensor([t for text in texts for t in targets(text)], dtype=torch.long)
    lengths = torch.tensor([len(text) for text in texts], dtype=torch.long)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
        logits = net(x)
    log_probs = logits.float().log_softmax(-1).transpose(0, 1)  # T x N x C
    columns = torch.full((len(texts),), log_probs.shape[0], dtype=torch.long)
    loss = ctc(log_probs, flat.to(device), columns, lengths)
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    optimiser.step()
    return loss.item()


def train(args: argparse.Namespace) -> nn.Module:
    device = torch.device("cuda" if torch.cuda.is_available() and not args.cpu else "cpu")
    torch.manual_seed(args.seed)
    if device.type == "cpu":
        torch.set_num_threads(args.threads)
    autocast = device.type == "cuda" or bf16_cpu()
    crops: list[RealCrop] = [c for c in pickle.loads((BUILD / "crops.pkl").read_bytes()) if not c.two_line]
    negatives = [BUILD / p for p in (BUILD / "negatives.txt").read_text(encoding="utf-8").split()]
    real = RealViews([c for c in crops if c.split == "train"], negatives)
    held = [c for c in crops if c.split == "val"]
    checks = {region: (np.stack([tight_view(c.image) for c in held if c.region == region]),
                       [c.text for c in held if c.region == region]) for region in ("br", "es")}
    synth_images, synth_texts = synthetic_set(args.synthetic, args.seed, args.workers)
    checks["synthetic"] = synthetic_set(5000, args.seed + 10_000_000, args.workers)
    net = (PlateReaderNet() if args.network == "cnn" else G2PlateNet()).to(device)
    if device.type == "cpu":
        net = net.to(memory_format=torch.channels_last)
    real_per_batch = round(args.batch * args.real_share)
    negatives_per_batch = max(1, round(args.batch * 0.03))
    synth_per_batch = args.batch - real_per_batch - negatives_per_batch
    steps_per_epoch = min(args.steps or len(synth_images), len(synth_images) // synth_per_batch)
    optimiser = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch,
                                                   pct_start=0.15)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    rng = np.random.default_rng(args.seed)
    best, best_state = -1.0, None
    print(f"{args.network} on {device}, autocast {autocast}, {sum(p.numel() for p in net.parameters())} parameters, "
          f"{steps_per_epoch} steps x {args.batch} per epoch", flush=True)
    for epoch in range(args.epochs):
        started = time.time()
        order = rng.permutation(len(synth_images))
        running = 0.0
        for step in range(steps_per_epoch):
            picks = order[step * synth_per_batch:(step + 1) * synth_per_batch]
            real_images, real_texts = real.batch(real_per_batch, negatives_per_batch, rng)
            texts = [synth_texts[i] for i in picks] + real_texts
            images = np.concatenate([synth_images[picks], real_images])
            running += _ctc_step(net, images, texts, ctc, optimiser, device, autocast)
            schedule.step()
        scores = {name: evaluate(net, images, texts, device) for name, (images, texts) in checks.items()}
        # Kept by the real held-out plates first (what the product reads), synthetic as a tie-break.
        score = scores["br"] + scores["es"] + 0.5 * scores["synthetic"]
        words = ", ".join(f"{name} exact {s:.3f}" for name, s in scores.items())
        print(f"epoch {epoch + 1}/{args.epochs}: loss {running / steps_per_epoch:.4f}, {words} "
              f"({time.time() - started:.0f} s)", flush=True)
        if score > best:
            best, best_state = score, {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
            torch.save(best_state, BUILD / f"plate_reader_{args.network}.pt")
    net.load_state_dict(best_state)
    return net.to("cpu").to(memory_format=torch.contiguous_format).eval()


def export(net: nn.Module, path: Path = MODEL_FILE) -> str:
    """Write the ONNX file (input `image` N x 1 x 64 x 128, 0-255; output `steps` N x 32 x 37)."""
    torch.onnx.export(_Folded(net).eval(), torch.zeros(1, 1, _HEIGHT, _WIDTH), str(path), input_names=["image"],
                      output_names=["steps"], dynamic_axes={"image": {0: "batch"}, "steps": {0: "batch"}},
                      opset_version=17, dynamo=False)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def record_sha256(name: str, digest: str, manifest: Path = MODELS / "manifest.toml") -> None:
    """Put the new file's sha256 into its manifest entry (the runtime refuses any other file)."""
    text = manifest.read_text(encoding="utf-8")
    pattern = re.compile(rf'(\[{re.escape(name)}\][^\[]*?sha256 = ")[0-9a-f]*(")', re.S)
    if not pattern.search(text):
        raise SystemExit(f"models/manifest.toml has no [{name}] entry with a sha256 line")
    manifest.write_text(pattern.sub(rf"\g<1>{digest}\g<2>", text), encoding="utf-8")


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every plate training script has: seed, threads, device, and whether to write the model."""
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cpu", action="store_true", help="train on the CPU even when a GPU is there")
    parser.add_argument("--no-write", action="store_true", help="train and check only; keep the committed model")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--network", choices=("cnn", "g2"), default="cnn",
                        help="the compact CNN (default) or EasyOCR's english_g2, every layer trained")
    parser.add_argument("--synthetic", type=int, default=150_000, help="synthetic plates rendered (cached)")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--steps", type=int, default=0, help="batches per epoch (0: the whole synthetic set)")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--real-share", type=float, default=0.35, help="share of each batch from real crops")
    parser.add_argument("--workers", type=int, default=2, help="processes that render the synthetic set")
    add_run_arguments(parser)
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
