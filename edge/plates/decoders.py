"""Decoders: a recogniser's CTC evidence read as a plate of one of the lane's regions.

- `FormatDecoder` (the default): every pattern of every region aligned with the steps at once
  (formats.read_plate, a Viterbi pass), look-alikes resolved by position, two-line plates where a
  region declares them. What a lane with known regions should use.
- `GreedyDecoder`: the best class at each step, merged: what the network saw, with no knowledge
  of formats. The baseline the format decoder is measured against, and a way to see the
  recogniser's own errors.

Several readings of one plate (its rows or halves, each cut at two margins): the one that
explains the most characters confidently wins, so a clean read of part of the registration does
not beat a read of all of it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edge.config.plate_regions import RegionFormat
from edge.plates.certainty import fits
from edge.plates.formats import ALPHABET, Decoded, read_plate, read_two_line_plate
from edge.plates.stages import Evidence, PlateText


def _support(decoded: Decoded) -> float:
    return sum(decoded.char_confidences)


def _best(candidates: Sequence[PlateText | None]) -> PlateText | None:
    found = [c for c in candidates if c is not None]
    return max(found, key=lambda c: _support(c.decoded), default=None)


class FormatDecoder:
    def decode(self, evidence: Evidence, regions: Sequence[RegionFormat]) -> PlateText | None:
        return _best([_most_likely(index, regions, reading.probabilities, reading.below)
                       for index, reading in enumerate(evidence.readings)])


def _most_likely(index: int, regions: Sequence[RegionFormat], probs: np.ndarray,
                 below: np.ndarray | None) -> PlateText | None:
    """The region whose format explains this reading best: as one line, or, for a reading of two
    halves (`below` the lower one), as a two-line plate only: the top half alone is a fragment."""
    best: PlateText | None = None
    for region in regions:
        decoded = read_plate(probs, region) if below is None else read_two_line_plate(probs, below, region)
        if decoded is not None and (best is None or decoded.log_prob > best.decoded.log_prob):
            best = PlateText(decoded, region.code, index)
    return best


def best_path(probs: np.ndarray) -> Decoded:
    """The best class at each step, repeats merged and "no character" dropped; a character's
    confidence is its best step's probability."""
    classes = probs.argmax(axis=1)
    chars: list[str] = []
    confidences: list[float] = []
    previous = 0
    for step, cls in enumerate(classes):
        if cls and cls == previous:
            confidences[-1] = max(confidences[-1], float(probs[step, cls]))
        elif cls:
            chars.append(ALPHABET[cls - 1])
            confidences.append(float(probs[step, cls]))
        previous = cls
    return Decoded("".join(chars), tuple(confidences), float(np.log(probs.max(axis=1)).sum()))


class GreedyDecoder:
    def decode(self, evidence: Evidence, regions: Sequence[RegionFormat]) -> PlateText | None:
        """The best path of each reading (and of the line below it, where a region has two-line
        plates), credited to the first region whose format it fits, else to the lane's first region."""
        found = []
        two_lines = any(r.two_line_patterns for r in regions)
        for index, reading in enumerate(evidence.readings):
            decoded = best_path(reading.probabilities)
            if reading.below is not None and two_lines:
                lower = best_path(reading.below)
                decoded = Decoded(decoded.text + lower.text, decoded.char_confidences + lower.char_confidences,
                                  decoded.log_prob + lower.log_prob)
            if decoded.text:
                region = next((r for r in regions if fits(decoded.text, r)), regions[0])
                found.append(PlateText(decoded, region.code, index))
        return _best(found)
