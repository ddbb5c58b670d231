"""The plate detector: dlib's HOG + linear SVM, trained on synthetic frames by models/train_plate_detector.py.

It answers "does a plate surround this row of characters?": a plate is a light or dark panel
with a border around one row of big characters, which painted lettering on a vehicle (a phone
or fleet number) lacks. The detector's window is the plate's width by a third of it, centred
on the plate: the registration row and the plate around it, whatever the region's plate shape.

`score_row` judges one row found by the row search: the frame around the row is scaled so that
the plates such a row can belong to fill the detector's window, and the best window over the
row's centre gives the score (dlib's SVM margin: above 0 a plate, below 0 not). Scaling to the
row makes far, small plates as easy as near ones, at about a millisecond a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import dlib
import numpy as np

from edge.plates.lines import TextLine
from edge.plates.ocr import MANIFEST, ModelError, manifest_entry, verified_bytes

MODEL_NAME = "plate_detector"
# The training box: the plate's width times BOX_PAD, and a third of that high, on the plate's centre.
BOX_PAD = 1.1
BOX_ASPECT = 3.0
# A row's plate is this many times as wide as the row (a row found whole sits on a plate about
# 1.3 times as wide; a row found in part, on a wider one).
_PLATE_PER_ROW = (1.0, 2.4)
# Scores of rows the detector sees no plate around at all.
NO_PLATE = -10.0


@dataclass(frozen=True)
class Detection:
    """A window the detector took for a plate, in frame pixels (x0, y0, x1, y1), and its SVM score."""

    box: tuple[float, float, float, float]
    score: float


def load_detector(data: bytes) -> dlib.fhog_object_detector:
    """A dlib detector from the bytes of its file (as `save` writes it)."""
    detector = dlib.fhog_object_detector.__new__(dlib.fhog_object_detector)
    try:
        detector.__setstate__((data,))
    except RuntimeError as exc:
        raise ModelError(f"not a dlib HOG detector: {exc}") from exc
    return detector


class PlateDetector:
    def __init__(self, hog: dlib.fhog_object_detector) -> None:
        self._hog = hog
        self.window = (int(hog.detection_window_width), int(hog.detection_window_height))

    @classmethod
    def from_manifest(cls, manifest: Path = MANIFEST) -> PlateDetector:
        """The committed detector, refused (ModelError) unless its file matches the manifest's sha256."""
        return cls(load_detector(verified_bytes(manifest_entry(MODEL_NAME, manifest))))

    def detect(self, gray: np.ndarray, threshold: float = 0.0) -> list[Detection]:
        """Plates in a whole grey image at its own scale and smaller ones (plates at least the
        window wide), best first."""
        boxes, scores, _ = self._hog.run(gray, 0, threshold)
        found = [Detection((float(b.left()), float(b.top()), float(b.right()), float(b.bottom())), float(s))
                 for b, s in zip(boxes, scores, strict=True)]
        return sorted(found, key=lambda d: d.score, reverse=True)

    def score_row(self, gray: np.ndarray, line: TextLine) -> float:
        """How plate-like the surroundings of a row are: the best window over its centre (NO_PLATE if none)."""
        x0, y0, x1, y1 = line.bounds
        length = max(x1 - x0, line.height)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        # The smallest plate the row can belong to fills the window; the pyramid looks at bigger ones.
        scale = self.window[0] / (_PLATE_PER_ROW[0] * length * BOX_PAD)
        half_w = _PLATE_PER_ROW[1] * length * BOX_PAD / 2 + 0.1 * length
        half_h = max(half_w / BOX_ASPECT, (y1 - y0) / 2) + 0.1 * length
        height, width = gray.shape[:2]
        cx0, cy0 = max(0, int(cx - half_w)), max(0, int(cy - half_h))
        cx1, cy1 = min(width, int(np.ceil(cx + half_w))), min(height, int(np.ceil(cy + half_h)))
        if cx1 - cx0 < 2 or cy1 - cy0 < 2:
            return NO_PLATE
        size = (max(1, round((cx1 - cx0) * scale)), max(1, round((cy1 - cy0) * scale)))
        crop = cv2.resize(gray[cy0:cy1, cx0:cx1], size,
                          interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        if size[0] < self.window[0] or size[1] < self.window[1]:
            # The row lies at the frame's edge: pad as dlib would see beyond it.
            crop = cv2.copyMakeBorder(crop, 0, max(0, self.window[1] - size[1]), 0,
                                      max(0, self.window[0] - size[0]), cv2.BORDER_REPLICATE)
        boxes, scores, _ = self._hog.run(crop, 0, NO_PLATE)
        px, py = (cx - cx0) * scale, (cy - cy0) * scale
        over = [s for b, s in zip(boxes, scores, strict=True)
                if b.left() <= px <= b.right() and b.top() <= py <= b.bottom()]
        return float(max(over, default=NO_PLATE))


@lru_cache(maxsize=1)
def shared_detector() -> PlateDetector:
    """One detector per process: dlib's detector is read-only once loaded."""
    return PlateDetector.from_manifest()
