"""The HOG plate detector (models/plate_detector.svm) on rendered frames of known plates.

Frames come from the synthetic crossing's renderer under seeds the training script does not use
(it trains on seed 1 and checks on 1001), with vehicle lettering painted beside the plates.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from edge.config import PlatesConfig
from edge.plates.detector import BOX_PAD, MODEL_NAME, PlateDetector, shared_detector
from edge.plates.localiser import PlateLocaliser
from edge.plates.ocr import MANIFEST, MODELS_DIR, ModelError
from edge.plates.pipeline import PlateReader, ReaderSettings
from edge.synthetic.datasets import PlateFrame, plate_frames

REGIONS = ("us-ca", "us-tx", "de", "fr", "br")


@pytest.fixture(scope="module")
def frames() -> list[PlateFrame]:
    # Plates big enough for the recogniser to read every character, one-line (the detector's shape).
    rendered = plate_frames(40, seed=424242, regions=REGIONS, lettering=3)
    return [f for f in rendered if not f.two_line and f.box[2] >= 110][:6]


def _centre(box: tuple[float, float, float, float]) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def _on_plate(point: tuple[float, float], frame: PlateFrame) -> bool:
    x, y, w, h = frame.box
    return x <= point[0] <= x + w and y <= point[1] <= y + h


def test_the_detector_finds_plates_in_whole_frames(frames: list[PlateFrame]) -> None:
    detector = shared_detector()
    found = 0
    for frame in frames:
        gray = cv2.cvtColor(frame.image, cv2.COLOR_BGR2GRAY)
        # At the scale where the plate's box is 1.2 windows wide, the whole frame is searched.
        scale = 1.2 * detector.window[0] / (frame.box[2] * BOX_PAD)
        scaled = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        detections = detector.detect(scaled)
        if detections and _on_plate(tuple(v / scale for v in _centre(detections[0].box)), frame):
            found += 1
    assert len(frames) >= 5
    # Synthetic held-out recall is about 0.9 (models/train_plate_detector.py): one miss is allowed.
    assert found >= len(frames) - 1


def test_plate_rows_score_above_lettering_rows(frames: list[PlateFrame]) -> None:
    detector = shared_detector()
    localiser = PlateLocaliser()
    first = 0
    for frame in frames:
        gray = cv2.cvtColor(frame.image, cv2.COLOR_BGR2GRAY)
        rows = localiser.candidates(gray)[:12]
        best = max(rows, key=lambda row: detector.score_row(gray, row))
        first += _on_plate(_centre(best.bounds), frame)
    assert first >= len(frames) - 1


def test_the_pipeline_reads_rendered_plates_in_detector_order(frames: list[PlateFrame]) -> None:
    reader = PlateReader(ReaderSettings(regions=("us", "eu", "br"), ranking="detector"))
    exact = 0
    for frame in frames:
        reads = reader.read_frame(frame.image)
        if reads and reads[0].text == frame.text:
            exact += 1
            assert _on_plate(_centre(_quad_box(reads[0].quad)), frame)
    assert exact >= len(frames) - 1


def _quad_box(quad: tuple[tuple[float, float], ...]) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in quad], [p[1] for p in quad]
    return min(xs), min(ys), max(xs), max(ys)


def test_a_plate_outside_the_roi_is_not_read_in_detector_order(frames: list[PlateFrame]) -> None:
    frame = frames[0]
    x, _, w, _ = frame.box
    # An ROI beside the plate, not over it.
    roi = (0, 0, max(1, x - 20), 720) if x > 640 else (x + w + 20, 0, 1280 - x - w - 20, 720)
    reader = PlateReader(ReaderSettings(regions=("us", "eu", "br"), ranking="detector", roi=roi))
    assert all(read.text != frame.text for read in reader.read_frame(frame.image))


def test_an_altered_detector_file_is_refused(tmp_path: Path) -> None:
    shutil.copy(MANIFEST, tmp_path / "manifest.toml")
    data = bytearray((MODELS_DIR / "plate_detector.svm").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "plate_detector.svm").write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"plate_detector\.svm has sha256 [0-9a-f]{64}, the manifest says"):
        PlateDetector.from_manifest(tmp_path / "manifest.toml")


def _manifest_saying(tmp_path: Path, digest: str) -> Path:
    """A copy of the manifest whose detector entry carries `digest`."""
    text = MANIFEST.read_text(encoding="utf-8")
    start = text.index('sha256 = "', text.index(f"[{MODEL_NAME}]")) + len('sha256 = "')
    path = tmp_path / "manifest.toml"
    path.write_text(text[:start] + digest + text[start + 64:], encoding="utf-8")
    return path


def test_a_wrong_checksum_in_the_manifest_is_refused(tmp_path: Path) -> None:
    manifest = _manifest_saying(tmp_path, "0" * 64)
    shutil.copy(MODELS_DIR / "plate_detector.svm", tmp_path / "plate_detector.svm")
    with pytest.raises(ModelError, match=r"the manifest says 0{64}"):
        PlateDetector.from_manifest(manifest)


def test_a_file_that_is_no_detector_is_refused_even_with_its_checksum(tmp_path: Path) -> None:
    junk = np.random.default_rng(1).bytes(512)
    manifest = _manifest_saying(tmp_path, hashlib.sha256(junk).hexdigest())
    (tmp_path / "plate_detector.svm").write_bytes(junk)
    with pytest.raises(ModelError, match="not a dlib HOG detector"):
        PlateDetector.from_manifest(manifest)


def test_the_ranking_is_chosen_in_config() -> None:
    assert PlatesConfig(ranking="detector").ranking == "detector"
    with pytest.raises(ValidationError):
        PlatesConfig(ranking="hog")
    reader = PlateReader.from_config(PlatesConfig(regions=["us"], ranking="detector"), roi=(0, 0, 640, 360))
    assert reader.settings.ranking == "detector"
    assert reader.settings.roi == (0, 0, 640, 360)
