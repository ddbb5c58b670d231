"""Templates from single still images: a document portrait, an enrolment photo, a benchmark image."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edge.config import FacesConfig
from edge.faces.detectors import still_detector
from edge.faces.encoding import FaceEncoder
from edge.faces.fusion import NoUsableFace
from edge.faces.observe import FaceObserver
from edge.faces.types import FaceObservation, FaceTemplate
from edge.image_files import ImageFileError, decode_image, read_image


class ImageError(Exception):
    """A file that is not a readable image."""


def read_rgb(path: Path) -> np.ndarray:
    try:
        bgr = read_image(path)
    except ImageFileError as exc:
        raise ImageError(str(exc)) from None
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def decode_rgb(data: bytes) -> np.ndarray:
    """An image sent as bytes (a reader's portrait, an upload) as an RGB array."""
    try:
        bgr = decode_image(data, f"{len(data)} bytes")
    except ImageFileError as exc:
        raise ImageError(str(exc)) from None
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


# A phone or document-scanner photo can be 12 megapixels; upsampled HOG on that would take
# seconds, and a face in a picture this size is already far above the gates' minimum.
MAX_STILL_SIDE = 1024


def fit_still(rgb: np.ndarray) -> np.ndarray:
    longest = max(rgb.shape[:2])
    if longest <= MAX_STILL_SIDE:
        return rgb
    factor = MAX_STILL_SIDE / longest
    return cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)


def still_observer(config: FacesConfig) -> FaceObserver:
    return FaceObserver(config, still_detector(config))


def main_face(rgb: np.ndarray, observer: FaceObserver) -> FaceObservation:
    """The largest face of a still that should hold one (the CNN fallback runs if HOG finds none)."""
    faces = observer.observe(fit_still(rgb), expect_face=True)
    if not faces:
        raise NoUsableFace(["no face found"])
    return faces[0]


def still_template(rgb: np.ndarray, observer: FaceObserver, encoder: FaceEncoder, *, gated: bool) -> FaceTemplate:
    """The template of a still's main face. `gated`: refuse a face that fails the quality gates
    (enrolment); ungated, take the face as it is (a document portrait is the one there is)."""
    face = main_face(rgb, observer)
    if gated and not face.quality.accepted:
        raise NoUsableFace(face.quality.problems)
    return FaceTemplate(vector=encoder.encode([face.chip])[0], quality=face.quality.score, frames=1)
