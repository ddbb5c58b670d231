"""The line recogniser: EasyOCR's `english_g2` network, exported to ONNX, on onnxruntime.

The product's default recogniser is the plate CNN (edge/plates/recogniser.py); this one is the
documented option that comes straight from the card's `easyocr` package (`recogniser = "easyocr"`).

The network reads one line of text (grey, 64 px high, any width) and gives, for each 4-px column
step, a probability over 96 characters + the CTC blank. Plates only use A-Z and 0-9, so the
output is folded to 37 classes here: lower-case letters count as their capitals (the network
was trained on mixed case), and every other symbol counts as "no character" together with the
blank (hyphens, dots and spaces printed between groups are not part of the plate text).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from edge.model_files import MANIFEST, manifest_entry, onnx_session
from edge.plates.formats import ALPHABET
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
from edge.plates.reads import as_quad
from edge.plates.stages import Evidence, PlateImage, Reading

MODEL_NAME = "plate_ocr"
LINE_HEIGHT = 64


def _fold_matrix(characters: str) -> np.ndarray:
    """(1 + len(characters)) x 37 matrix that sums network classes into plate classes."""
    fold = np.zeros((len(characters) + 1, len(ALPHABET) + 1), dtype=np.float32)
    fold[0, 0] = 1.0
    for index, char in enumerate(characters, start=1):
        upper = char.upper()
        fold[index, 1 + ALPHABET.index(upper) if upper in ALPHABET else 0] = 1.0
    return fold


class LineRecogniser:
    """Reads lines of plate text; one instance per process is shared read-only by the lanes."""

    def __init__(self, manifest: Path = MANIFEST, threads: int = 1) -> None:
        entry = manifest_entry(MODEL_NAME, manifest)
        self._session = onnx_session(entry, threads)
        self._fold = _fold_matrix(entry.characters)

    def probabilities(self, line: np.ndarray) -> np.ndarray:
        """Per-step probabilities (T x 37, column 0 = no character) for one grey line image.

        The line must already be LINE_HEIGHT px high (see `lines.cut_line`).
        """
        return _softmax(self.logits(line)) @ self._fold

    def logits(self, line: np.ndarray) -> np.ndarray:
        """The network's raw output (T x 97) for one grey line image."""
        return self._session.run(None, {"image": self.network_input(line)})[0][0]

    @staticmethod
    def network_input(line: np.ndarray) -> np.ndarray:
        """A grey line image as the network takes it: (1, 1, 64, W) float32 in [-1, 1]."""
        if line.ndim != 2 or line.shape[0] != LINE_HEIGHT:
            raise ValueError(f"a text line must be a grey image {LINE_HEIGHT} px high, got shape {line.shape}")
        return (line.astype(np.float32) / 127.5 - 1.0)[None, None]


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


@lru_cache(maxsize=1)
def shared_line_recogniser() -> LineRecogniser:
    """One recogniser per process: the session is thread-safe for concurrent `run` calls.

    Two threads: a frame's reads are sequential, and the budget is for a 2-core machine.
    """
    return LineRecogniser(threads=2)


# Plate images are brought to this height before their glyph rows are searched.
_CROP_HEIGHT = 100
_CROP_SEARCH = LineSearch(min_glyph_height=20, max_glyph_height=95, min_glyphs=2)
# Rows of a plate image that are read (best first): the registration is nearly always among the first two.
_CROP_ROWS = 2
# Where a plate's registration sits when no row is found, in plate heights (US, EU and Mercosul plates).
_CROP_BAND_CENTRE = 0.55
_CROP_BAND_HEIGHT = 0.45


class EasyOcrRecogniser:
    """The plate-recogniser stage on `english_g2`: the rows of glyphs in a plate image, each read
    as a line (CTC output), with the line under it where there is one (two-line plates).

    A plate image is one plate: its registration may run across the whole width even where the
    row search found only part of it, so each row is also read from edge to edge.
    """

    def __init__(self, lines: LineRecogniser | None = None, stretch: float = 1.3, margin: float = 0.15) -> None:
        self._lines = lines or shared_line_recogniser()
        # Plate fonts are narrower than the recogniser's training text; widening helps it.
        self._stretch = stretch
        # Context read beside a row's ends, in glyph heights: a character the row search missed at
        # an end is still read (the recogniser learnt to leave plate edges and stickers out).
        self._margin = margin

    def recognise(self, plate: PlateImage) -> Evidence:
        gray = plate.pixels
        scale = _CROP_HEIGHT / gray.shape[0]
        size = (max(1, round(gray.shape[1] * scale)), _CROP_HEIGHT)
        resized = cv2.resize(gray, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
        rows = main_lines(find_lines(resized, _CROP_SEARCH)) or [
            # No row found (touching characters, busy art): the registration is the plate's
            # middle band, about 45% of its height.
            level_band(size[0], _CROP_BAND_CENTRE * _CROP_HEIGHT, _CROP_BAND_HEIGHT * _CROP_HEIGHT)]
        readings = []
        for row in rows[:_CROP_ROWS]:
            line = extend_ends(resized, row)
            second = line_below(row, rows)
            across = max(row.left, size[0] - row.right) / row.height
            for margin in dict.fromkeys((self._margin, max(self._margin, across))):
                crop = cut_line(resized, line, LINE_HEIGHT, self._stretch, margin_x=margin)
                below = None if second is None else self._lines.probabilities(
                    cut_line(resized, second, LINE_HEIGHT, self._stretch, margin_x=margin))
                corners = _stacked(line, second) if second is not None else line.quad()
                quad = as_quad(corners / scale + np.array(plate.origin, np.float32))
                readings.append(Reading(self._lines.probabilities(crop), below, quad, crop))
        return Evidence(tuple(readings))


def _stacked(top: TextLine, bottom: TextLine) -> np.ndarray:
    """Corners around both lines of a two-line plate."""
    upper, lower = top.quad(), bottom.quad()
    return np.array([upper[0], upper[1], lower[2], lower[3]], dtype=np.float32)
