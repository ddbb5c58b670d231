"""The dlib models that face_recognition uses (package face_recognition_models), each loaded once per process.

Loading takes about a second in all, so it happens on first use, not at import. The CNN detector
and the recognition network keep per-call state inside dlib, so callers hold `NETWORK_LOCK`
around them. dlib's HOG object_detector scans through a `mutable` scanner member, so two
threads running one detector race (seen as a segfault with two lanes): each thread gets its own
(it is small and loads in milliseconds). The shape predictor is safe to share.
"""

from __future__ import annotations

import importlib.util
import threading
from functools import cache
from pathlib import Path

import dlib

NETWORK_LOCK = threading.Lock()


def model_file(name: str) -> str:
    """A model file of the face_recognition_models package, found without importing it: its
    __init__ imports pkg_resources, which setuptools 81 removed and which warns before that."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face_recognition_models is not installed (pip install face_recognition_models)")
    path = Path(spec.submodule_search_locations[0]) / "models" / name
    if not path.is_file():
        raise RuntimeError(f"face_recognition_models lacks {name}; reinstall it")
    return str(path)


_per_thread = threading.local()


def hog_detector() -> dlib.fhog_object_detector:
    detector = getattr(_per_thread, "hog", None)
    if detector is None:
        detector = _per_thread.hog = dlib.get_frontal_face_detector()
    return detector


@cache
def cnn_detector() -> dlib.cnn_face_detection_model_v1:
    return dlib.cnn_face_detection_model_v1(model_file("mmod_human_face_detector.dat"))


@cache
def landmark_predictor() -> dlib.shape_predictor:
    """The 68-point predictor: pose, eyes and the alignment of the chip all come from its points."""
    return dlib.shape_predictor(model_file("shape_predictor_68_face_landmarks.dat"))


@cache
def recognition_network() -> dlib.face_recognition_model_v1:
    return dlib.face_recognition_model_v1(model_file("dlib_face_recognition_resnet_model_v1.dat"))


def load_all() -> None:
    """Load the models a frame needs now (the service at start, a benchmark before timing),
    rather than on the first traveller. The CNN stays lazy: it is the rare fallback."""
    hog_detector()
    landmark_predictor()
    recognition_network()
