"""The plate recogniser: a compact CNN (models/plate_reader.onnx) that reads a whole plate at once.

Its input is the plate image as cut around the detector's box, grey, scaled to 128 x 64 without
keeping the aspect (it was trained so: models/train_plate_reader.py). Its output is CTC: for each
of 32 columns, the probability of "no character" and of each of A-Z0-9, so a decoder reads the
characters left to right whatever their number and spacing. A squarish image may be a two-line
plate: its halves are read as two lines too. One read costs about 2 ms.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from edge.model_files import MANIFEST, manifest_entry, onnx_session
from edge.plates.reads import as_quad
from edge.plates.stages import Evidence, PlateImage, Reading

MODEL_NAME = "plate_reader"
INPUT_SIZE = (128, 64)
# The officer's view of the plate is this high (the crossing card shows it).
CROP_HEIGHT = 64
# Narrower than this (width / height) a plate may hold two lines (motorcycle and square plates; a
# one-line plate in the detector's box is 2:1 (US) to 5:1 (EU)).
TWO_LINE_ASPECT = 1.7
_HALF_OVERLAP = 0.06


class CnnRecogniser:
    def __init__(self, manifest: Path = MANIFEST, threads: int = 1) -> None:
        self._session = onnx_session(manifest_entry(MODEL_NAME, manifest), threads)

    def probabilities(self, gray: np.ndarray) -> np.ndarray:
        """Columns x 37 (column 0: no character) for one grey plate image of any size."""
        if gray.ndim != 2 or min(gray.shape) < 2:
            raise ValueError(f"a plate image must be a grey image at least 2 px each way, got shape {gray.shape}")
        shrinking = gray.shape[1] > INPUT_SIZE[0]
        image = cv2.resize(gray, INPUT_SIZE, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
        return self._session.run(None, {"image": image.astype(np.float32)[None, None]})[0][0]

    def recognise(self, plate: PlateImage) -> Evidence:
        height, width = plate.pixels.shape
        x, y = plate.origin
        quad = as_quad(np.array([[x, y], [x + width, y], [x + width, y + height], [x, y + height]]))
        crop = cv2.resize(plate.pixels, (max(1, round(width * CROP_HEIGHT / height)), CROP_HEIGHT),
                          interpolation=cv2.INTER_AREA if height > CROP_HEIGHT else cv2.INTER_LINEAR)
        readings = [Reading(self.probabilities(plate.pixels), None, quad, crop)]
        if width < TWO_LINE_ASPECT * height:
            # Halves that overlap a little: a tilted plate's lines do not split at the middle row.
            top, bottom = round(height * (0.5 + _HALF_OVERLAP)), round(height * (0.5 - _HALF_OVERLAP))
            readings.append(Reading(self.probabilities(plate.pixels[:top]), self.probabilities(plate.pixels[bottom:]),
                                    quad, crop))
        return Evidence(tuple(readings))


@lru_cache(maxsize=1)
def shared_recogniser() -> CnnRecogniser:
    """One recogniser per process: onnxruntime sessions are safe to run from several threads."""
    return CnnRecogniser(threads=1)
