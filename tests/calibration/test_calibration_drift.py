"""The drift check: today's synthetic frames against a baseline, with the faults a camera really gets."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge.calibration.drift import DriftError, compare, load_baseline, save_baseline, signature
from edge.config import DriftLimits
from edge.synthetic import scene_for

LIMITS = DriftLimits()


def _daylight_frames(start: float, count: int = 5, step_s: float = 13.0) -> list[np.ndarray]:
    """Plate-camera frames of the synthetic lane-1 spread over a minute, vehicles coming and going."""
    scene = scene_for("lane-1", 1)
    frames, t = [], start
    while len(frames) < count:
        if not scene.truth_at(t).night:
            frames.append(scene.render("plate", t))
        t += step_s
    return frames


@pytest.fixture(scope="module")
def baseline():
    return signature(_daylight_frames(1_000_000.0))


@pytest.fixture(scope="module")
def today():
    return _daylight_frames(1_000_500.0)


def test_the_same_camera_on_another_day_raises_no_alarm(baseline, today):
    report = compare(baseline, signature(today), LIMITS)
    assert report.alarms == ()
    assert report.similarity > 0.85 and abs(report.focus_ratio - 1) < 0.3 and np.hypot(*report.shift_px) < 5


def test_a_blurred_lens_alarms_on_focus_only(baseline, today):
    report = compare(baseline, signature([cv2.GaussianBlur(f, (0, 0), 2.0) for f in today]), LIMITS)
    assert len(report.alarms) == 1 and report.alarms[0].startswith("focus dropped")


def test_a_camera_knocked_sideways_alarms_with_the_shift(baseline, today):
    moved = [cv2.warpAffine(f, np.float32([[1, 0, 36], [0, 1, -14]]), (1280, 720), borderMode=cv2.BORDER_REPLICATE)
             for f in today]  # fmt: skip
    report = compare(baseline, signature(moved), LIMITS)
    assert report.shift_px == pytest.approx((36, -14), abs=4)
    assert [a.split(" by ")[0] for a in report.alarms] == ["the view moved"]


def test_a_darker_view_is_an_exposure_alarm_not_a_focus_one(baseline, today):
    report = compare(baseline, signature([cv2.convertScaleAbs(f, alpha=0.5) for f in today]), LIMITS)
    assert [a.split(" by ")[0] for a in report.alarms] == ["brightness changed"]
    burnt = compare(baseline, signature([cv2.convertScaleAbs(f, alpha=1.4, beta=30) for f in today]), LIMITS)
    assert any("clipped" in a for a in burnt.alarms)


def test_something_on_the_lens_alarms_as_a_different_scene(baseline, today):
    def smudge(frame: np.ndarray) -> np.ndarray:
        dirty = frame.copy()
        cv2.circle(dirty, (640, 400), 250, (90, 90, 90), -1)
        return dirty

    report = compare(baseline, signature([smudge(f) for f in today]), LIMITS)
    assert any(a.startswith("the scene looks different") for a in report.alarms)
    # Nothing is said about movement when the scene is not recognised: a shift between unlike views means nothing.
    assert not any(a.startswith("the view moved") for a in report.alarms)
    other_lane = scene_for("lane-2", 2).render("plate", 1_000_000.0)
    assert compare(baseline, signature([other_lane]), LIMITS).similarity < LIMITS.min_similarity


def test_the_baseline_survives_a_round_trip_and_bad_files_are_named(baseline, today, tmp_path):
    path = tmp_path / "calibration" / "lane-1-plate.npz"
    save_baseline(path, baseline)
    loaded = load_baseline(path)
    assert (loaded.width, loaded.height, loaded.focus, loaded.brightness) == (
        baseline.width, baseline.height, baseline.focus, baseline.brightness)  # fmt: skip
    assert np.array_equal(loaded.thumbs, baseline.thumbs)
    assert compare(loaded, signature(today), LIMITS).alarms == ()
    path.write_bytes(b"not a baseline")
    with pytest.raises(DriftError, match="unreadable"):
        load_baseline(path)
    with pytest.raises(DriftError, match="no baseline at"):
        load_baseline(tmp_path / "missing.npz")
    with pytest.raises(DriftError, match="mode changed"):
        compare(baseline, signature([cv2.resize(today[0], (640, 360))]), LIMITS)
    with pytest.raises(DriftError, match="differ in size"):
        signature([today[0], today[1][:360]])
