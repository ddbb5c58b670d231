"""The plate pipeline's stages, and what passes between them.

    frame ─ detect ─► PlateCandidate ─ rectify ─► PlateImage ─ recognise ─► Evidence ─ decode ─► PlateText
                                                                              (per frame) ─ vote ─► PlateRead

Each stage is a Protocol with more than one implementation, chosen in config (`[lanes.plates]`):
- detectors: the CNN plate detector (edge/plates/detector.py), or the classical row search
  (edge/plates/localiser.py);
- recognisers: the plate CNN that reads a whole plate (edge/plates/recogniser.py), or EasyOCR's
  `english_g2` line recogniser on the rows of glyphs in the plate (edge/plates/ocr.py); both give
  CTC output: per step, the probability of "no character" and of each of A-Z0-9;
- decoders (edge/plates/decoders.py): the region formats' decoder (patterns, look-alikes), or
  the plain best path; both say how sure each character is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from edge.config.plate_regions import RegionFormat
from edge.plates.formats import Decoded
from edge.plates.reads import Quad


@dataclass(frozen=True)
class PlateCandidate:
    """Where a detector thinks a plate is (corners in the searched image's pixels), and how sure it is."""

    quad: Quad
    score: float


@dataclass(frozen=True)
class PlateImage:
    """A plate cut out of the searched image for the recogniser: grey pixels, unscaled, whose top
    left corner lies at `origin` (x, y) in that image."""

    pixels: np.ndarray = field(repr=False)
    origin: tuple[float, float]


@dataclass(frozen=True)
class Reading:
    """One way a recogniser read a plate image."""

    # T x 37: per step, the probability of "no character" (column 0) and of each of A-Z0-9 (ALPHABET).
    probabilities: np.ndarray = field(repr=False)
    # The line under this one, for two-line plates.
    below: np.ndarray | None = field(repr=False)
    quad: Quad  # what was read, in the frame
    crop: np.ndarray = field(repr=False)  # what the officer is shown: grey, 64 px high


@dataclass(frozen=True)
class Evidence:
    """Every way the recogniser read one plate image (its rows, or its halves as two lines)."""

    readings: tuple[Reading, ...]


@dataclass(frozen=True)
class PlateText:
    """A decoded plate: the reading of it, the region whose format it was read as, and which of
    the evidence's readings it came from."""

    decoded: Decoded
    region: str
    reading: int


class PlateDetector(Protocol):
    def detect(self, gray: np.ndarray) -> list[PlateCandidate]:
        """Plates in a grey image, most plate-like first."""
        ...


class PlateRecogniser(Protocol):
    def recognise(self, plate: PlateImage) -> Evidence:
        """Character evidence for the plate image."""
        ...


class PlateDecoder(Protocol):
    def decode(self, evidence: Evidence, regions: Sequence[RegionFormat]) -> PlateText | None:
        """The most likely plate of one of the regions, or None when nothing fits."""
        ...
