"""Plate localisation on whole frames: rows of plate-sized glyphs, searched at three scales.

Each scale finds glyphs 9-36 px high, so full, half and quarter resolution together cover plate
characters from 9 px (a plate far away, about 50 px wide) to 144 px (a plate filling a third of
the frame). Rows are ranked by how plate-like they look; the reader then reads the best few and
keeps the ones that read as a plate of the lane's region, which is the real test.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from edge.plates.lines import LineSearch, TextLine, find_lines, main_lines
from edge.plates.reads import as_quad
from edge.plates.stages import PlateCandidate

Roi = tuple[int, int, int, int]  # x, y, width, height


@dataclass(frozen=True)
class LocaliserSettings:
    scales: tuple[float, ...] = (1.0, 0.5, 0.25)
    min_glyph_height: int = 9
    max_glyph_height: int = 36
    # A plate's main line has a handful of characters; long rows are other text or a grille.
    min_glyphs: int = 3
    max_glyphs: int = 11
    # Longer rows (in glyph heights) are running text, and would cost the recogniser the most.
    max_length: float = 12.0


def clip_roi(shape: tuple[int, ...], roi: Roi | None) -> Roi:
    height, width = shape[:2]
    if roi is None:
        return 0, 0, width, height
    x, y, w, h = roi
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(width, x + w), min(height, y + h)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"region of interest {roi} lies outside the {width}x{height} frame")
    return x0, y0, x1 - x0, y1 - y0


def overlap(a: TextLine, b: TextLine) -> float:
    ax0, ay0, ax1, ay1 = a.bounds
    bx0, by0, bx1, by1 = b.bounds
    iw = max(0.0, min(ax1, bx1) - max(ax0, bx0))
    ih = max(0.0, min(ay1, by1) - max(ay0, by0))
    smaller = min((ax1 - ax0) * (ay1 - ay0), (bx1 - bx0) * (by1 - by0))
    return iw * ih / smaller if smaller > 0 else 0.0


class PlateLocaliser:
    def __init__(self, settings: LocaliserSettings | None = None) -> None:
        self.settings = settings or LocaliserSettings()
        s = self.settings
        self._search = LineSearch(min_glyph_height=s.min_glyph_height, max_glyph_height=s.max_glyph_height,
                                  min_glyphs=s.min_glyphs)

    def candidates(self, gray: np.ndarray, roi: Roi | None = None) -> list[TextLine]:
        """Plate-like text rows in frame coordinates, best first, one per place."""
        found = [line for scale in self.settings.scales for line in self._rows_at(gray, roi, scale)]
        return _distinct_places(main_lines(sorted(found, key=lambda line: line.score, reverse=True)), [])

    def coarse_to_fine(self, gray: np.ndarray, roi: Roi | None = None) -> Iterator[list[TextLine]]:
        """The rows of each scale, coarsest (biggest plates) first, best first, one per place.

        A caller that finds its plate among the coarse rows stops before the finest scale, which
        costs the most (a full-resolution pass). Places may repeat across scales.
        """
        for scale in sorted(self.settings.scales):
            yield _distinct_places(main_lines(self._rows_at(gray, roi, scale)), [])

    def _rows_at(self, gray: np.ndarray, roi: Roi | None, scale: float) -> list[TextLine]:
        """Plate-like rows found at one scale, in frame coordinates, best first."""
        x0, y0, w, h = clip_roi(gray.shape, roi)
        view = gray[y0:y0 + h, x0:x0 + w]
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        image = view if scale == 1.0 else cv2.resize(view, size, interpolation=cv2.INTER_AREA)
        return [line.scaled(1.0 / scale, (x0, y0)) for line in find_lines(image, self._search)
                if len(line.glyphs) <= self.settings.max_glyphs
                and line.right - line.left <= self.settings.max_length * line.height]


def _distinct_places(lines: list[TextLine], seen: list[TextLine]) -> list[TextLine]:
    """`lines` in order, without those lying on a line kept before (or in `seen`)."""
    kept: list[TextLine] = []
    for line in lines:
        if all(overlap(line, other) < 0.5 for other in seen + kept):
            kept.append(line)
    return kept


class RowDetector:
    """The plate-detector stage without a model: rows of plate-sized glyphs (`PlateLocaliser`), each
    widened to the plate that would carry it (a plate reaches about a glyph height beyond its
    row's ends, and most of one above and below). Score: how plate-like the row is, 0-1."""

    def __init__(self, settings: LocaliserSettings | None = None) -> None:
        self._localiser = PlateLocaliser(settings)

    def detect(self, gray: np.ndarray) -> list[PlateCandidate]:
        return [PlateCandidate(as_quad(row.quad(margin_x=0.9, margin_y=0.7)), min(1.0, row.score / 8))
                for row in self._localiser.candidates(gray)]
