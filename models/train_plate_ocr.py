"""Fine-tune EasyOCR's `english_g2` recogniser on synthetic plate lines; write the sequence weights.

Run: `.venv/bin/python models/train_plate_ocr.py [--samples N] [--epochs E]`, then
`.venv/bin/python models/export_plate_ocr.py` (which folds the result into `plate_ocr.onnx`).
Needs the `export` extra (torch) and the fonts named in `plate_lines.py`.

Recipe (bounded to tens of minutes on two shared CPU cores):
1. `plate_lines.plate_line` draws N lines (seed 1000 + i for line i: the same set every run)
   and 5% more as a held-out check set.
2. The convolutional feature extractor stays as EasyOCR trained it; its output for each line is
   computed once (on onnxruntime). Training the whole network costs ~15 s per batch of 32 here,
   the sequence part ~1 s.
3. The two bidirectional LSTMs and the output layer, initialised from `english_g2`, learn plate
   text from those features with CTC loss (only A-Z and 0-9 as targets; the 97-class output layer
   keeps its shape, so the runtime and the export stay as they are).
4. The check set's exact-line accuracy (greedy decode, plate characters only) is printed before
   and after every epoch; each epoch that beats the best so far writes `plate_ocr_sequence.pth`.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

sys.path.insert(0, str(Path(__file__).parent))
from export_plate_ocr import CHARACTERS, SEQUENCE_WEIGHTS, Recogniser, load_recogniser
from plate_lines import check_fonts, plate_line

SEED = 1000
_PLATE_CLASSES = np.array([1 + CHARACTERS.index(c) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"])


class _Features(nn.Module):
    """The frozen part: image -> (N, T, 256) features, as the sequence layers receive them."""

    def __init__(self, model: Recogniser) -> None:
        super().__init__()
        self.extractor = model.FeatureExtraction

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.extractor(image).mean(dim=2).permute(0, 2, 1)


def _export_features(path: Path) -> None:
    """The feature extractor as ONNX: onnxruntime runs it about twice as fast as torch here."""
    torch.onnx.export(_Features(load_recogniser(sequence=None)).eval(), (torch.zeros(1, 1, 64, 192),), str(path),
                      dynamo=False, input_names=["image"], output_names=["features"],
                      dynamic_axes={"image": {3: "width"}, "features": {1: "steps"}}, opset_version=17)


def _features_worker(job: tuple[str, list[int]]) -> list[tuple[np.ndarray, str]]:
    model, indices = job
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    out = []
    for i in indices:
        line, text = plate_line(np.random.default_rng([SEED, i]))
        image = (line.astype(np.float32) / 127.5 - 1.0)[None, None]
        out.append((session.run(None, {"image": image})[0][0].astype(np.float16), text))
    return out


def line_features(count: int, first: int, workers: int) -> list[tuple[np.ndarray, str]]:
    """CNN features (T x 256) and text of lines first..first+count-1, computed in `workers` processes."""
    chunks = [list(range(first + w, first + count, workers)) for w in range(workers)]
    with tempfile.TemporaryDirectory() as folder:
        model = Path(folder) / "features.onnx"
        _export_features(model)
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            parts = pool.map(_features_worker, [(str(model), chunk) for chunk in chunks])
    merged = [item for part in parts for item in part]
    order = [i for chunk in chunks for i in chunk]
    return [item for _, item in sorted(zip(order, merged, strict=True), key=lambda pair: pair[0])]


def _sequence_logits(model: Recogniser, features: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """The sequence part on a padded batch, each line seen only up to its own length (as at run time)."""
    x = features
    for layer in model.SequenceModeling:
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        recurrent, _ = layer.rnn(packed)
        x = layer.linear(pad_packed_sequence(recurrent, batch_first=True, total_length=x.shape[1])[0])
    return model.Prediction(x)


def _batch(items: list[tuple[np.ndarray, str]]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    lengths = torch.tensor([len(f) for f, _ in items])
    features = torch.zeros(len(items), int(lengths.max()), items[0][0].shape[1])
    for row, (f, _) in enumerate(items):
        features[row, : len(f)] = torch.from_numpy(f.astype(np.float32))
    targets = torch.tensor([1 + CHARACTERS.index(c) for _, text in items for c in text])
    target_lengths = torch.tensor([len(text) for _, text in items])
    return features, lengths, targets, target_lengths


def _greedy(logits: np.ndarray) -> str:
    """Best path over the plate characters only (what the pipeline keeps), merged and blank-free."""
    best = logits[:, np.concatenate([[0], _PLATE_CLASSES])].argmax(axis=1)
    out = []
    previous = 0
    for cls in best:
        if cls and cls != previous:
            out.append("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[cls - 1])
        previous = cls
    return "".join(out)


def accuracy(model: Recogniser, items: list[tuple[np.ndarray, str]]) -> float:
    model.eval()
    right = 0
    with torch.inference_mode():
        for start in range(0, len(items), 64):
            chunk = items[start: start + 64]
            features, lengths, _, _ = _batch(chunk)
            logits = _sequence_logits(model, features, lengths).numpy()
            right += sum(_greedy(logits[r, : lengths[r]]) == text for r, (_, text) in enumerate(chunk))
    return right / len(items)


def train(model: Recogniser, items: list[tuple[np.ndarray, str]], check: list[tuple[np.ndarray, str]],
          epochs: int, batch: int, lr: float, output: Path) -> None:
    """Train the sequence layers; after each epoch that beats the best check score, write them to `output`."""
    for p in model.FeatureExtraction.parameters():
        p.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(params, lr=lr, weight_decay=1e-4)
    steps = epochs * ((len(items) + batch - 1) // batch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=lr, total_steps=steps, pct_start=0.1)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    rng = np.random.default_rng(SEED)
    best_score = accuracy(model, check)
    print(f"check set before training: {best_score:.3f}", flush=True)
    for epoch in range(epochs):
        model.train()
        model.FeatureExtraction.eval()
        # Batches of similar lengths (little padding), in random order.
        order = np.argsort([len(f) + rng.uniform(0, 8) for f, _ in items])
        batches = [order[i: i + batch] for i in range(0, len(order), batch)]
        rng.shuffle(batches)
        started, total = time.time(), 0.0
        for number, rows in enumerate(batches, start=1):
            features, lengths, targets, target_lengths = _batch([items[r] for r in rows])
            log_probs = _sequence_logits(model, features, lengths).log_softmax(2).permute(1, 0, 2)
            loss = ctc(log_probs, targets, lengths, target_lengths)
            optimiser.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(params, 5.0)
            optimiser.step()
            schedule.step()
            total += float(loss)
            if number % 50 == 0:
                print(f"epoch {epoch + 1} batch {number}/{len(batches)} loss {total / number:.3f} "
                      f"({time.time() - started:.0f} s)", flush=True)
        score = accuracy(model, check)
        print(f"epoch {epoch + 1}: loss {total / len(batches):.3f}, check set {score:.3f}", flush=True)
        if score > best_score:
            best_score = score
            torch.save(_sequence_state(model), output)
            print(f"wrote {output}", flush=True)


def _sequence_state(model: Recogniser) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()
            if k.startswith(("SequenceModeling.", "Prediction."))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=12000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cache", type=Path, help="keep the computed features here (npz) and reuse them")
    parser.add_argument("--output", type=Path, default=SEQUENCE_WEIGHTS)
    parser.add_argument("--init", type=Path, help="start from these sequence weights instead of english_g2's")
    args = parser.parse_args()
    check_fonts()
    torch.manual_seed(SEED)
    torch.set_num_threads(args.threads)
    started = time.time()
    check_count = max(50, args.samples // 20)
    if args.cache and args.cache.is_file():
        stored = np.load(args.cache, allow_pickle=True)
        items, check = list(stored["items"]), list(stored["check"])
    else:
        items = line_features(args.samples, 0, args.workers)
        check = line_features(check_count, 10_000_000, args.workers)
        if args.cache:
            np.savez(args.cache, items=np.array(items, dtype=object), check=np.array(check, dtype=object))
    print(f"{len(items)} lines, {len(check)} check lines, features in {time.time() - started:.0f} s", flush=True)
    model = load_recogniser(sequence=args.init)  # english_g2 as released, unless continuing a run
    train(model, items, check, args.epochs, args.batch, args.lr, args.output)
    print(f"done after {time.time() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
