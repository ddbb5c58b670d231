"""Region plate formats, and reading the recogniser's output as a plate of a region.

A format is a list of patterns: `L` a letter the region issues, `D` a digit, `A` either. Reading
a line against a pattern finds the pattern's most likely alignment with the recogniser's CTC
output (`ctc.Viterbi`), choosing per position the best character the pattern allows, with
look-alikes folded: in a digit position the probability of `O` and `Q` counts for `0`, `I` for `1`, `B` for `8`,
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

import numpy as np

from edge.plates.ctc import Viterbi

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
    """A reading of a plate: text, per-character confidence, and how likely the reading is."""

    text: str
    char_confidences: tuple[float, ...]
    log_prob: float

    @property
    def confidence(self) -> float:
        """The weakest character's confidence: one doubtful character makes a doubtful plate."""
        return float(min(self.char_confidences)) if self.char_confidences else 0.0


# How much a look-alike counts for the character a position needs. Less than the character
# itself: when the network clearly saw `5`, a pattern that needs `S` there pays for it, so of two
# patterns the one that agrees with what was seen wins; a strict format still gets its `S`.
LOOKALIKE_WEIGHT = 0.5


def _emission_matrix(kind: str, letters: str) -> np.ndarray:
    """37 x 36: how the recogniser's classes add up to each output character in a position of `kind`.

    In a digit position the probability of `O` and `Q` counts for `0`, `I` for `1`, and so on; in a
    letter position the digit counts for its look-alike letter; characters the kind forbids get none.
    """
    matrix = np.zeros((len(ALPHABET) + 1, len(ALPHABET)), np.float32)
    allowed = {"D": DIGITS, "L": letters, "A": letters + DIGITS}[kind]
    for char in allowed:
        matrix[1 + ALPHABET.index(char), ALPHABET.index(char)] = 1.0
    for letter, digit in LOOKALIKES.items():
        if kind == "D":
            matrix[1 + ALPHABET.index(letter), ALPHABET.index(digit)] = LOOKALIKE_WEIGHT
        elif kind == "L" and letter in letters:
            matrix[1 + ALPHABET.index(digit), ALPHABET.index(letter)] = LOOKALIKE_WEIGHT
    return matrix


_KINDS = "DLA"


@lru_cache(maxsize=64)
def _emission_matrices(letters: str) -> np.ndarray:
    return np.stack([_emission_matrix(kind, letters) for kind in _KINDS])


def _families() -> np.ndarray:
    """Look-alikes share a family id: one glyph seen as `1` must not also read as a following `I`."""
    families = np.arange(len(ALPHABET))
    for letter, digit in LOOKALIKES.items():
        families[ALPHABET.index(letter)] = ALPHABET.index(digit)
    return families


_FAMILIES = _families()


def _viterbi(probs: np.ndarray, patterns: list[str], letters: str) -> Viterbi:
    emissions = np.minimum(np.einsum("tc,kco->kto", probs, _emission_matrices(letters)), 1.0)
    return Viterbi(emissions, probs[:, 0], ["".join(str(_KINDS.index(c)) for c in p) for p in patterns],
                   _FAMILIES)


def _decoded(viterbi: Viterbi, row: int, length: int) -> Decoded:
    path = viterbi.path(row, length)
    return Decoded("".join(ALPHABET[c] for c in path.chars), path.confidences, path.log_prob)


def _read_line(probs: np.ndarray, patterns: list[str], region: RegionFormat, free: bool,
               min_free: int | None = None) -> tuple[Decoded | None, Decoded | None]:
    """The best reading of `probs` as one of `patterns`, and (when `free`) as any letters and digits
    (`min_free` or the region's least characters up to its most)."""
    rows = list(patterns) + (["A" * region.max_length] if free else [])
    if not rows or len(probs) == 0:
        return None, None
    viterbi = _viterbi(probs, rows, region.letters)
    best = None
    if patterns:
        # On a tie (a look-alike fits both), the region's first-listed pattern wins.
        row = max(range(len(patterns)), key=lambda i: viterbi.score(i, len(patterns[i])))
        best = _decoded(viterbi, row, len(patterns[row]))
    loose = None
    if free:
        lengths = range(region.min_length if min_free is None else min_free, region.max_length + 1)
        length = max(lengths, key=lambda n: viterbi.score(len(patterns), n))
        loose = _decoded(viterbi, len(patterns), length)
    return best, loose


# A reading that needs a character the recogniser all but ruled out everywhere is no reading.
_INVENTED = 0.01
# A pattern reading is preferred to a free one unless it is this much less likely (log units):
# positions resolve look-alikes, so a plate that fits the format is the better explanation (even
# when two look-alikes had to be swapped for it, each at LOOKALIKE_WEIGHT on each of its ~2 steps).
PATTERN_PREFERENCE = np.log(20.0)


def read_plate(probs: np.ndarray, region: RegionFormat) -> Decoded | None:
    """The region's best reading of one line's recogniser output, or None if nothing fits."""
    patterns = [p for p in region.patterns if "/" not in p]
    best, loose = _read_line(probs, patterns, region, region.free)
    if loose is not None and (best is None or loose.log_prob > best.log_prob + PATTERN_PREFERENCE):
        best = loose
    return best if best is not None and best.confidence >= _INVENTED else None


def read_two_line_plate(top: np.ndarray, bottom: np.ndarray, region: RegionFormat) -> Decoded | None:
    """The region's best two-line reading: each line read as its part of a `TOP/BOTTOM` pattern, or,
    in a region with personalised plates, each line read freely (a square plate the region's
    patterns do not describe: a fragment of it must not pass for the whole plate)."""
    best: Decoded | None = None
    for upper, lower in _two_line_parts(region):
        first = _line_part(top, upper, region)
        second = _line_part(bottom, lower, region)
        if first is None or second is None or min(first.confidence, second.confidence) < _INVENTED:
            continue
        if not region.min_length <= len(first.text) + len(second.text) <= region.max_length:
            continue
        reading = Decoded(first.text + second.text, first.char_confidences + second.char_confidences,
                          first.log_prob + second.log_prob)
        if best is None or reading.log_prob > best.log_prob:
            best = reading
    return best


# A free line of a two-line plate: any characters, at least this many (a line of one is a smudge).
_FREE_LINE_MIN = 2


def _two_line_parts(region: RegionFormat) -> list[tuple[str | None, str | None]]:
    """Each two-line pattern's (top, bottom); (None, None), a free reading, where the region has one."""
    parts: list[tuple[str | None, str | None]] = [(p.split("/")[0], p.split("/")[1]) for p in region.two_line_patterns]
    return [*parts, (None, None)] if region.free else parts


def _line_part(probs: np.ndarray, pattern: str | None, region: RegionFormat) -> Decoded | None:
    if pattern is None:
        return _read_line(probs, [], region, free=True, min_free=_FREE_LINE_MIN)[1]
    return _read_line(probs, [pattern], region, free=False)[0]
