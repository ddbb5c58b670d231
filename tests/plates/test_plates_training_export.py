"""The training scripts' ONNX exports agree with their torch networks, and the runtime reads them.

Each network is built with seeded weights (no training, no data), exported by its own script's
`export`, checked against torch on the same images, then loaded by the runtime stage through a
manifest that names the new file: what `make models-train` produces is what the product runs.
Needs the `export` extra (torch).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from edge.model_files import MODELS_DIR
from edge.plates.detector import INPUT_SIZE as DETECTOR_INPUT
from edge.plates.detector import CnnPlateDetector, letterbox
from edge.plates.recogniser import INPUT_SIZE as READER_INPUT
from edge.plates.recogniser import CnnRecogniser
from edge.plates.stages import PlateImage
from tests.plates.test_plates_models import manifest_saying


def _script(name: str):
    # The scripts import each other by name from models/, as they do when run.
    if str(MODELS_DIR) not in sys.path:
        sys.path.insert(0, str(MODELS_DIR))
    return importlib.import_module(name)


def _exported(trainer, net, path: Path, images: np.ndarray) -> tuple[str, list[np.ndarray]]:
    """The script's export of `net` to `path`: its sha256, and onnxruntime's outputs for `images`."""
    digest = trainer.export(net, path)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return digest, session.run(None, {"image": images})


def _images(count: int, size: tuple[int, int]) -> np.ndarray:
    rng = np.random.default_rng(3)
    return rng.integers(0, 256, (count, 1, size[1], size[0])).astype(np.float32)


@pytest.fixture(autouse=True)
def _seeded() -> None:
    torch.manual_seed(7)


def test_the_reader_export_agrees_with_torch_and_the_runtime_reads_it(tmp_path: Path) -> None:
    trainer = _script("train_plate_reader")
    net = trainer.PlateReaderNet().eval()
    images = _images(4, READER_INPUT)
    digest, (exported,) = _exported(trainer, net, tmp_path / "plate_reader.onnx", images)
    with torch.no_grad():
        wanted = trainer._Folded(net)(torch.from_numpy(images)).numpy()
    assert exported.shape == (4, 32, 37)
    np.testing.assert_allclose(exported, wanted, atol=1e-4)
    np.testing.assert_allclose(exported.sum(axis=-1), 1.0, atol=1e-4)  # the masked class is folded, not lost
    recogniser = CnnRecogniser(manifest=manifest_saying(tmp_path, "plate_reader", digest))
    plate = images[0, 0].astype(np.uint8)
    evidence = recogniser.recognise(PlateImage(plate, (0.0, 0.0)))
    np.testing.assert_allclose(evidence.readings[0].probabilities, exported[0], atol=1e-4)


def test_the_detector_export_agrees_with_torch_and_the_runtime_reads_it(tmp_path: Path) -> None:
    trainer = _script("train_plate_detector")
    net = trainer.PlateDetectorNet().eval()
    frame = _images(1, DETECTOR_INPUT)
    digest, (heat, box) = _exported(trainer, net, tmp_path / "plate_detector.onnx", frame)
    with torch.no_grad():
        wanted_heat, wanted_box = trainer._Exported(net)(torch.from_numpy(frame))
    assert heat.shape == (1, 1, DETECTOR_INPUT[1] // 4, DETECTOR_INPUT[0] // 4) and box.shape[1] == 4
    np.testing.assert_allclose(heat, wanted_heat.numpy(), atol=1e-4)
    np.testing.assert_allclose(box, wanted_box.numpy(), atol=1e-4)
    detector = CnnPlateDetector(manifest=manifest_saying(tmp_path, "plate_detector", digest), threshold=0.0)
    fitted, scale = letterbox(frame[0, 0].astype(np.uint8))
    assert scale == 1.0 and fitted.shape == (DETECTOR_INPUT[1], DETECTOR_INPUT[0])
    found = detector.detect(frame[0, 0].astype(np.uint8))
    # Best first, and the best is the heat map's highest cell.
    assert found and [c.score for c in found] == sorted((c.score for c in found), reverse=True)
    assert found[0].score == pytest.approx(float(heat.max()), abs=1e-4)
