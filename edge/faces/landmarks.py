"""The 68 dlib landmarks of a detected face, and the aligned chip the recognition network reads.

Point numbering is dlib's (iBUG 300-W): jaw 0-16, brows 17-26, nose 27-35 (tip 30, base 33),
the eye on the image's left 36-41, the other eye 42-47, mouth 48-67.
"""

from __future__ import annotations

import dlib
import numpy as np

from edge.faces import dlib_models
from edge.faces.types import Box

CHIP_SIZE = 150  # what dlib's recognition network was trained on
CHIP_PADDING = 0.25

LEFT_EYE = slice(36, 42)
RIGHT_EYE = slice(42, 48)
NOSE_TIP = 30
NOSE_BASE = 33
JAW_LEFT = 2  # jaw points at about the height of the nose, used for the face's width
JAW_RIGHT = 14
MOUTH_CORNERS = (48, 54)


def _rect(box: Box) -> dlib.rectangle:
    return dlib.rectangle(box.left, box.top, box.left + box.width - 1, box.top + box.height - 1)


def find_landmarks(rgb: np.ndarray, box: Box) -> np.ndarray:
    shape = dlib_models.landmark_predictor()(rgb, _rect(box))
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)


def face_chip(rgb: np.ndarray, box: Box, landmarks: np.ndarray) -> np.ndarray:
    """The face rotated upright, scaled and cropped to CHIP_SIZE square (RGB uint8)."""
    points = dlib.points([dlib.point(round(float(x)), round(float(y))) for x, y in landmarks])
    shape = dlib.full_object_detection(_rect(box), points)
    return dlib.get_face_chip(rgb, shape, size=CHIP_SIZE, padding=CHIP_PADDING)


def eye_centres(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return landmarks[LEFT_EYE].mean(axis=0), landmarks[RIGHT_EYE].mean(axis=0)
