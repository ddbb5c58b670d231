"""Images that claim or hold more pixels than any camera: refused by their header, before decoding.

Issue 13, finding 16: `edge alpr` on a PNG whose header says 100000 x 100000 gave a cv2 traceback,
and a real 20000 x 20000 PNG took 4.5 GB of RSS and 40 s.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.attacks.files import grey_png
from edge.image_files import ImageFileError, decode_image, read_image


def _alpr(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "edge", "alpr", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("width", "height", "rows"), [(100_000, 100_000, 1), (20_000, 20_000, None)],
                         ids=["header claims 100000x100000", "real 20000x20000"])
@pytest.mark.slow  # a command in a process of its own, per case
def test_edge_alpr_refuses_a_giant_image_by_its_header(tmp_path: Path, width: int, height: int,
                                                       rows: int | None) -> None:
    giant = tmp_path / "giant.png"
    giant.write_bytes(grey_png(width, height, rows))
    fine = tmp_path / "fine.png"
    fine.write_bytes(grey_png(640, 360))
    result = _alpr(str(giant), str(fine))
    # 1: an image was not read; the others still were.
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert f"{giant}: " in result.stderr and ("too large" in result.stderr or "over the 50 MP" in result.stderr)
    assert '"image": "' + str(fine) in result.stdout


def test_ordinary_images_still_decode_and_garbage_is_named(tmp_path: Path) -> None:
    frame = np.full((720, 1280, 3), 90, np.uint8)
    ok, jpeg = cv2.imencode(".jpg", frame)
    assert ok
    assert decode_image(jpeg.tobytes(), "a frame").shape == (720, 1280, 3)
    (tmp_path / "frame.png").write_bytes(grey_png(640, 360))
    assert read_image(tmp_path / "frame.png").shape == (360, 640, 3)
    with pytest.raises(ImageFileError, match="a frame: not a readable image"):
        decode_image(b"\x00garbage", "a frame")
    with pytest.raises(ImageFileError, match="no such file"):
        read_image(tmp_path / "missing.png")
    with pytest.raises(ImageFileError, match="8000 x 8000 pixels, over the 50 MP"):
        decode_image(grey_png(8000, 8000, rows=1), "a portrait")
