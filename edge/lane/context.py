"""What a lane is given: the parts every lane of the checkpoint shares, and the face steps' interface."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from edge.config import LaneConfig
from edge.faces.types import FaceObservation, SearchCandidate, VerificationResult
from edge.plates.reads import FrameRead
from edge.recording.history import CrossingHistory
from edge.recording.recorder import Recorder
from edge.watchlist.lookup import WatchlistLookup
from edge.watchlist.staleness import Staleness


class TravellerFaces(Protocol):
    """The face steps of one lane (edge/lane/faces.py): frames in, 1:1 and 1:N results out."""

    def reset(self) -> None: ...
    def offer(self, image: np.ndarray, at: float) -> bool: ...  # True when the results changed
    def set_portrait(self, portrait: bytes | None) -> None: ...
    def results(self) -> tuple[VerificationResult | None, tuple[SearchCandidate, ...]]: ...
    def best_face(self) -> FaceObservation | None: ...


class PlateFrameReader(Protocol):
    """Plates read in one frame: the plate pipeline (edge/plates/pipeline.py), or a drill's stand-in."""

    def read_frame(self, image: np.ndarray, timestamp: float = 0.0) -> list[FrameRead]: ...


@dataclass(frozen=True)
class LaneContext:
    """What every lane of the checkpoint shares."""

    recorder: Recorder
    lookup: WatchlistLookup | None = None  # the watchlist; None when no watchlist is configured
    staleness: Callable[[], Staleness] | None = None
    plate_reader: Callable[[LaneConfig], PlateFrameReader] | None = None
    faces: Callable[[LaneConfig], TravellerFaces] | None = None
    history: CrossingHistory | None = None
