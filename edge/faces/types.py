"""The data that leaves edge.faces: frozen, plain, and free of dlib objects."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Box:
    """A face's box in the pixels of the frame it was found in."""

    left: int
    top: int
    width: int
    height: int


@dataclass(frozen=True)
class QualityReport:
    """What the gates measured on one face, and every gate it failed, in words for the kiosk."""

    inter_eye_px: float  # distance between the eye centres, in frame pixels
    sharpness: float  # Laplacian variance over grey-level variance (x100) on the normalised chip
    yaw_deg: float
    pitch_deg: float
    roll_deg: float
    brightness: float  # mean grey level of the inner face, 0..255
    eye_openness: float  # eye aspect ratio, both eyes averaged (about 0.3 open, below 0.15 closed)
    score: float  # 0..1, for ranking frames of one traveller; only comparable between accepted faces
    problems: tuple[str, ...]  # empty when every gate passed

    @property
    def accepted(self) -> bool:
        return not self.problems


@dataclass(frozen=True, eq=False)
class FaceObservation:
    """One face found in one frame, with its landmarks, quality and the aligned chip to encode.

    Keeping the 150x150 chip (67 kB) rather than the frame lets the lane hold a traveller's best
    faces without holding their frames."""

    box: Box
    detector: str  # "hog" or "cnn" (the fallback)
    landmarks: np.ndarray  # float32 (68, 2), dlib's points in frame pixels
    quality: QualityReport
    chip: np.ndarray  # RGB uint8 (150, 150, 3), upright and aligned
    frame_time: float | None = None


@dataclass(frozen=True, eq=False)
class FaceTemplate:
    """A unit-length 128-d descriptor and where it came from."""

    vector: np.ndarray  # float32 (128,), L2 norm 1
    quality: float  # best quality score among the faces fused into it
    frames: int  # how many faces were fused


@dataclass(frozen=True)
class VerificationResult:
    """A 1:1 comparison: the evidence (score, threshold, reference used) and the decision."""

    score: float
    threshold: float
    match: bool
    reference: str  # "document" (the reader's portrait) or "enrolled" (the stored record)


@dataclass(frozen=True)
class SearchCandidate:
    """One watchlist template close to the probe, for the officer to look at."""

    template_id: str
    person_id: str
    score: float
    rank: int  # 1 = the most similar
    above_threshold: bool
