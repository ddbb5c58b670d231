"""Reading the recogniser's output as a plate of a region.

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

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from edge.config.plate_regions import DIGITS, LETTERS, RegionFormat
from edge.plates.ctc import Viterbi

# The recogniser's plate classes, in order; class 0 of its output is "no character".
ALPHABET = DIGITS + LETTERS
# Letter -> the digit it is mistaken for (and back), as printed on plates.
LOOKALIKES = {"O": "0", "Q": "0", "I": "1", "B": "8", "S": "5", "Z": "2", "G": "6"}


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
