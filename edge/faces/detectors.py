"""The face detector that config names (`faces.detector`), for a lane's frames and for stills."""

from __future__ import annotations

from edge.config import FacesConfig
from edge.faces.detection import DlibFaceDetector, FaceDetector
from edge.faces.yunet import FRAME_LONG_SIDE, YuNetFaceDetector


def frame_detector(config: FacesConfig) -> FaceDetector:
    """For a camera's frames: YuNet on the frame scaled to FRAME_LONG_SIDE, or HOG at detect_scale."""
    hog = DlibFaceDetector.for_frames(config)
    return YuNetFaceDetector(FRAME_LONG_SIDE, dlib=hog) if config.detector == "yunet" else hog


def still_detector(config: FacesConfig) -> FaceDetector:
    """For a portrait, an enrolment photo or a benchmark image (already bounded by fit_still):
    YuNet on the image as it is, or upsampled HOG; either falls back to the CNN."""
    dlib = DlibFaceDetector.for_stills()
    return YuNetFaceDetector(None, dlib=dlib) if config.detector == "yunet" else dlib
