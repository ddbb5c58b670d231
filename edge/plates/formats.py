"""Region plate formats, and reading the recogniser's output as a plate of a region.

A format is a list of patterns: `L` a letter the region issues, `D` a digit, `A` either. Reading
a line against a pattern takes the characters the recogniser saw (the segments of its best CTC
path) and picks, per position, the best character the pattern allows, with look-alikes folded:
in a digit position the probability of `O` and `Q` counts for `0`, `I` for `1`, `B` for `8`,
`S` for `5`, `Z` for `2`, `G` for `6`; in a letter position the other way round. So `5BBM299`
comes out of a network that saw `SBBM299` when the region says the first character is a digit,
with the confidence both readings shared.

Regions whose plates may be personalised (US states) keep a free reading of any letters and
digits within their length limits when no pattern fits well; strict regions never do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

import numpy as np

DIGITS = "0123456789"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# The recogniser's plate classes, in order; class 0 of its output is "no character".
ALPHABET = DIGITS + LETTERS
# Letter -> the digit it is mistaken for (and back), as printed on plates.
LOOKALIKES = {"O": "0", "Q": "0", "I": "1", "B": "8", "S": "5", "Z": "2", "G": "6"}
_PATTERN = re.compile(r"^[LDA]+(/[LDA]+)?$")


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


_NO_IOQ = "ABCDEFGHJKLMNPRSTUVWXYZ"

BUILTIN_REGIONS: dict[str, RegionFormat] = {
    r.code: r
    for r in (
        # Any plate: letters and digits, no positional knowledge.
        RegionFormat("any", "Any region", min_length=2, max_length=10),
        RegionFormat("us", "United States (any state)", min_length=2, max_length=8),
        RegionFormat("us-ca", "California", ("DLLLDDD", "DLLDDDD"), max_length=7),
        RegionFormat("us-ny", "New York", ("LLLDDDD",), max_length=8),
        RegionFormat("us-tx", "Texas", ("LLLDDDD", "LLDLDDD"), max_length=7),
        RegionFormat("us-pa", "Pennsylvania", ("LLLDDDD",), max_length=8),
        RegionFormat("us-il", "Illinois", ("LLDDDDD", "LDDDDDD"), max_length=7),
        RegionFormat("us-nj", "New Jersey", ("LDDLLL", "LLLDDL"), max_length=7),
        RegionFormat("us-fl", "Florida", ("LLLLDD", "DDDLLL", "LLLDDD"), max_length=7),
        RegionFormat("us-mo", "Missouri", ("LLDLDL", "LLDDLDL"), max_length=7),
        RegionFormat("us-az", "Arizona", ("DDDLLL", "LLLDDDD"), max_length=7),
        # European countries (national formats; no personalised plates except Germany's wish plates,
        # which still follow the district/letters/digits scheme).
        RegionFormat("de", "Germany", ("LLLLDDDD", "LLLLDDD", "LLLLDD", "LLLDDDD", "LLLDDD", "LLLDD", "LLDDDD",
                                       "LLDDD", "LLDD", "LDDDD", "LDDD", "LLLD", "LLD", "LLLLD", "LLLLLD",
                                       "LLL/DDDD", "LL/LDDD"),
                     letters="ABCDEFGHIJKLMNOPRSTUVWXYZ", min_length=3, max_length=8, free=False),
        RegionFormat("fr", "France", ("LLDDDLL",), letters="ABCDEFGHJKLMNPQRSTVWXYZ", max_length=7, free=False),
        RegionFormat("it", "Italy", ("LLDDDLL",), letters="ABCDEFGHJKLMNPRSTVWXYZ", max_length=7, free=False),
        RegionFormat("es", "Spain", ("DDDDLLL",), letters="BCDFGHJKLMNPRSTVWXYZ", max_length=7, free=False),
        RegionFormat("gb", "United Kingdom", ("LLDDLLL",), max_length=7, free=True),
        RegionFormat("nl", "Netherlands", ("DDLLLD", "DLLLDD", "LLDDDL", "LDDDLL", "LLLDDL", "DLLDDD"),
                     letters="BDFGHJKLNPRSTVXZ", max_length=6, free=False),
        RegionFormat("pl", "Poland", ("LLDDDDD", "LLDDDLL", "LLLDDDD", "LLLDDLL"), max_length=8, free=False),
        RegionFormat("hr", "Croatia", ("LLDDDLL", "LLDDDDLL", "LLDDDL", "LLDDDDL"), max_length=8, free=False),
        RegionFormat("no", "Norway", ("LLDDDDD",), max_length=7, free=False),
        # Brazil: the old grey plates (LLL-DDDD) and Mercosul (LLL D L DD, two-line on motorcycles).
        RegionFormat("br", "Brazil", ("LLLDDDD", "LLLDLDD", "LLL/DLDD"), min_length=7, max_length=7, free=False),
    )
}


_EUROPEAN = ("de", "fr", "it", "es", "gb", "nl", "pl", "hr", "no")
# Any European plate: the national formats' patterns, single-line, each a preference (not a rule:
# other countries' plates are read freely within the usual lengths).
BUILTIN_REGIONS["eu"] = RegionFormat(
    "eu", "Europe (any country)",
    tuple(dict.fromkeys(p for code in _EUROPEAN for p in BUILTIN_REGIONS[code].patterns if "/" not in p)),
    min_length=4, max_length=8,
)


@dataclass(frozen=True)
class Decoded:
    """A reading of a line: text, per-character confidence, and how likely the reading is."""

    text: str
    char_confidences: tuple[float, ...]
    log_prob: float

    @property
    def confidence(self) -> float:
        """The weakest character's confidence: one doubtful character makes a doubtful plate."""
        return float(min(self.char_confidences)) if self.char_confidences else 0.0


@dataclass(frozen=True)
class Segment:
    """One character the recogniser saw: its best probability per class over its steps."""

    probs: np.ndarray  # 37 classes, column 0 = no character
    start: int
    end: int


def segments(probs: np.ndarray) -> list[Segment]:
    """Characters on the best (greedy) CTC path: runs of one non-blank class."""
    best = probs.argmax(axis=1)
    found: list[Segment] = []
    start = 0
    for t in range(1, len(best) + 1):
        if t == len(best) or best[t] != best[start]:
            if best[start] != 0:
                found.append(Segment(probs[start:t].max(axis=0), start, t))
            start = t
    return found


_NEAR_ZERO = 1e-6


def _fold(segment_probs: np.ndarray, kind: str, letters: str) -> tuple[np.ndarray, str]:
    """Probabilities of the characters a position of `kind` allows, look-alikes folded in."""
    p = {c: float(segment_probs[1 + i]) for i, c in enumerate(ALPHABET)}
    if kind == "D":
        folded = {d: p[d] for d in DIGITS}
        for letter, digit in LOOKALIKES.items():
            folded[digit] += p[letter]
        chars = DIGITS
    elif kind == "L":
        folded = {c: p[c] for c in letters}
        for letter, digit in LOOKALIKES.items():
            if letter in folded:
                folded[letter] += p[digit]
        chars = letters
    else:
        folded = {c: p[c] for c in letters + DIGITS}
        chars = letters + DIGITS
    return np.minimum(np.array([folded[c] for c in chars]), 1.0), chars


def _read_positions(chosen: list[Segment], pattern: str, letters: str) -> tuple[str, tuple[float, ...]]:
    text = []
    confidences = []
    for segment, kind in zip(chosen, pattern, strict=True):
        folded, chars = _fold(segment.probs, kind, letters)
        best = int(folded.argmax())
        text.append(chars[best])
        confidences.append(float(folded[best]))
    return "".join(text), tuple(confidences)


def _drop_costs(seen: list[Segment]) -> np.ndarray:
    """Log cost of dropping each segment: dropping a confident character is expensive."""
    confidence = np.array([s.probs[1:].max() for s in seen])
    return np.log(np.maximum(1.0 - confidence, _NEAR_ZERO)) - np.log(0.5)


def _subsets(count: int, keep: int, max_drop: int) -> list[tuple[int, ...]]:
    if count - keep > max_drop or keep <= 0:
        return []
    return list(combinations(range(count), keep))


def read_as(seen: list[Segment], pattern: str, letters: str, max_drop: int = 2) -> Decoded | None:
    """The best reading of the seen characters that spells `pattern` (dropping at most `max_drop`)."""
    flat = pattern.replace("/", "")
    costs = _drop_costs(seen)
    best: Decoded | None = None
    for kept in _subsets(len(seen), len(flat), max_drop):
        chosen = [seen[i] for i in kept]
        text, confidences = _read_positions(chosen, flat, letters)
        dropped = sum(costs[i] for i in range(len(seen)) if i not in kept)
        score = float(np.log(np.maximum(confidences, _NEAR_ZERO)).sum() + dropped)
        if best is None or score > best.log_prob:
            best = Decoded(text, confidences, score)
    return best


def read_free(seen: list[Segment], region: RegionFormat) -> Decoded | None:
    """Any letters and digits within the region's length limits."""
    length = min(len(seen), region.max_length)
    if length < region.min_length:
        return None
    return read_as(seen, "A" * length, region.letters, max_drop=len(seen) - length)


# A pattern reading is preferred to a free one unless it is this much less likely (log units):
# positions resolve look-alikes, so a plate that fits the format is the better explanation.
PATTERN_PREFERENCE = np.log(4.0)


def read_plate(probs: np.ndarray, region: RegionFormat) -> Decoded | None:
    """The region's best reading of one line's recogniser output, or None if nothing fits."""
    seen = segments(probs)
    readings = [r for p in region.patterns if "/" not in p and (r := read_as(seen, p, region.letters))]
    best = max(readings, key=lambda r: r.log_prob, default=None)
    if region.free:
        free = read_free(seen, region)
        if free is not None and (best is None or free.log_prob > best.log_prob + PATTERN_PREFERENCE):
            best = free
    return best


def read_two_line_plate(top: np.ndarray, bottom: np.ndarray, region: RegionFormat) -> Decoded | None:
    """The region's best two-line reading: each line read as its part of a `TOP/BOTTOM` pattern."""
    seen_top, seen_bottom = segments(top), segments(bottom)
    best: Decoded | None = None
    for pattern in region.two_line_patterns:
        upper, lower = pattern.split("/")
        first = read_as(seen_top, upper, region.letters)
        second = read_as(seen_bottom, lower, region.letters)
        if first is None or second is None:
            continue
        reading = Decoded(first.text + second.text, first.char_confidences + second.char_confidences,
                          first.log_prob + second.log_prob)
        if best is None or reading.log_prob > best.log_prob:
            best = reading
    return best
