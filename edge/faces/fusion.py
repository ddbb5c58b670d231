"""One template per traveller: the best few faces by quality, encoded and averaged.

Averaging unit descriptors of different frames cancels part of the per-frame noise (pose,
expression, motion blur) while the identity, common to all, stays. Only faces that passed the
gates take part, so a blurred or turned frame never dilutes a good one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from edge.faces.encoding import FaceEncoder, unit
from edge.faces.types import FaceObservation, FaceTemplate


class NoUsableFace(Exception):
    """No face good enough to encode; the message says why, in words for the kiosk."""

    def __init__(self, reasons: Sequence[str]):
        self.reasons = tuple(reasons)
        super().__init__("; ".join(self.reasons))


def best_observations(observations: Iterable[FaceObservation], k: int) -> list[FaceObservation]:
    """The k accepted faces of highest quality, best first. Raises NoUsableFace if none was accepted."""
    observations = list(observations)
    accepted = [o for o in observations if o.quality.accepted]
    if not accepted:
        if not observations:
            raise NoUsableFace(["no face found"])
        # The most frequent problems first: that is what the traveller should fix.
        counts = Counter(p for o in observations for p in o.quality.problems)
        raise NoUsableFace([problem for problem, _ in counts.most_common()])
    return sorted(accepted, key=lambda o: o.quality.score, reverse=True)[:k]


class BestFrames:
    """The best few faces of one traveller so far, kept as frames stream in (memory stays at k chips),
    and what was wrong with the latest refused face, for the kiosk to show while the traveller waits."""

    def __init__(self, k: int):
        self._k = k
        self._kept: list[FaceObservation] = []
        self.last_problems: tuple[str, ...] = ()
        self.seen = 0

    def offer(self, observation: FaceObservation) -> None:
        self.seen += 1
        if not observation.quality.accepted:
            self.last_problems = observation.quality.problems
            return
        self.last_problems = ()
        self._kept = sorted([*self._kept, observation], key=lambda o: o.quality.score, reverse=True)[: self._k]

    @property
    def observations(self) -> list[FaceObservation]:
        return list(self._kept)


def fuse(descriptors: np.ndarray) -> np.ndarray:
    """The unit-length mean of unit-length descriptors, shape (n, 128) -> (128,)."""
    if len(descriptors) == 0:
        raise ValueError("cannot fuse zero descriptors")
    return unit(np.asarray(descriptors, dtype=np.float32).mean(axis=0))


def build_template(observations: Iterable[FaceObservation], encoder: FaceEncoder, best_frames: int) -> FaceTemplate:
    chosen = best_observations(observations, best_frames)
    descriptors = encoder.encode([o.chip for o in chosen])
    return FaceTemplate(vector=fuse(descriptors), quality=chosen[0].quality.score, frames=len(chosen))
