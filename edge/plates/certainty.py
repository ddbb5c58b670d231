"""When a plate read is sure, and which confidence makes it so.

A read is *sure* only when both hold:
- its confidence is at or above the lane's calibrated threshold (`plates.sure_confidence`);
- its text fits a format of one of the lane's regions: one of the region's patterns, or, in a
  region with personalised plates (`free`), any of its letters and digits within its lengths.

Anything else is a read the officer must check by eye (edge/lane/policy.py). The threshold comes from
`calibrate`: on a labelled set, the lowest confidence at which the reads at or above it are exact
at the target precision, so that "sure" means what it says on data like the lane's.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from edge.config import PlatesConfig
from edge.config.plate_regions import DIGITS, RegionFormat


def fits(text: str, region: RegionFormat) -> bool:
    """Whether `text` is a plate the region issues (as far as its formats say)."""
    if region.matches(text):
        return True
    return (region.free and region.min_length <= len(text) <= region.max_length
            and set(text) <= set(region.letters + DIGITS))


@dataclass(frozen=True)
class SureRule:
    threshold: float
    regions: tuple[RegionFormat, ...]

    @classmethod
    def for_lane(cls, plates: PlatesConfig) -> SureRule:
        formats = plates.region_formats()
        return cls(plates.sure_confidence, tuple(formats[code] for code in plates.regions))

    def fits(self, text: str) -> bool:
        return any(fits(text, region) for region in self.regions)

    def is_sure(self, text: str, confidence: float) -> bool:
        return confidence >= self.threshold and self.fits(text)


class CalibrationError(ValueError):
    """No threshold reaches the target on this set; the message says what the set does reach."""


@dataclass(frozen=True)
class Calibration:
    """A threshold and what it gives on the set it was measured on."""

    threshold: float
    target_precision: float
    images: int  # every image of the set, with or without a read
    sure: int  # reads at or above the threshold
    correct: int  # of those, exact

    @property
    def sure_share(self) -> float:
        return self.sure / self.images

    @property
    def sure_precision(self) -> float:
        return self.correct / self.sure


def min_sure_reads(target_precision: float) -> int:
    """Reads a precision must rest on: with fewer, a single wrong read moves it by more than
    1 - target, so the measurement could not tell the target from a miss (0.99 needs 100)."""
    return math.ceil(round(1 / (1 - target_precision), 6))


def calibrate(pairs: Iterable[tuple[float | None, bool]], target_precision: float) -> Calibration:
    """The lowest threshold at which the reads at or above it are correct at `target_precision`.

    `pairs` holds one (confidence, correct) per image; confidence None for an image with no read that
    could be sure (none at all, or one that fits no format): it counts among the images, never as sure.

    Thresholds are the confidences seen: every read of one confidence lies on the same side, so
    a tie is never split. A threshold counts only when at least `min_sure_reads(target)` reads
    reach it. Raises CalibrationError when no threshold reaches the target.
    """
    if not 0 < target_precision < 1:
        raise ValueError(f"the target precision must lie between 0 and 1, got {target_precision}")
    pairs = list(pairs)
    scored = sorted(((c, ok) for c, ok in pairs if c is not None), key=lambda pair: pair[0], reverse=True)
    needed = min_sure_reads(target_precision)
    best: Calibration | None = None  # the highest precision on enough reads, for the refusal's words
    found: Calibration | None = None
    correct = 0
    for i, (confidence, ok) in enumerate(scored):
        correct += ok
        if i + 1 < len(scored) and scored[i + 1][0] == confidence:
            continue  # the next read ties with this one: the threshold takes both or neither
        candidate = Calibration(confidence, target_precision, len(pairs), i + 1, correct)
        if candidate.sure < needed:
            continue
        if candidate.sure_precision >= target_precision:
            found = candidate  # lower thresholds come later: the last one found is the lowest
        if best is None or candidate.sure_precision > best.sure_precision:
            best = candidate
    if found is not None:
        return found
    if best is None:
        raise CalibrationError(
            f"{len(scored)} of {len(pairs)} images have a read that could be sure; measuring a precision of "
            f"{target_precision} needs at least {needed} reads at or above the threshold")
    raise CalibrationError(
        f"no threshold gives {target_precision} precision: the best is {best.sure_precision:.4f} "
        f"({best.correct} of {best.sure} reads exact at confidence >= {best.threshold:.4f})")
