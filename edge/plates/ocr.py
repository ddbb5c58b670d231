"""The plate character recogniser: EasyOCR's `english_g2` network, exported to ONNX, on onnxruntime.

The network reads one line of text (grey, 64 px high, any width) and gives, for each 4-px column
step, a probability over 96 characters + the CTC blank. Plates only use A-Z and 0-9, so the
output is folded to 37 classes here: lower-case letters count as their capitals (the network
was trained on mixed case), and every other symbol counts as "no character" together with the
blank (hyphens, dots and spaces printed between groups are not part of the plate text).
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import onnxruntime as ort

from edge.plates.formats import ALPHABET

MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
MANIFEST = MODELS_DIR / "manifest.toml"
MODEL_NAME = "plate_ocr"
LINE_HEIGHT = 64


class ModelError(RuntimeError):
    """A model file is missing, altered, or does not match its manifest entry."""


@dataclass(frozen=True)
class ModelEntry:
    file: Path
    sha256: str
    characters: str


def manifest_entry(name: str, manifest: Path = MANIFEST) -> ModelEntry:
    try:
        entries = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ModelError(f"cannot read model manifest {manifest}: {exc}") from exc
    try:
        entry = entries[name]
        return ModelEntry(manifest.parent / entry["file"], entry["sha256"], entry.get("characters", ""))
    except KeyError as exc:
        raise ModelError(f"model manifest {manifest} has no complete [{name}] entry (missing {exc})") from exc


def verified_bytes(entry: ModelEntry) -> bytes:
    """The model file's bytes, after checking them against the manifest's sha256."""
    try:
        data = entry.file.read_bytes()
    except OSError as exc:
        raise ModelError(f"model file {entry.file} cannot be read: {exc}") from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry.sha256:
        raise ModelError(f"model file {entry.file} has sha256 {digest}, the manifest says {entry.sha256}")
    return data


def _fold_matrix(characters: str) -> np.ndarray:
    """(1 + len(characters)) x 37 matrix that sums network classes into plate classes."""
    fold = np.zeros((len(characters) + 1, len(ALPHABET) + 1), dtype=np.float32)
    fold[0, 0] = 1.0
    for index, char in enumerate(characters, start=1):
        upper = char.upper()
        fold[index, 1 + ALPHABET.index(upper) if upper in ALPHABET else 0] = 1.0
    return fold


class PlateRecogniser:
    """Reads lines of plate text; one instance per worker thread is cheap to share read-only."""

    def __init__(self, manifest: Path = MANIFEST, threads: int = 1) -> None:
        entry = manifest_entry(MODEL_NAME, manifest)
        options = ort.SessionOptions()
        # The pipeline runs several lanes side by side; each read uses few cores on purpose.
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Idle threads sleep instead of spinning: on two cores shared with other lanes (and the
        # kiosk), spinning doubled the CPU time of a read without making it faster.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(verified_bytes(entry), options, providers=["CPUExecutionProvider"])
        self._fold = _fold_matrix(entry.characters)

    def probabilities(self, line: np.ndarray) -> np.ndarray:
        """Per-step probabilities (T x 37, column 0 = no character) for one grey line image.

        The line must already be LINE_HEIGHT px high (see `lines.cut_line`).
        """
        return _softmax(self.logits(line)) @ self._fold

    def logits(self, line: np.ndarray) -> np.ndarray:
        """The network's raw output (T x 97) for one grey line image."""
        return self._session.run(None, {"image": self.network_input(line)})[0][0]

    @staticmethod
    def network_input(line: np.ndarray) -> np.ndarray:
        """A grey line image as the network takes it: (1, 1, 64, W) float32 in [-1, 1]."""
        if line.ndim != 2 or line.shape[0] != LINE_HEIGHT:
            raise ValueError(f"a text line must be a grey image {LINE_HEIGHT} px high, got shape {line.shape}")
        return (line.astype(np.float32) / 127.5 - 1.0)[None, None]


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


@lru_cache(maxsize=1)
def shared_recogniser() -> PlateRecogniser:
    """One recogniser per process: the session is thread-safe for concurrent `run` calls.

    Two threads: a frame's reads are sequential, and the budget is for a 2-core machine.
    """
    return PlateRecogniser(threads=2)
