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
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from edge.model_files import MANIFEST, manifest_entry, onnx_session
from edge.plates.reads import as_quad
from edge.plates.stages import PlateCandidate

MODEL_NAME = "plate_detector"

# The network's input (width, height) and its output grid's cell size, in input pixels.
INPUT_SIZE = (384, 224)
STRIDE = 4
# Grey that fills the input where the frame (letterboxed) does not reach.
PAD_GREY = 114


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


def _covered(box: tuple[float, float, float, float], by: tuple[float, float, float, float]) -> float:
    """The share of the smaller of two boxes that the other covers."""
    iw = max(0.0, min(box[2], by[2]) - max(box[0], by[0]))
    ih = max(0.0, min(box[3], by[3]) - max(box[1], by[1]))
    smaller = min((box[2] - box[0]) * (box[3] - box[1]), (by[2] - by[0]) * (by[3] - by[1]))
    return iw * ih / smaller if smaller > 0 else 0.0


# A box mostly inside a better one is the same plate seen again (a peak on its end): never a
# plate of its own, and its read would be a confident fragment of the plate.
_SAME_PLATE = 0.5


def decode_peaks(heat: np.ndarray, size: np.ndarray, offset: np.ndarray, threshold: float,
                 limit: int) -> list[PeakBox]:
    """Boxes at the local maxima of `heat` (H x W, 0-1) above `threshold`, best first, without the
    boxes that lie mostly inside a better one.

    `size` (2 x H x W) is log(width, height / STRIDE) and `offset` (2 x H x W) the centre inside
    the cell, both as the network was trained to give them.
    """
    # A cell is a peak when no neighbour is higher: the standard CenterNet suppression, which
    # keeps two plates side by side apart without comparing boxes.
    peaks = (heat >= cv2.dilate(heat, np.ones((3, 3), np.uint8))) & (heat >= threshold)
    ys, xs = np.nonzero(peaks)
    found: list[PeakBox] = []
    for y, x in zip(ys[np.argsort(-heat[ys, xs])], xs[np.argsort(-heat[ys, xs])], strict=True):
        cx = (x + offset[0, y, x]) * STRIDE
        cy = (y + offset[1, y, x]) * STRIDE
        w, h = np.exp(size[:, y, x]) * STRIDE
        box = (float(cx - w / 2), float(cy - h / 2), float(cx + w / 2), float(cy + h / 2))
        if all(_covered(box, kept.box) < _SAME_PLATE for kept in found):
            found.append(PeakBox(box, float(heat[y, x])))
            if len(found) == limit:
                break
    return found


class CnnPlateDetector:
    """The plate-detector stage on the CNN: plates above `threshold`, at most `limit`, best first."""

    def __init__(self, manifest: Path = MANIFEST, threads: int = 1, threshold: float = 0.1, limit: int = 5) -> None:
        self._session = onnx_session(manifest_entry(MODEL_NAME, manifest), threads)
        self.threshold = threshold
        self.limit = limit

    def detect(self, gray: np.ndarray) -> list[PlateCandidate]:
        fitted, scale = letterbox(gray)
        heat, box = self._session.run(None, {"image": fitted.astype(np.float32)[None, None]})
        found = []
        for peak in decode_peaks(heat[0, 0], box[0, :2], box[0, 2:], self.threshold, self.limit):
            x0, y0, x1, y1 = (v / scale for v in peak.box)
            found.append(PlateCandidate(as_quad(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])), peak.score))
        return found


@lru_cache(maxsize=1)
def shared_detector() -> CnnPlateDetector:
    """One detector per process: onnxruntime sessions are safe to run from several threads."""
    return CnnPlateDetector()
