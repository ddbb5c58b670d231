"""Focus and exposure of a camera image: the two numbers a technician turns the lens and iris for."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from edge.config import RegionOfInterest
from edge.plates.pipeline import grey

HISTOGRAM_BINS = 16
# Grey levels at the ends of the range where detail is lost: clipped to black or to white.
DARK_LEVEL = 3
BRIGHT_LEVEL = 252
# More than this share of the view clipped hides plates (white) or faces in shadow (black).
MAX_CLIPPED = 0.02
# A mean outside this range leaves the readers too little contrast to work with.
MIN_MEAN, MAX_MEAN = 60.0, 200.0


def crop(image: np.ndarray, roi: RegionOfInterest | None) -> np.ndarray:
    if roi is None:
        return image
    height, width = image.shape[:2]
    if roi.x >= width or roi.y >= height:
        raise ValueError(f"ROI {roi.x},{roi.y} {roi.width}x{roi.height} lies outside the {width}x{height} image")
    return image[roi.y : roi.y + roi.height, roi.x : roi.x + roi.width]


def focus_score(image: np.ndarray, roi: RegionOfInterest | None = None) -> float:
    """Variance of the Laplacian of the grey image: higher is sharper. It depends on what is in
    view, so it is compared between frames of the same scene (while turning the focus ring, or
    against the calibrated baseline), never against a fixed number."""
    return float(cv2.Laplacian(crop(grey(image), roi), cv2.CV_64F).var())


@dataclass(frozen=True)
class Exposure:
    mean: float  # grey level 0..255
    dark_clipped: float  # share of pixels at or below DARK_LEVEL
    bright_clipped: float  # share at or above BRIGHT_LEVEL
    histogram: tuple[float, ...]  # share of pixels in each of HISTOGRAM_BINS equal bins
    problems: tuple[str, ...]  # empty when the exposure is usable

    @property
    def clipped(self) -> float:
        return self.dark_clipped + self.bright_clipped


def exposure(image: np.ndarray, roi: RegionOfInterest | None = None) -> Exposure:
    pixels = crop(grey(image), roi)
    counts = np.bincount(pixels.ravel(), minlength=256).astype(np.float64) / pixels.size
    mean = float(np.dot(np.arange(256), counts))
    dark = float(counts[: DARK_LEVEL + 1].sum())
    bright = float(counts[BRIGHT_LEVEL:].sum())
    problems = []
    wanted = f"mean grey {mean:.0f}, want {MIN_MEAN:.0f}-{MAX_MEAN:.0f}"
    if mean < MIN_MEAN:
        problems.append(f"too dark ({wanted}): open the iris or add light")
    elif mean > MAX_MEAN:
        problems.append(f"too bright ({wanted}): close the iris")
    if dark > MAX_CLIPPED:
        problems.append(f"{dark:.1%} of the view is clipped to black")
    if bright > MAX_CLIPPED:
        problems.append(f"{bright:.1%} of the view is clipped to white")
    histogram = tuple(float(v) for v in counts.reshape(HISTOGRAM_BINS, -1).sum(axis=1))
    return Exposure(mean, dark, bright, histogram, tuple(problems))
