"""Quality gates: a good face passes, each kind of bad frame is refused with the words the kiosk shows."""

from __future__ import annotations

import numpy as np
import pytest

from edge.config import FacesConfig
from edge.faces import quality
from edge.faces.detectors import frame_detector
from edge.faces.observe import FaceObserver
from edge.faces.stills import main_face, still_observer
from tests.support import faces_images as img


@pytest.fixture(scope="module")
def observer() -> FaceObserver:
    return still_observer(FacesConfig())


def only_face(observer: FaceObserver, rgb: np.ndarray):
    return main_face(rgb, observer)


def test_clear_frontal_faces_pass_every_gate(observer):
    for rgb in (img.astronaut(), img.hopper()):
        face = only_face(observer, rgb)
        assert face.quality.accepted, face.quality.problems
        assert abs(face.quality.yaw_deg) < 10 and abs(face.quality.roll_deg) < 10
        assert 0 < face.quality.score <= 1


def test_inter_eye_distance_is_measured_in_frame_pixels(observer):
    full = only_face(observer, img.astronaut()).quality.inter_eye_px
    half = only_face(observer, img.scaled(img.astronaut(), 0.5)).quality.inter_eye_px
    assert 38 < full < 50
    assert half == pytest.approx(full / 2, rel=0.15)


def test_small_face_is_told_to_move_closer(observer):
    face = only_face(observer, img.scaled(img.astronaut(), 0.5))
    assert quality.MOVE_CLOSER in face.quality.problems


def test_dark_and_bright_frames_are_named(observer):
    dark = only_face(observer, img.gain(img.astronaut(), 0.22))
    assert dark.quality.problems == (quality.TOO_DARK,)
    bright = only_face(observer, img.gain(img.astronaut(), 1.0, 120))
    assert bright.quality.problems == (quality.TOO_BRIGHT,)


def test_blurred_frame_is_refused_and_ranks_below_the_sharp_one(observer):
    sharp = only_face(observer, img.astronaut())
    blurred = only_face(observer, img.blur(img.astronaut(), 3.0))
    assert quality.HOLD_STILL in blurred.quality.problems
    assert blurred.quality.sharpness < sharp.quality.sharpness / 4
    assert blurred.quality.score < sharp.quality.score


def test_roll_is_measured_and_gated():
    tilted = img.rotate(img.astronaut(), 15, img.ASTRONAUT_FACE_CENTRE)
    strict = still_observer(FacesConfig(max_roll_deg=8))
    face = only_face(strict, tilted)
    # OpenCV rotates counter-clockwise for positive angles: the eye line tilts by about -15 degrees.
    assert face.quality.roll_deg == pytest.approx(-15, abs=4)
    assert face.quality.problems == (quality.LOOK_AT_CAMERA,)
    assert only_face(still_observer(FacesConfig()), tilted).quality.accepted


def mirrored_landmarks(landmarks: np.ndarray, width: int) -> np.ndarray:
    """The 68 points of the mirrored face: x flipped, and each point swapped with its partner
    (the jaw's left end becomes its right end, the left eye the right one, and so on)."""
    jaw = list(range(16, -1, -1))
    brows = list(range(26, 16, -1))
    nose = [27, 28, 29, 30, 35, 34, 33, 32, 31]
    eyes = [45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40]
    mouth = [54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55, 64, 63, 62, 61, 60, 67, 66, 65]
    partner = jaw + brows + nose + eyes + mouth
    flipped = landmarks[partner].copy()
    flipped[:, 0] = width - 1 - flipped[:, 0]
    return flipped


def test_yaw_changes_sign_in_the_mirror(observer):
    # On the pose formula itself: a detector's box, and so the landmark fit, is not exactly
    # mirror-symmetric, which moves a near-frontal face's yaw by a few degrees either way.
    rgb = img.hopper()
    landmarks = only_face(observer, rgb).landmarks
    yaw, pitch, roll = quality.head_pose(landmarks)
    mirror_yaw, mirror_pitch, mirror_roll = quality.head_pose(mirrored_landmarks(landmarks, rgb.shape[1]))
    assert mirror_yaw == pytest.approx(-yaw, abs=0.01)
    assert mirror_roll == pytest.approx(-roll, abs=0.01)
    assert mirror_pitch == pytest.approx(pitch, abs=0.01)
    assert abs(yaw) > 0.1  # a sign to change


def test_eye_openness_is_gated():
    face = only_face(still_observer(FacesConfig()), img.astronaut())
    assert 0.2 < face.quality.eye_openness < 0.45  # open eyes
    demanding = only_face(still_observer(FacesConfig(min_eye_openness=0.5)), img.astronaut())
    assert demanding.quality.problems == (quality.OPEN_EYES,)


def test_frame_without_a_face_gives_no_observation():
    rng = np.random.default_rng(3)
    flat = np.full((360, 640, 3), 90, np.uint8)
    textured = rng.integers(0, 255, (360, 640, 3), dtype=np.uint8)
    observer = FaceObserver(FacesConfig(), frame_detector(FacesConfig()))
    assert observer.observe(flat) == []
    assert observer.observe(textured) == []


def test_bad_frames_are_refused_with_a_clear_error(observer):
    with pytest.raises(ValueError, match="uint8"):
        observer.observe(np.zeros((100, 100, 3), np.float32))
    with pytest.raises(ValueError, match="RGB"):
        observer.observe(np.zeros((100, 100), np.uint8))
