"""Licence-plate regions: which characters make a valid plate there, and how the plate looks.

A region's `patterns` are printed layouts: `L` is a letter from the region's alphabet, `D` a
digit, and a space or `-` is a printed gap or hyphen (never part of the plate text, which is
A-Z0-9 only, the dataset contract). Region codes are lower-case; US states carry a `us-`
prefix so that Delaware (`us-de`) and Germany (`de`) cannot be confused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import numpy as np

# Many issuers leave out letters that read like digits (I/1, O/0, Q/0).
_NO_IOQ = "ABCDEFGHJKLMNPRSTUVWXYZ"
_DIGITS = "0123456789"

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class PlateLayout:
    """Physical size of one plate shape and where its characters sit, in millimetres."""

    width_mm: float
    height_mm: float
    char_height_mm: float
    # Glyph width / glyph height for a full-width character such as "M" or "0".
    char_aspect: float
    # Space between characters, and the extra width of a printed gap (space), in mm.
    char_gap_mm: float
    group_gap_mm: float
    # Vertical centre of the (first) text line, as a fraction of the plate height.
    text_center: float = 0.5


@dataclass(frozen=True)
class PlateStyle:
    background: RGB
    text: RGB
    border: RGB | None
    # A side band (EU flag band on the left, French/Italian region band on the right).
    left_band: RGB | None = None
    right_band: RGB | None = None
    # Country code written in the left band (EU plates).
    band_code: str = ""
    # US plates: the state name above and a slogan below the characters.
    header: str = ""
    header_color: RGB = (0, 0, 0)
    footer: str = ""
    footer_color: RGB = (0, 0, 0)
    # A coloured strip across the top (Mercosul: blue strip with "BRASIL").
    top_strip: RGB | None = None
    top_strip_text: str = ""
    # A second background colour the plate fades to towards the bottom (e.g. New York).
    gradient_to: RGB | None = None
    # German plates carry the registration seals between district and letters.
    seals: bool = False


@dataclass(frozen=True)
class SyntheticRegion:
    code: str
    name: str
    patterns: tuple[str, ...]
    letters: str
    style: PlateStyle
    layout: PlateLayout
    # Regions that issue two-line (square) plates: their layout, and how many printed
    # groups of the pattern go on the first line.
    two_line_layout: PlateLayout | None = None
    two_line_first_groups: int = 0

    @property
    def has_two_line(self) -> bool:
        return self.two_line_layout is not None

    def regex(self) -> re.Pattern[str]:
        """Matches the plate text (no separators) of every pattern of this region."""
        return _region_regex(self)

    def matches(self, text: str) -> bool:
        return self.regex().fullmatch(text) is not None


def _pattern_regex(pattern: str, letters: str) -> str:
    return "".join(f"[{letters}]" if c == "L" else "[0-9]" for c in pattern if c in "LD")


@cache
def _region_regex(region: SyntheticRegion) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{_pattern_regex(p, region.letters)})" for p in region.patterns))


def printed_form(text: str, region: SyntheticRegion) -> str:
    """Plate text laid out as the region prints it, gaps and hyphens included."""
    for pattern in region.patterns:
        if re.fullmatch(_pattern_regex(pattern, region.letters), text):
            chars = iter(text)
            return "".join(next(chars) if c in "LD" else c for c in pattern)
    raise ValueError(f"plate {text!r} does not fit any {region.name} format ({', '.join(region.patterns)})")


def plate_text(printed: str) -> str:
    """The plate text of a printed plate string: separators dropped."""
    return "".join(c for c in printed if c.isalnum())


_US_LAYOUT = PlateLayout(305, 152, 70, 0.48, 2.5, 9, text_center=0.53)
_EU_LAYOUT = PlateLayout(520, 110, 75, 0.62, 3.0, 14)
_WHITE: RGB = (245, 245, 242)
_BLACK: RGB = (20, 20, 22)
_EU_BLUE: RGB = (0, 51, 153)


def _us(code: str, name: str, pattern: str, text: RGB, header: str, header_color: RGB, footer: str,
        footer_color: RGB, background: RGB = _WHITE, gradient_to: RGB | None = None) -> SyntheticRegion:
    style = PlateStyle(background, text, border=text, header=header, header_color=header_color,
                       footer=footer, footer_color=footer_color, gradient_to=gradient_to)
    return SyntheticRegion(code, name, (pattern,), _NO_IOQ, style, _US_LAYOUT)


def _eu(code: str, name: str, patterns: tuple[str, ...], letters: str, band_code: str,
        background: RGB = _WHITE, right_band: RGB | None = None,
        two_line_layout: PlateLayout | None = None, two_line_first_groups: int = 0) -> SyntheticRegion:
    style = PlateStyle(background, _BLACK, border=_BLACK, left_band=_EU_BLUE, band_code=band_code,
                       right_band=right_band, seals=code == "de")
    return SyntheticRegion(code, name, patterns, letters, style, _EU_LAYOUT, two_line_layout, two_line_first_groups)


REGIONS: dict[str, SyntheticRegion] = {
    r.code: r
    for r in (
        _us("us-ca", "California", "DLLLDDD", (18, 38, 110), "California", (190, 30, 40), "",
            (18, 38, 110)),
        _us("us-ny", "New York", "LLL-DDDD", (16, 34, 92), "NEW YORK", (16, 34, 92), "EXCELSIOR",
            (16, 34, 92), background=(250, 250, 245), gradient_to=(244, 200, 90)),
        _us("us-tx", "Texas", "LLL-DDDD", _BLACK, "TEXAS", _BLACK, "THE LONE STAR STATE", _BLACK),
        _us("us-pa", "Pennsylvania", "LLL-DDDD", (20, 40, 110), "PENNSYLVANIA", (20, 40, 110),
            "visitPA.com", (200, 150, 20), gradient_to=(250, 230, 150)),
        _us("us-il", "Illinois", "LL DDDDD", (150, 20, 30), "Illinois", (150, 20, 30), "LAND OF LINCOLN",
            (20, 40, 110)),
        _us("us-nj", "New Jersey", "LDD-LLL", _BLACK, "NEW JERSEY", _BLACK, "GARDEN STATE", _BLACK,
            background=(250, 240, 170), gradient_to=(230, 215, 140)),
        _eu("de", "Germany",
            ("L LL DDDD", "LL LL DDD", "LL L DDDD", "LLL L DDD", "LLL LL DD", "LL LL DDDD", "L L DDDD"),
            "ABCDEFGHIJKLMNOPRSTUVWXYZ", "D",
            two_line_layout=PlateLayout(340, 200, 75, 0.62, 3.0, 14, text_center=0.29),
            two_line_first_groups=2),
        _eu("fr", "France", ("LL-DDD-LL",), "ABCDEFGHJKLMNPQRSTVWXYZ", "F", right_band=_EU_BLUE),
        _eu("nl", "Netherlands", ("DD-LLL-D", "D-LLL-DD", "LL-DDD-L", "L-DDD-LL"), "BDFGHJKLNPRSTVXZ", "NL",
            background=(250, 200, 20)),
        _eu("it", "Italy", ("LL DDD LL",), "ABCDEFGHJKLMNPRSTVWXYZ", "I", right_band=_EU_BLUE),
        _eu("pl", "Poland", ("LL DDDDD", "LL DDDLL", "LLL DDDD"), "ABCDEFGHJKLMNPRSTUVWXYZ", "PL"),
        SyntheticRegion(
            "br", "Brazil (Mercosul)", ("LLL DLDD",), "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            PlateStyle(_WHITE, _BLACK, border=_BLACK, top_strip=(0, 56, 168), top_strip_text="BRASIL"),
            PlateLayout(400, 130, 65, 0.60, 3.0, 8, text_center=0.6),
            # Mercosul motorcycle plates: three letters above, the rest below.
            two_line_layout=PlateLayout(200, 170, 55, 0.60, 3.0, 8, text_center=0.43),
            two_line_first_groups=1,
        ),
    )
}


def region_format(code: str) -> SyntheticRegion:
    try:
        return REGIONS[code]
    except KeyError:
        raise ValueError(f"unknown plate region {code!r}; known: {', '.join(REGIONS)}") from None


def random_printed_plate(region: str | SyntheticRegion, rng: np.random.Generator) -> str:
    """A plate as printed (with its gaps and hyphens), in one of the region's patterns."""
    fmt = region_format(region) if isinstance(region, str) else region
    pattern = fmt.patterns[int(rng.integers(len(fmt.patterns)))]
    out = []
    for c in pattern:
        if c == "L":
            out.append(fmt.letters[int(rng.integers(len(fmt.letters)))])
        elif c == "D":
            out.append(_DIGITS[int(rng.integers(10))])
        else:
            out.append(c)
    return "".join(out)


def random_plate_text(region: str | SyntheticRegion, rng: np.random.Generator) -> str:
    """A valid plate of the region as the dataset contract spells it: A-Z0-9, no separators."""
    return plate_text(random_printed_plate(region, rng))
