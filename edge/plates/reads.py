"""What the plate stage hands on: one read per plate per frame, and one `PlateRead` per vehicle."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Four corners (top-left, top-right, bottom-right, bottom-left) in frame pixels.
Quad = tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]


def as_quad(points: np.ndarray) -> Quad:
    p = [(float(x), float(y)) for x, y in np.asarray(points, dtype=np.float64).reshape(4, 2)]
    return (p[0], p[1], p[2], p[3])


@dataclass(frozen=True)
class FrameRead:
    """One plate read in one frame."""

    text: str
    region: str
    confidence: float
    char_confidences: tuple[float, ...]
    quad: Quad
    timestamp: float
    # The straightened line image the text was read from (grey, 64 px high).
    crop: np.ndarray = field(compare=False, repr=False)


@dataclass(frozen=True)
class RunnerUp:
    """Another text the same vehicle's frames read, with its share of the vote."""

    text: str
    share: float
    frames: int


@dataclass(frozen=True)
class PlateRead:
    """The plate of one vehicle, voted over the frames it was seen in."""

    text: str
    region: str
    confidence: float
    char_confidences: tuple[float, ...]
    quad: Quad
    best_crop: np.ndarray = field(compare=False, repr=False)
    runner_ups: tuple[RunnerUp, ...] = ()
    first_seen: float = 0.0
    last_seen: float = 0.0
    frames: int = 1
