"""`edge calibrate ...` end to end: images and cameras in, words and one JSON line out, the config written."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.cli import main
from edge.config import DEFAULT_CONFIG, load_config
from edge.synthetic import scene_for
from tests.support import checkerboard

pytestmark = pytest.mark.slow  # real processes and waits: seconds per test

EXAMPLE = DEFAULT_CONFIG.parent / "example-lane.toml"
STOPPED = 1_000_041.0  # lane-1 seed 1: a German plate stopped in view, daylight


def _calibrate(capsys, *args: str) -> tuple[int, str, dict | None]:
    code = main(["calibrate", *args])
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    result = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else None
    return code, captured.out + captured.err, result


@pytest.fixture(scope="module")
def plate_frame() -> np.ndarray:
    return scene_for("lane-1", 1).render("plate", STOPPED)


@pytest.fixture
def lane_config(tmp_path) -> Path:
    """The example real lane, with its state in the test's folder."""
    path = tmp_path / "lane.toml"
    path.write_text(EXAMPLE.read_text().replace('"/var/lib/checkpoint-edge"', f'"{tmp_path / "state"}"'))
    return path


def _corners() -> list[str]:
    quad = scene_for("lane-1", 1).truth_at(STOPPED).plate_quad
    return [f"{x:.1f},{y:.1f}" for x, y in quad]


def test_warp_writes_roi_and_warp_into_the_lane_camera_keeping_the_file_as_it_was(
    capsys, tmp_path, plate_frame, lane_config
):
    image = tmp_path / "frame.png"
    cv2.imwrite(str(image), plate_frame)
    before = lane_config.read_text()
    args = ["warp", str(image), "--lane", "lane-1", "--config", str(lane_config), "--corners", *_corners(),
            "--plate-size", "520x110"]  # fmt: skip
    code, out, dry = _calibrate(capsys, *args, "--dry-run")
    assert code == 0 and "would set in lane lane-1, plate camera" in out and lane_config.read_text() == before

    code, out, result = _calibrate(capsys, *args, "--preview", str(tmp_path / "warped.png"))
    assert code == 0 and result == dry and "the plate becomes an upright 119x25 px rectangle" in out
    assert Path(str(lane_config) + ".bak").read_text() == before
    config = load_config(lane_config)
    camera = config.lanes[0].cameras.plate
    assert camera.roi.model_dump() == result["roi"] and camera.warp.model_dump() == result["warp"]
    assert camera.url == "rtsp://viewer:secret@192.0.2.10/stream1" and config.lanes[0].cameras.face.roi is None
    text = lane_config.read_text()
    assert "# where plates appear; set it from the technician page" in text and "# officer confirms" in text
    preview = cv2.imread(str(tmp_path / "warped.png"))
    assert preview.shape[:2] == (camera.warp.height, camera.warp.width)

    # A new ROI alone would leave the warp measured on the old one: refused, file untouched.
    code, out, _ = _calibrate(capsys, "roi", str(image), "--lane", "lane-1", "--config", str(lane_config),
                              "--corners", *_corners())  # fmt: skip
    assert code == 2 and "has a perspective warp" in out and lane_config.read_text() == text


def test_lens_writes_the_intrinsics_of_the_camera_that_took_the_board_photos(capsys, tmp_path, lane_config):
    folder = tmp_path / "board"
    folder.mkdir()
    for name, image in checkerboard.photos()[:5]:
        cv2.imwrite(str(folder / f"{name}.png"), image)
    (folder / "notes.txt").write_text("not an image, not a frame")
    code, out, result = _calibrate(capsys, "lens", str(folder), "--board", "9x6", "--square-mm", "30",
                                   "--lane", "lane-1", "--camera", "face", "--config", str(lane_config))  # fmt: skip
    assert code == 0 and "board found in 5 of 5 images" in out and "RMS reprojection error" in out
    lens = load_config(lane_config).lanes[0].cameras.face.lens
    assert lens.model_dump() == result["lens"]
    assert lens.fx == pytest.approx(checkerboard.CAMERA[0, 0], rel=0.02) and lens.rms_px < 0.3


def test_drift_needs_a_baseline_then_alarms_with_exit_code_3(capsys, tmp_path, lane_config):
    scene = scene_for("lane-1", 1)
    days = {"then": 1_000_000.0, "now": 1_000_500.0}
    folders = {}
    for day, start in days.items():
        folders[day] = tmp_path / day
        folders[day].mkdir()
        t, n = start, 0
        while n < 4:
            if not scene.truth_at(t).night:
                cv2.imwrite(str(folders[day] / f"{n}.png"), scene.render("plate", t))
                n += 1
            t += 13.0
    common = ["--lane", "lane-1", "--config", str(lane_config)]
    code, out, _ = _calibrate(capsys, "drift", str(folders["now"]), *common)
    assert code == 2 and "no baseline at" in out and "--save-baseline" in out

    code, out, result = _calibrate(capsys, "drift", str(folders["then"]), *common, "--save-baseline")
    assert code == 0 and Path(result["baseline"]) == tmp_path / "state" / "calibration" / "lane-1-plate.npz"

    code, out, result = _calibrate(capsys, "drift", str(folders["now"]), *common)
    assert code == 0 and result["alarms"] == [] and "ALARM" not in out

    blurred = tmp_path / "blurred"
    blurred.mkdir()
    for image in folders["now"].iterdir():
        cv2.imwrite(str(blurred / image.name), cv2.GaussianBlur(cv2.imread(str(image)), (0, 0), 2.5))
    code, out, result = _calibrate(capsys, "drift", str(blurred), *common)
    assert code == 3 and "ALARM lane lane-1 plate camera: focus dropped" in out
    assert len(result["alarms"]) == 1


def test_sizes_exit_1_below_target_and_2_when_there_is_nothing_to_measure(capsys, tmp_path, plate_frame):
    near, far, blank = tmp_path / "near.png", tmp_path / "far.png", tmp_path / "blank.png"
    cv2.imwrite(str(near), plate_frame)
    cv2.imwrite(str(far), cv2.resize(plate_frame, None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA))
    cv2.imwrite(str(blank), np.full((360, 640, 3), 128, np.uint8))
    code, out, result = _calibrate(capsys, "plate", str(near))
    assert code == 0 and result["near.png"]["text"] == "JRRB396" and result["near.png"]["ok"]
    code, out, result = _calibrate(capsys, "plate", str(near), str(far))
    assert code == 1 and "too small, need 15 px" in out and not result["far.png"]["ok"]
    code, out, _ = _calibrate(capsys, "plate", str(blank))
    assert code == 2 and "no plate characters found" in out
    code, out, _ = _calibrate(capsys, "face", str(blank))
    assert code == 2 and "no face found" in out


def test_measures_from_a_camera_url_or_a_lanes_configured_camera(capsys):
    code, out, result = _calibrate(capsys, "focus", "--url", "synthetic://lane-1/plate?seed=1&fps=50", "--frames", "2")
    assert code == 0 and len(result["images"]) == 2 and result["focus"] > 0
    code, out, result = _calibrate(capsys, "exposure", "--lane", "lane-2", "--frames", "1")  # the demo checkpoint
    assert code in (0, 1) and "mean grey" in out and len(result["frame 1"]["histogram"]) == 16


def test_shutter_advice_from_the_lane_speed_or_a_measured_plate(capsys, tmp_path, plate_frame):
    code, out, result = _calibrate(capsys, "shutter", "--px-per-m", "500", "--speed-kmh", "36")
    assert code == 0 and result["max_exposure_s"] == pytest.approx(1 / 5000) and "1/5000 s" in out
    image = tmp_path / "frame.png"
    cv2.imwrite(str(image), plate_frame)
    code, out, result = _calibrate(capsys, "shutter", str(image))
    # 30 km/h (the config's default) and the scale of 75 mm characters measured on the plate.
    assert code == 0 and result["speed_kmh"] == 30
    assert result["max_exposure_s"] == pytest.approx(1 / (30 / 3.6 * result["px_per_m"]))


def test_bad_input_is_named_and_exits_2(capsys, tmp_path, lane_config):
    code, out, _ = _calibrate(capsys, "focus", str(tmp_path / "missing.png"))
    assert code == 2 and "missing.png: no such file or folder" in out
    (tmp_path / "broken.png").write_bytes(b"\x89PNG broken")
    code, out, _ = _calibrate(capsys, "focus", str(tmp_path / "broken.png"))
    assert code == 2 and "not a readable image" in out
    code, out, _ = _calibrate(capsys, "focus")
    assert code == 2 and "give image files, --url URL or --lane LANE" in out
    code, out, _ = _calibrate(capsys, "focus", "--lane", "lane-9", "--config", str(lane_config))
    assert code == 2 and "no lane 'lane-9'" in out
    code, out, _ = _calibrate(capsys, "focus", "--url", "synthetic://lane-1/plate", "--roi", "1,2,3")
    assert code == 2 and "--roi '1,2,3'" in out
    code, out, _ = _calibrate(capsys, "lens", "--url", "synthetic://lane-1/plate", "--board", "nine")
    assert code == 2 and "--board 'nine'" in out
    code, out, _ = _calibrate(capsys, "warp", "--url", "synthetic://lane-1/plate", "--lane", "lane-1",
                              "--corners", "1,1", "2,2", "3,3", "x", "--dry-run")  # fmt: skip
    assert code == 2 and "corner 'x' is not x,y" in out
