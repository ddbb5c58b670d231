"""Plate regions: how plates of each region are written, as data the config loads.

The built-in regions are `plate_regions.toml` beside this module; a checkpoint's config adds or
overrides regions with `[[lanes.plates.formats]]`. Reading a plate as a region's format is the plate
reader's business (edge/plates/formats.py); this module only says what the formats are.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DIGITS = "0123456789"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_PATTERN = re.compile(r"^[LDA]+(/[LDA]+)?$")
BUILTIN_REGIONS_FILE = Path(__file__).with_name("plate_regions.toml")


@dataclass(frozen=True)
class RegionFormat:
    """How plates of one region are written. A `/` in a pattern splits a two-line plate."""

    code: str
    name: str
    patterns: tuple[str, ...] = ()
    letters: str = LETTERS
    min_length: int = 2
    max_length: int = 8
    # Personalised plates exist: keep a free reading when no pattern fits.
    free: bool = True

    def __post_init__(self) -> None:
        for pattern in self.patterns:
            if not _PATTERN.fullmatch(pattern):
                raise ValueError(f"region {self.code}: pattern {pattern!r} must use only L, D, A and one '/'")
        if not self.patterns and not self.free:
            raise ValueError(f"region {self.code}: a strict region needs at least one pattern")
        if not 1 <= self.min_length <= self.max_length:
            raise ValueError(f"region {self.code}: need 1 <= min_length <= max_length")
        if set(self.letters) - set(LETTERS):
            raise ValueError(f"region {self.code}: letters must be A-Z")

    @property
    def two_line_patterns(self) -> tuple[str, ...]:
        return tuple(p for p in self.patterns if "/" in p)

    def matches(self, text: str) -> bool:
        return any(_pattern_regex(p.replace("/", ""), self.letters).fullmatch(text) for p in self.patterns)


@lru_cache(maxsize=256)
def _pattern_regex(pattern: str, letters: str) -> re.Pattern[str]:
    parts = {"L": f"[{letters}]", "D": "[0-9]", "A": f"[{letters}0-9]"}
    return re.compile("".join(parts[c] for c in pattern))


def load_regions(path: Path) -> dict[str, RegionFormat]:
    """The regions of a `[[region]]` TOML file, by code; a bad entry raises ValueError naming its region."""
    with path.open("rb") as file:
        entries = tomllib.load(file)["region"]
    regions = {}
    for entry in entries:
        entry = {**entry, "patterns": tuple(entry.get("patterns", ()))}
        regions[entry["code"]] = RegionFormat(**entry)
    return regions


_EUROPEAN = ("de", "fr", "it", "es", "gb", "nl", "pl", "hr", "no")


def _with_europe(regions: dict[str, RegionFormat]) -> dict[str, RegionFormat]:
    """Any European plate: the national formats' patterns, single-line, each a preference (not a rule:
    other countries' plates are read freely within the usual lengths)."""
    patterns = tuple(dict.fromkeys(p for code in _EUROPEAN for p in regions[code].patterns if "/" not in p))
    return {**regions, "eu": RegionFormat("eu", "Europe (any country)", patterns, min_length=4, max_length=8)}


BUILTIN_REGIONS: dict[str, RegionFormat] = _with_europe(load_regions(BUILTIN_REGIONS_FILE))
