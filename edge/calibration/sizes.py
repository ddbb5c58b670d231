"""How large plates and faces appear: plate character height and inter-eye distance, in pixels.

Both are measured with the product's own readers (the plate localiser and reader, the face
detector and landmarks), so the number a technician sees is the one the lane will work with.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from edge.faces.observe import FaceObserver
from edge.faces.types import Box
from edge.plates.lines import TextLine
from edge.plates.localiser import PlateLocaliser
from edge.plates.pipeline import PlateReader, grey
from edge.plates.reads import Quad, as_quad


@dataclass(frozen=True)
class PlateSize:
    char_height_px: float
    quad: Quad  # the character row's corners in the frame
    text: str | None  # what the reader read there; None when no row read as a plate
    minimum_px: float

    @property
    def ok(self) -> bool:
        return self.char_height_px >= self.minimum_px


def _contains(line: TextLine, point: tuple[float, float]) -> bool:
    x0, y0, x1, y1 = line.bounds
    return x0 <= point[0] <= x1 and y0 <= point[1] <= y1


def plate_size(image: np.ndarray, reader: PlateReader, minimum_px: float) -> PlateSize | None:
    """The character height of the plate the reader reads best in the frame (inside the reader's ROI).

    When no plate reads, the most plate-like row of characters is measured instead (text None):
    characters too small to read are exactly what the technician needs to see a number for."""
    gray = grey(image)
    rows = PlateLocaliser().candidates(gray, reader.settings.roi)
    if not rows:
        return None
    reads = reader.read_frame(image)
    if reads:
        centre = tuple(np.mean(np.array(reads[0].quad), axis=0))
        row = next((r for r in rows if _contains(r, centre)), None)
        if row is not None:
            return PlateSize(row.height, as_quad(row.quad(0.0, 0.0)), reads[0].text, minimum_px)
    return PlateSize(rows[0].height, as_quad(rows[0].quad(0.0, 0.0)), None, minimum_px)


@dataclass(frozen=True)
class FaceSize:
    inter_eye_px: float
    box: Box
    problems: tuple[str, ...]  # the quality gates this face failed (pose, light, sharpness ...)
    minimum_px: float

    @property
    def ok(self) -> bool:
        return self.inter_eye_px >= self.minimum_px


def face_size(image: np.ndarray, observer: FaceObserver, minimum_px: float) -> FaceSize | None:
    """The inter-eye distance of the largest face in the BGR frame, or None when there is no face."""
    faces = observer.observe(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), expect_face=True)
    if not faces:
        return None
    face = faces[0]
    return FaceSize(face.quality.inter_eye_px, face.box, face.quality.problems, minimum_px)
