"""The plate detector: a small CNN (models/plate_detector.onnx) that finds plates in a whole frame.

It is a centre-point detector (the CenterNet idea, made small): the frame (inside the ROI) is
scaled to fit 384 x 224 px, grey, and the network gives, on a grid of 4 px cells, how likely a
plate's centre lies in each cell, the plate's width and height there, and the centre's offset
inside the cell. Local maxima of that map are the plates, best first. One pass costs a few ms on
two cores, whatever the number of plates, and a far plate 18 px wide at the input (about 60 px in
a 1280 px frame) still covers several cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# The network's input (width, height) and its output grid's cell size, in input pixels.
INPUT_SIZE = (384, 224)
STRIDE = 4
# Grey that fills the input where the frame (letterboxed) does not reach.
PAD_GREY = 114


@dataclass(frozen=True)
class Letterbox:
    """How a frame (or its ROI) was fitted into the network's input: frame = input / scale + offset."""

    scale: float
    offset: tuple[float, float]


def letterbox(gray: np.ndarray, size: tuple[int, int] = INPUT_SIZE) -> tuple[np.ndarray, float]:
    """The image scaled to fit `size` (aspect kept), padded right and below; the scale used."""
    height, width = gray.shape[:2]
    scale = min(size[0] / width, size[1] / height)
    fitted = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = cv2.resize(gray, fitted, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    canvas = np.full((size[1], size[0]), PAD_GREY, np.uint8)
    canvas[:fitted[1], :fitted[0]] = resized
    return canvas, scale


@dataclass(frozen=True)
class PeakBox:
    """A plate found on the output grid: its box in input pixels (x0, y0, x1, y1) and its score."""

    box: tuple[float, float, float, float]
    score: float


def decode_peaks(heat: np.ndarray, size: np.ndarray, offset: np.ndarray, threshold: float,
                 limit: int) -> list[PeakBox]:
    """Boxes at the local maxima of `heat` (H x W, 0-1) above `threshold`, best first.

    `size` (2 x H x W) is log(width, height / STRIDE) and `offset` (2 x H x W) the centre inside
    the cell, both as the network was trained to give them.
    """
    # A cell is a peak when no neighbour is higher: the standard CenterNet suppression, which
    # keeps two plates side by side apart without comparing boxes.
    peaks = (heat >= cv2.dilate(heat, np.ones((3, 3), np.uint8))) & (heat >= threshold)
    ys, xs = np.nonzero(peaks)
    order = np.argsort(-heat[ys, xs])[:limit]
    found = []
    for y, x in zip(ys[order], xs[order], strict=True):
        cx = (x + offset[0, y, x]) * STRIDE
        cy = (y + offset[1, y, x]) * STRIDE
        w, h = np.exp(size[:, y, x]) * STRIDE
        found.append(PeakBox((float(cx - w / 2), float(cy - h / 2), float(cx + w / 2), float(cy + h / 2)),
                             float(heat[y, x])))
    return found
