"""The dlib models that face_recognition ships (face_recognition_models), each loaded once per process.

Loading takes about a second in all, so it happens on first use, not at import. The CNN detector
and the recognition network keep per-call state inside dlib, so callers hold `NETWORK_LOCK`
around them; the HOG detector and the shape predictor are safe to share.
"""

from __future__ import annotations

import threading
from functools import cache

import dlib

NETWORK_LOCK = threading.Lock()


def _models():
    # face_recognition_models imports pkg_resources on import; keep that cost off `edge --help`.
    import face_recognition_models

    return face_recognition_models


@cache
def hog_detector() -> dlib.fhog_object_detector:
    return dlib.get_frontal_face_detector()


@cache
def cnn_detector() -> dlib.cnn_face_detection_model_v1:
    return dlib.cnn_face_detection_model_v1(_models().cnn_face_detector_model_location())


@cache
def landmark_predictor() -> dlib.shape_predictor:
    """The 68-point predictor: pose, eyes and the alignment of the chip all come from its points."""
    return dlib.shape_predictor(_models().pose_predictor_model_location())


@cache
def recognition_network() -> dlib.face_recognition_model_v1:
    return dlib.face_recognition_model_v1(_models().face_recognition_model_location())
