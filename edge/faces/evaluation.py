"""Error rates of verification (FMR, FNMR) and identification (FPIR, FNIR) from scores.

A comparison that could not be made (no face found in an image) counts against the system:
a genuine pair becomes a non-match, and in identification a mated search becomes a miss.
"""

from __future__ import annotations

import math

import numpy as np


def rate(count: int, total: int) -> float | None:
    return count / total if total else None


def false_match_rate(impostor_scores: np.ndarray, threshold: float, failed: int = 0) -> float | None:
    # An impostor pair with an undetected face cannot falsely match: it only adds to the total.
    return rate(int(np.count_nonzero(impostor_scores >= threshold)), len(impostor_scores) + failed)


def false_non_match_rate(genuine_scores: np.ndarray, threshold: float, failed: int = 0) -> float | None:
    return rate(int(np.count_nonzero(genuine_scores < threshold)) + failed, len(genuine_scores) + failed)


def threshold_at_rate(impostor_scores: np.ndarray, target: float) -> float:
    """The lowest threshold at which at most `target` of the impostor scores reach it.

    It is only as good as the number of impostors: a rate of 0.001 needs at least 1,000 of them
    to be a measurement rather than a guess."""
    if not 0 < target < 1:
        raise ValueError(f"target rate must be between 0 and 1, got {target}")
    n = len(impostor_scores)
    if n < math.ceil(1 / target):
        raise ValueError(
            f"{n} impostor comparisons cannot show a rate of {target}; at least {math.ceil(1 / target)} needed"
        )
    allowed = math.floor(target * n + 1e-9)
    ranked = np.sort(np.asarray(impostor_scores, dtype=np.float64))[::-1]
    # Just above the (allowed+1)-th highest impostor: at most `allowed` impostors reach it.
    return float(np.nextafter(np.float32(ranked[allowed]), np.float32(np.inf)))


def identification_rates(
    mated_top: np.ndarray, mated_correct: np.ndarray, non_mated_top: np.ndarray, threshold: float, failed: int = 0
) -> tuple[float | None, float | None]:
    """(FNIR, FPIR) at a threshold. A mated search succeeds when its rank-1 candidate is the right
    person with a score at or above the threshold; a non-mated search (the probe's own identity
    left out of the gallery) fails when anything reaches the threshold."""
    hits = int(np.count_nonzero(mated_correct & (mated_top >= threshold)))
    total = len(mated_top) + failed
    fnir = rate(total - hits, total)
    fpir = rate(int(np.count_nonzero(non_mated_top >= threshold)), len(non_mated_top))
    return fnir, fpir
