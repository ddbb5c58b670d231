"""The committed plate models (models/plate_detector.onnx, models/plate_reader.onnx) on rendered
frames and crops of known plates, the stages they drive, and their files' checks.

Frames and crops come from the synthetic crossing's renderer under seeds the training scripts do
not use (they train on seed 1), with vehicle lettering painted beside the plates.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from edge.config import PlatesConfig, RegionOfInterest
from edge.model_files import MANIFEST, MODELS_DIR, ModelError
from edge.plates.decoders import best_path
from edge.plates.detector import CnnPlateDetector, shared_detector
from edge.plates.pipeline import PlateReader, PlateReaderSettings
from edge.plates.recogniser import CnnRecogniser, shared_recogniser
from edge.plates.stages import PlateImage
from edge.synthetic.crops import render_plate
from edge.synthetic.datasets import PlateFrame, plate_frames
from edge.synthetic.regions import random_plate_text

REGIONS = ("us-ca", "us-tx", "de", "fr", "br")


@pytest.fixture(scope="module")
def frames() -> list[PlateFrame]:
    # Plates big enough for every character to be read; one-line and two-line alike.
    rendered = plate_frames(40, seed=424242, regions=REGIONS, lettering=3)
    return [f for f in rendered if f.box[2] >= 100][:8]


def _on_plate(quad: tuple[tuple[float, float], ...], frame: PlateFrame) -> bool:
    cx, cy = np.mean(np.array(quad), axis=0)
    x, y, w, h = frame.box
    return x <= cx <= x + w and y <= cy <= y + h


def test_the_detector_finds_the_plate_among_its_top_three_boxes(frames: list[PlateFrame]) -> None:
    detector = shared_detector()
    found = 0
    for frame in frames:
        top = detector.detect(cv2.cvtColor(frame.image, cv2.COLOR_BGR2GRAY))[:3]
        found += any(_on_plate(candidate.quad, frame) for candidate in top)
    assert len(frames) >= 6
    assert found >= len(frames) - 1


def test_the_recogniser_reads_rendered_plate_crops() -> None:
    recogniser = shared_recogniser()
    reader = PlateReader(PlateReaderSettings(regions=("any",)), recogniser=recogniser)
    rng = np.random.default_rng(5150)
    exact = 0
    for region in ("us-ny", "us-il", "nl", "it", "pl", "br"):
        text = random_plate_text(region, rng)
        crop, _ = render_plate(text, region, rng)
        read = reader.read_crop(crop)
        exact += read is not None and read.text == text
    assert exact >= 5


def test_the_pipeline_reads_plates_in_rendered_frames_and_points_at_them(frames: list[PlateFrame]) -> None:
    reader = PlateReader(PlateReaderSettings(regions=("us", "eu", "br")))
    exact = 0
    for frame in frames:
        reads = reader.read_frame(frame.image, timestamp=3.5)
        if reads and reads[0].text == frame.text:
            exact += 1
            assert _on_plate(reads[0].quad, frame)
            assert reads[0].timestamp == 3.5
            assert reads[0].crop.shape[0] == 64
    assert exact >= len(frames) - 2


def test_a_plate_outside_the_roi_is_not_read(frames: list[PlateFrame]) -> None:
    frame = frames[0]
    x, _, w, _ = frame.box
    # An ROI beside the plate, not over it.
    roi = (0, 0, max(1, x - 20), 720) if x > 640 else (x + w + 20, 0, 1280 - x - w - 20, 720)
    reader = PlateReader(PlateReaderSettings(regions=("us", "eu", "br"), roi=roi))
    assert all(read.text != frame.text for read in reader.read_frame(frame.image))


def test_a_patch_without_a_plate_reads_as_no_plate() -> None:
    rng = np.random.default_rng(7)
    noise = cv2.GaussianBlur(rng.integers(0, 256, (60, 180), dtype=np.uint8), (0, 0), 2.0)
    evidence = shared_recogniser().recognise(PlateImage(noise, (0.0, 0.0)))
    # "No character" leads most columns: the recogniser does not invent a plate in noise.
    assert best_path(evidence.readings[0].probabilities).text == ""


def manifest_saying(tmp_path: Path, name: str, digest: str) -> Path:
    """A copy of the manifest in tmp_path (its files are then read from there) whose `name` entry
    carries `digest`."""
    text = MANIFEST.read_text(encoding="utf-8")
    start = text.index('sha256 = "', text.index(f"[{name}]")) + len('sha256 = "')
    path = tmp_path / "manifest.toml"
    path.write_text(text[:start] + digest + text[start + 64:], encoding="utf-8")
    return path


@pytest.mark.parametrize(("name", "file", "load"), [
    ("plate_detector", "plate_detector.onnx", CnnPlateDetector),
    ("plate_reader", "plate_reader.onnx", CnnRecogniser),
])
def test_altered_missing_or_foreign_model_files_are_refused(tmp_path: Path, name: str, file: str, load) -> None:
    shutil.copy(MANIFEST, tmp_path / "manifest.toml")
    with pytest.raises(ModelError, match=rf"{file} cannot be read"):
        load(manifest=tmp_path / "manifest.toml")
    data = bytearray((MODELS_DIR / file).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / file).write_bytes(bytes(data))
    with pytest.raises(ModelError, match=rf"{file} has sha256 [0-9a-f]{{64}}, the manifest says"):
        load(manifest=tmp_path / "manifest.toml")
    junk = np.random.default_rng(1).bytes(512)
    (tmp_path / file).write_bytes(junk)
    with pytest.raises(ModelError, match="not a model onnxruntime can run"):
        load(manifest=manifest_saying(tmp_path, name, hashlib.sha256(junk).hexdigest()))


def test_the_stages_are_chosen_in_config() -> None:
    config = PlatesConfig(regions=["us"], detector="rows", recogniser="easyocr")
    reader = PlateReader.from_config(config, roi=RegionOfInterest(x=0, y=0, width=640, height=360))
    assert (reader.settings.detector, reader.settings.recogniser) == ("rows", "easyocr")
    assert reader.settings.roi == (0, 0, 640, 360)
    assert (PlatesConfig().detector, PlatesConfig().recogniser, PlatesConfig().decoder) == ("cnn", "cnn", "formats")
    assert PlateReader.from_config(PlatesConfig(decoder="greedy")).settings.decoder == "greedy"
    with pytest.raises(ValidationError):
        PlatesConfig(detector="hog")
