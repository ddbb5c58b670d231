"""The committed ONNX recogniser agrees with EasyOCR's torch network, and is the file the manifest names.

Needs the `export` extra (torch): `pip install -e '.[export]'`.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from edge.model_files import MANIFEST, MODELS_DIR, ModelError
from edge.plates.lines import LineSearch, cut_line, find_lines, main_lines
from edge.plates.ocr import LINE_HEIGHT, LineRecogniser
from edge.plates.pipeline import grey
from tests.support.plate_images import background, crop_of, draw_plate, place


def _export_script():
    spec = importlib.util.spec_from_file_location("export_plate_ocr", MODELS_DIR / "export_plate_ocr.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _plate_lines() -> list[np.ndarray]:
    """Straightened main lines of rendered plate crops and frames, as the pipeline feeds them."""
    images = [grey(crop_of(draw_plate(text))) for text in ("AB1234", "KC4Z3X", "7XKM205")]
    images.append(grey(place(background(np.random.default_rng(9)), draw_plate("HW1155"), (400, 300), 240, 8.0)))
    lines = []
    for image in images:
        search = LineSearch(min_glyph_height=9, max_glyph_height=max(20, image.shape[0] // 2))
        found = main_lines(find_lines(image, search))
        lines.append(cut_line(image, found[0], LINE_HEIGHT, 1.3))
    return lines


def test_onnx_matches_torch_on_plate_lines() -> None:
    model = _export_script().load_recogniser()
    recogniser = LineRecogniser()
    for line in _plate_lines():
        with torch.no_grad():
            expected = model(torch.from_numpy(recogniser.network_input(line))).numpy()[0]
        got = recogniser.logits(line)
        assert got.shape == expected.shape
        assert np.abs(got - expected).max() < 1e-3
        assert np.array_equal(got.argmax(axis=1), expected.argmax(axis=1))


def test_an_altered_model_file_is_refused(tmp_path: Path) -> None:
    shutil.copy(MANIFEST, tmp_path / "manifest.toml")
    data = bytearray((MODELS_DIR / "plate_ocr.onnx").read_bytes())
    data[-1] ^= 0xFF
    (tmp_path / "plate_ocr.onnx").write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256"):
        LineRecogniser(manifest=tmp_path / "manifest.toml")


def test_a_missing_model_is_named(tmp_path: Path) -> None:
    shutil.copy(MANIFEST, tmp_path / "manifest.toml")
    with pytest.raises(ModelError, match=r"plate_ocr\.onnx"):
        LineRecogniser(manifest=tmp_path / "manifest.toml")
