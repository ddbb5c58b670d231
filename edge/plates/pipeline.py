"""Frame (or crop) in, plate reads out: localise rows of glyphs, straighten, recognise, normalise."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np

from edge.config import PlatesConfig
from edge.plates.detector import PlateDetector, shared_detector
from edge.plates.formats import BUILTIN_REGIONS, Decoded, RegionFormat, read_plate, read_two_line_plate
from edge.plates.lines import (
    LineSearch,
    TextLine,
    cut_line,
    extend_ends,
    find_lines,
    level_band,
    line_below,
    main_lines,
)
from edge.plates.localiser import LocaliserSettings, PlateLocaliser, Roi, clip_roi, overlap
from edge.plates.ocr import LINE_HEIGHT, PlateRecogniser, shared_recogniser
from edge.plates.reads import FrameRead, as_quad

# Plate crops are brought to this height before their glyph rows are searched.
_CROP_HEIGHT = 100
_CROP_SEARCH = LineSearch(min_glyph_height=20, max_glyph_height=95, min_glyphs=2)
# Rows of a crop that are read (best first): the registration is nearly always among the first two.
_CROP_ROWS = 2
# Where a plate's registration sits when no row is found, in crop heights (US, EU and Mercosul plates).
_CROP_BAND_CENTRE = 0.55
_CROP_BAND_HEIGHT = 0.45


@dataclass(frozen=True)
class ReaderSettings:
    # Region formats tried on every plate; the best reading among them wins.
    regions: tuple[str, ...] = ("any",)
    roi: Roi | None = None
    # Candidate rows read per frame (each costs one recogniser run, 10-30 ms), at most half of
    # them at one scale, so that rows of big shapes at a coarse scale leave room for small plates.
    candidates: int = 6
    # Plate fonts are narrower than the recogniser's training text; widening helps it.
    stretch: float = 1.3
    # Context read beside a row's ends, in glyph heights: a character the row search missed at an
    # end is still read (the recogniser learnt to leave plate edges and stickers out).
    margin: float = 0.15
    # Reads below this confidence are not reported; one above `sure_confidence` stops the search.
    min_confidence: float = 0.2
    sure_confidence: float = 0.9
    # The same for a region without personalised plates: a read that fits its strict format is
    # already good evidence (a look-alike resolved by the format counts at half confidence).
    sure_strict_confidence: float = 0.45
    localiser: LocaliserSettings = field(default_factory=LocaliserSettings)
    # Which rows a frame reads first: "rows", the row search's own order, coarse to fine; or
    # "detector", every scale's rows ordered by the HOG plate detector's score (see _read_ranked).
    ranking: Literal["rows", "detector"] = "rows"
    # Rows (best by the row search, all scales) that the detector scores, about 1 ms each.
    detector_rows: int = 8


def grey(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] in (3, 4):
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY if image.shape[2] == 3 else cv2.COLOR_BGRA2GRAY)
    raise ValueError(f"expected a grey or BGR image, got an array of shape {image.shape}")


def region_formats(plates: PlatesConfig) -> dict[str, RegionFormat]:
    """Built-in formats, extended or overridden by the config's own."""
    formats = dict(BUILTIN_REGIONS)
    for f in plates.formats:
        formats[f.code] = RegionFormat(f.code, f.name, tuple(f.patterns), f.letters, f.min_length, f.max_length,
                                       f.free)
    return formats


class PlateReader:
    @classmethod
    def from_config(cls, plates: PlatesConfig, roi: Roi | None = None,
                    recogniser: PlateRecogniser | None = None) -> PlateReader:
        settings = ReaderSettings(regions=tuple(plates.regions), roi=roi, candidates=plates.candidates,
                                  min_confidence=plates.min_confidence, ranking=plates.ranking)
        return cls(settings, recogniser, region_formats(plates))

    def __init__(self, settings: ReaderSettings | None = None, recogniser: PlateRecogniser | None = None,
                 formats: Mapping[str, RegionFormat] = BUILTIN_REGIONS,
                 detector: PlateDetector | None = None) -> None:
        self.settings = settings or ReaderSettings()
        unknown = [code for code in self.settings.regions if code not in formats]
        if unknown:
            raise ValueError(f"unknown plate region(s) {', '.join(unknown)}; known: {', '.join(sorted(formats))}")
        self._regions = [formats[code] for code in self.settings.regions]
        self._formats = formats
        self._recogniser = recogniser or shared_recogniser()
        self._localiser = PlateLocaliser(self.settings.localiser)
        self._detector = None
        if self.settings.ranking == "detector":
            self._detector = detector or shared_detector()

    def read_frame(self, image: np.ndarray, timestamp: float = 0.0) -> list[FrameRead]:
        """Plates read in a whole frame (inside the ROI when one is set), most confident first
        (under the detector's ranking: most plate-like first)."""
        gray = grey(image)
        if self._detector is not None:
            return self._read_ranked(gray, self._detector, timestamp)
        reads = []
        done: list[TextLine] = []
        # Big plates first: a sure read of one ends the search before the costly fine scales.
        for rows in self._localiser.coarse_to_fine(gray, self.settings.roi):
            fresh = [line for line in rows if all(overlap(line, seen) < 0.5 for seen in done)]
            per_scale = (self.settings.candidates + 1) // 2
            for line in fresh[: min(per_scale, self.settings.candidates - len(done))]:
                done.append(line)
                read = self._read_line(gray, line, rows, self._regions, timestamp)
                if read is not None:
                    reads.append(read)
                    # Rows come best first; a sure read of one ends the search (each read costs 10-35 ms).
                    if read.confidence >= self._sure_for(read.region):
                        return self._distinct(reads)
        return self._distinct(reads)

    def _read_ranked(self, gray: np.ndarray, detector: PlateDetector, timestamp: float) -> list[FrameRead]:
        """Rows of every scale, read in the order of the plate detector's score.

        The row search finds rows of characters; only the detector sees whether a plate
        surrounds them, so painted lettering (phone and fleet numbers) falls behind a small,
        far plate. Reads keep the detector's order: a confident read of lettering must not
        overtake the plate's.
        """
        x0, y0, w, h = clip_roi(gray.shape, self.settings.roi)
        # The detector looks no further than the ROI either: what lies outside is not the lane's.
        view = gray[y0:y0 + h, x0:x0 + w]
        rows = self._localiser.candidates(gray, self.settings.roi)[: self.settings.detector_rows]
        scores = [detector.score_row(view, row.scaled(1.0, (-x0, -y0))) for row in rows]
        reads: list[FrameRead] = []
        for i in sorted(range(len(rows)), key=lambda i: scores[i], reverse=True)[: self.settings.candidates]:
            read = self._read_line(gray, rows[i], rows, self._regions, timestamp)
            if read is None:
                continue
            reads.append(read)
            if read.confidence >= self._sure_for(read.region):
                break
        return self._distinct(reads, keep_order=True)

    def read_crop(self, image: np.ndarray, region: str | None = None) -> FrameRead | None:
        """The main line of a cropped plate, or None when no plate text is found."""
        gray = grey(image)
        scale = _CROP_HEIGHT / gray.shape[0]
        size = (max(1, round(gray.shape[1] * scale)), _CROP_HEIGHT)
        resized = cv2.resize(gray, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
        regions = self._regions if region is None else [self._region(region)]
        rows = main_lines(find_lines(resized, _CROP_SEARCH)) or [
            # No row found (touching characters, busy art): the registration is the plate's
            # middle band, about 45% of its height.
            level_band(size[0], _CROP_BAND_CENTRE * _CROP_HEIGHT, _CROP_BAND_HEIGHT * _CROP_HEIGHT)]
        reads = []
        for line in rows[:_CROP_ROWS]:
            # A crop is one plate: its registration may run across the whole width even where the
            # row search found only part of it, so the row is also read from edge to edge.
            across = max(line.left, size[0] - line.right) / line.height
            for margin in dict.fromkeys((self.settings.margin, max(self.settings.margin, across))):
                read = self._read_line(resized, line, rows, regions, 0.0, margin)
                if read is not None:
                    reads.append(read)
        if not reads:
            return None
        # The reading that explains the most characters confidently: a clean read of part of the
        # registration must not beat a read of all of it.
        best = max(reads, key=lambda r: sum(r.char_confidences))
        corners = np.array(best.quad, dtype=np.float32) / scale
        return FrameRead(best.text, best.region, best.confidence, best.char_confidences, as_quad(corners),
                         best.timestamp, best.crop)

    def _sure_for(self, code: str) -> float:
        strict = not self._formats[code].free
        return self.settings.sure_strict_confidence if strict else self.settings.sure_confidence

    def _region(self, code: str) -> RegionFormat:
        try:
            return self._formats[code]
        except KeyError:
            raise ValueError(f"unknown plate region {code!r}") from None

    def _read_line(self, gray: np.ndarray, line: TextLine, rows: list[TextLine], regions: list[RegionFormat],
                   timestamp: float, margin: float | None = None) -> FrameRead | None:
        line = extend_ends(gray, line)
        margin = self.settings.margin if margin is None else margin
        crop = cut_line(gray, line, LINE_HEIGHT, self.settings.stretch, margin_x=margin)
        probs = self._recogniser.probabilities(crop)
        second = line_below(line, rows) if any(r.two_line_patterns for r in regions) else None
        below = None if second is None else self._recogniser.probabilities(
            cut_line(gray, second, LINE_HEIGHT, self.settings.stretch, margin_x=margin))
        best: tuple[Decoded, RegionFormat, bool] | None = None
        for region in regions:
            # A plate with a second line of the same size under it is a two-line plate where the
            # region has such a format; otherwise the line is read on its own.
            decoded = None
            if below is not None and region.two_line_patterns:
                decoded = read_two_line_plate(probs, below, region)
            two_line = decoded is not None
            if decoded is None:
                decoded = read_plate(probs, region)
            if decoded is not None and (best is None or decoded.log_prob > best[0].log_prob):
                best = (decoded, region, two_line)
        if best is None or best[0].confidence < self.settings.min_confidence:
            return None
        decoded, region, two_line = best
        quad = _stacked(line, second) if two_line and second is not None else line.quad()
        return FrameRead(decoded.text, region.code, decoded.confidence, decoded.char_confidences,
                         as_quad(quad), timestamp, crop)

    @staticmethod
    def _distinct(reads: list[FrameRead], keep_order: bool = False) -> list[FrameRead]:
        """Most confident first (or in the given order); one read per text (rows found at two
        scales read the same)."""
        seen: set[str] = set()
        out = []
        for read in reads if keep_order else sorted(reads, key=lambda r: r.confidence, reverse=True):
            if read.text not in seen:
                seen.add(read.text)
                out.append(read)
        return out


def _stacked(top: TextLine, bottom: TextLine) -> np.ndarray:
    """Corners around both lines of a two-line plate."""
    upper, lower = top.quad(), bottom.quad()
    return np.array([upper[0], upper[1], lower[2], lower[3]], dtype=np.float32)
