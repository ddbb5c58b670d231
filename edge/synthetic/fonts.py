"""Plate lettering from Debian's DejaVu fonts (package fonts-dejavu-core).

Plate fonts (FE-Schrift, Penitentiary Gothic, Mercosul) are tall, narrow and nearly monospaced.
DejaVu Sans Bold gets close once each glyph is cut to its ink, scaled to the cap height and
squeezed horizontally into a fixed-width cell, which is what `glyph_run_mask` does.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
PLATE_FONT = "DejaVuSans-Bold.ttf"
LABEL_FONT = "DejaVuSans-Bold.ttf"
SCRIPT_FONT = "DejaVuSerif-Bold.ttf"

# Glyphs are rasterised once at this size and then resampled to every plate size.
_MASTER_PX = 160
# Character whose width defines the cell: plate fonts make digits and most capitals this wide.
_REFERENCE_CHAR = "0"


class MissingFontError(RuntimeError):
    pass


@lru_cache(maxsize=64)
def load_font(name: str, size: int) -> ImageFont.FreeTypeFont:
    path = FONT_DIR / name
    if not path.is_file():
        raise MissingFontError(f"{path} not found: the synthetic scene needs Debian's fonts-dejavu-core")
    return ImageFont.truetype(str(path), size)


def ink_box(font: ImageFont.FreeTypeFont, text: str) -> tuple[int, int, int, int]:
    """The text's ink box (left, top, right, bottom): whole pixels, though Pillow types them as floats."""
    left, top, right, bottom = font.getbbox(text)
    return int(left), int(top), int(right), int(bottom)


@lru_cache(maxsize=128)
def _glyph_ink(char: str) -> np.ndarray:
    """The glyph at master size, cropped to its ink (uint8 coverage)."""
    font = load_font(PLATE_FONT, _MASTER_PX)
    left, top, right, bottom = ink_box(font, char)
    img = Image.new("L", (right - left + 4, bottom - top + 4), 0)
    ImageDraw.Draw(img).text((2 - left, 2 - top), char, font=font, fill=255)
    ink = np.asarray(img)
    rows = np.flatnonzero(ink.max(axis=1) > 0)
    cols = np.flatnonzero(ink.max(axis=0) > 0)
    return ink[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1].copy()


def _glyph(char: str, height: int, cell_width: int) -> np.ndarray:
    """The glyph scaled to `height` px of ink, squeezed by the same factor as the reference char."""
    ink = _glyph_ink(char)
    ref = _glyph_ink(_REFERENCE_CHAR)
    # Capitals and digits share a cap height; scale every glyph by the reference's factors,
    # except that glyphs reaching below the baseline (J, Q) shrink to fit: plates have no descenders.
    fit = min(1.0, ref.shape[0] / ink.shape[0])
    sy = fit * height / ref.shape[0]
    sx = fit * cell_width / ref.shape[1]
    w = max(1, min(round(ink.shape[1] * sx), cell_width))
    h = max(1, min(round(ink.shape[0] * sy), height))
    return cv2.resize(ink, (w, h), interpolation=cv2.INTER_AREA)


def glyph_run_mask(chars: str, char_height: int, cell_width: int, char_gap: int) -> np.ndarray:
    """Coverage mask (uint8) of a run of plate characters (no gaps or hyphens), one cell each."""
    cells = len(chars)
    mask = np.zeros((char_height, max(1, cells * cell_width + char_gap * max(0, cells - 1))), np.uint8)
    for i, c in enumerate(chars):
        g = _glyph(c, char_height, cell_width)
        gx = i * (cell_width + char_gap) + (cell_width - g.shape[1]) // 2
        gy = (char_height - g.shape[0]) // 2
        mask[gy: gy + g.shape[0], gx: gx + g.shape[1]] = g
    return mask
