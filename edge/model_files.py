"""Model files: found through models/manifest.toml, checked against its sha256, run on onnxruntime.

No model is downloaded at run time: each file is committed beside the manifest (or built by the
scripts in models/), and a file whose sha256 differs from its manifest entry is refused.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

import onnxruntime as ort
from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidProtobuf

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
MANIFEST = MODELS_DIR / "manifest.toml"


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


def onnx_session(entry: ModelEntry, threads: int) -> ort.InferenceSession:
    """An onnxruntime session of the verified file, on `threads` threads that sleep when idle."""
    options = ort.SessionOptions()
    # The pipeline runs several lanes side by side; each model uses few cores on purpose.
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Idle threads sleep instead of spinning: on two cores shared with other lanes (and the
    # kiosk), spinning doubled the CPU time of a read without making it faster.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(verified_bytes(entry), options, providers=["CPUExecutionProvider"])
    except (Fail, InvalidProtobuf) as exc:
        raise ModelError(f"model file {entry.file} is not a model onnxruntime can run: {exc}") from exc
