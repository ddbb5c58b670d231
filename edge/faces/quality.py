"""Quality gates a face must pass before it is worth encoding, and a score to rank the ones that pass.

Every measure is cheap (landmark geometry and two statistics of the 150x150 chip), so a frame
costs little more than its detection. Pose is estimated from the landmarks alone with a simple
model (a roughly cylindrical head seen from the front): good to a few degrees near frontal, which
is where the gate decides; it is not a head-pose tracker.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from edge.config import FacesConfig
from edge.faces.landmarks import (
    JAW_LEFT,
    JAW_RIGHT,
    LEFT_EYE,
    MOUTH_CORNERS,
    NOSE_BASE,
    NOSE_TIP,
    RIGHT_EYE,
    eye_centres,
)
from edge.faces.types import QualityReport

# What the kiosk shows the traveller (or the officer) for each failed gate.
MOVE_CLOSER = "move closer"
LOOK_AT_CAMERA = "look at the camera"
OPEN_EYES = "open your eyes"
TOO_DARK = "too dark"
TOO_BRIGHT = "too bright"
HOLD_STILL = "hold still (image blurred)"

# Where the base of the nose sits between the eye line (0) and the mouth (1) on an upright adult
# face looking straight ahead; the pitch estimate measures the departure from it.
_FRONTAL_NOSE_BASE = 0.72
# A pitch of 90 degrees would move the nose base by about half the eye-to-mouth distance.
_PITCH_SPAN = 0.5


def _eye_openness(eye: np.ndarray) -> float:
    # Eye aspect ratio (Soukupová and Čech 2016): lid-to-lid heights over the corner-to-corner width.
    height = np.linalg.norm(eye[1] - eye[5]) + np.linalg.norm(eye[2] - eye[4])
    width = 2.0 * np.linalg.norm(eye[0] - eye[3])
    return float(height / width) if width > 0 else 0.0


def head_pose(landmarks: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees, approximately; 0, 0, 0 is looking straight at the camera."""
    left, right = eye_centres(landmarks)
    roll = math.degrees(math.atan2(right[1] - left[1], right[0] - left[0]))
    c, s = math.cos(math.radians(-roll)), math.sin(math.radians(-roll))
    upright = landmarks @ np.array([[c, s], [-s, c]], dtype=np.float32).T
    half_width = np.linalg.norm(upright[JAW_RIGHT] - upright[JAW_LEFT]) / 2.0
    middle = (upright[JAW_RIGHT][0] + upright[JAW_LEFT][0]) / 2.0
    yaw = math.degrees(math.asin(np.clip((upright[NOSE_TIP][0] - middle) / max(half_width, 1e-6), -1, 1)))
    eye_y = upright[LEFT_EYE.start : RIGHT_EYE.stop, 1].mean()
    mouth_y = upright[list(MOUTH_CORNERS), 1].mean()
    nose_base = (upright[NOSE_BASE][1] - eye_y) / max(mouth_y - eye_y, 1e-6)
    pitch = math.degrees(math.asin(np.clip((nose_base - _FRONTAL_NOSE_BASE) / _PITCH_SPAN, -1, 1)))
    return yaw, pitch, roll


def _chip_statistics(chip: np.ndarray) -> tuple[float, float]:
    """Sharpness and brightness of the inner face (the chip's middle, without hair and background)."""
    grey = cv2.cvtColor(chip, cv2.COLOR_RGB2GRAY)
    n = grey.shape[0]
    inner = grey[n // 4 : n - n // 5, n // 4 : n - n // 4]
    # Laplacian energy relative to the patch's contrast: a dim face is not a blurred one.
    contrast = float(inner.var())
    sharpness = 100.0 * float(cv2.Laplacian(inner, cv2.CV_64F).var()) / max(contrast, 1.0)
    return sharpness, float(inner.mean())


def assess_quality(landmarks: np.ndarray, chip: np.ndarray, limits: FacesConfig) -> QualityReport:
    left, right = eye_centres(landmarks)
    inter_eye = float(np.linalg.norm(right - left))
    yaw, pitch, roll = head_pose(landmarks)
    openness = (_eye_openness(landmarks[LEFT_EYE]) + _eye_openness(landmarks[RIGHT_EYE])) / 2.0
    sharpness, brightness = _chip_statistics(chip)

    problems: list[str] = []
    # In the order a traveller can act on them: distance first, a blurred frame last.
    if inter_eye < limits.min_inter_eye_px:
        problems.append(MOVE_CLOSER)
    if abs(yaw) > limits.max_yaw_deg or abs(pitch) > limits.max_pitch_deg or abs(roll) > limits.max_roll_deg:
        problems.append(LOOK_AT_CAMERA)
    if openness < limits.min_eye_openness:
        problems.append(OPEN_EYES)
    if brightness < limits.min_brightness:
        problems.append(TOO_DARK)
    elif brightness > limits.max_brightness:
        problems.append(TOO_BRIGHT)
    if sharpness < limits.min_sharpness:
        problems.append(HOLD_STILL)

    # Each factor reaches 1 at comfortably-good values, so ranking prefers frontal, sharp, large and
    # evenly lit faces without letting one excellent measure hide a poor one.
    size = min(1.0, inter_eye / (2.0 * limits.min_inter_eye_px))
    sharp = min(1.0, sharpness / (3.0 * max(limits.min_sharpness, 1.0)))
    pose = math.cos(math.radians(yaw)) * math.cos(math.radians(pitch))
    exposure = max(0.0, 1.0 - abs(brightness - 128.0) / 128.0)
    score = size * sharp * pose * (0.5 + 0.5 * exposure)
    return QualityReport(
        inter_eye_px=inter_eye,
        sharpness=sharpness,
        yaw_deg=yaw,
        pitch_deg=pitch,
        roll_deg=roll,
        brightness=brightness,
        eye_openness=openness,
        score=float(score),
        problems=tuple(problems),
    )
