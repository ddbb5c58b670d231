"""The lane state machine: what is happening at the barrier, one crossing at a time.

    idle ─► present ─► reading ─► decision pending ─► passing ─► idle
                 └──────────┴───────────┴─ vehicle left without passing ─► idle

It is pure: events and clock ticks in, snapshots out. It does no I/O and reads no clock of
its own, so the service, the tests and the benchmarks drive it the same way, and a replay of
its inputs gives the same states.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, replace
from enum import StrEnum

from edge.config import LaneTimeouts


class LaneState(StrEnum):
    IDLE = "idle"
    PRESENT = "present"
    READING = "reading"
    DECISION_PENDING = "decision_pending"
    PASSING = "passing"


@dataclass(frozen=True)
class VehicleArrived:
    at: float
    source: str  # "camera" or "loop": which sensor saw it first


@dataclass(frozen=True)
class VehicleStopped:
    at: float


@dataclass(frozen=True)
class VehicleLeft:
    at: float


@dataclass(frozen=True)
class EvidenceComplete:
    """Every reader the lane waits for has reported for the current crossing."""

    at: float
    crossing_id: str


@dataclass(frozen=True)
class BarrierOpened:
    at: float
    crossing_id: str


LaneEvent = VehicleArrived | VehicleStopped | VehicleLeft | EvidenceComplete | BarrierOpened


@dataclass(frozen=True)
class LaneSnapshot:
    lane_id: str
    state: LaneState
    since: float  # wall-clock time the lane entered this state
    crossing_id: str | None
    overdue: bool = False  # a decision has waited longer than the lane's decision timeout
    note: str | None = None  # why the last transition happened, in words for the kiosk and the log


def new_crossing_id(lane_id: str, at: float) -> str:
    # Sortable by time, unique across restarts without a counter that would need persisting.
    return f"{lane_id}-{time.strftime('%Y%m%dT%H%M%S', time.gmtime(at))}-{secrets.token_hex(3)}"


class LaneStateMachine:
    def __init__(self, lane_id: str, timeouts: LaneTimeouts, now: float):
        self._timeouts = timeouts
        self.snapshot = LaneSnapshot(lane_id=lane_id, state=LaneState.IDLE, since=now, crossing_id=None)

    def handle(self, event: LaneEvent) -> LaneSnapshot | None:
        """Apply one event; returns the new snapshot, or None when the event changes nothing."""
        s = self.snapshot
        match event:
            case VehicleArrived(at=at, source=source) if s.state is LaneState.IDLE:
                return self._enter(LaneState.PRESENT, at, new_crossing_id(s.lane_id, at), f"vehicle seen by {source}")
            case VehicleStopped(at=at) if s.state is LaneState.PRESENT:
                return self._enter(LaneState.READING, at, s.crossing_id, "vehicle stopped")
            case EvidenceComplete(at=at, crossing_id=cid) if (
                s.state is LaneState.READING and cid == s.crossing_id
            ):
                return self._enter(LaneState.DECISION_PENDING, at, s.crossing_id, "all readers reported")
            case BarrierOpened(at=at, crossing_id=cid) if (
                s.state is LaneState.DECISION_PENDING and cid == s.crossing_id
            ):
                return self._enter(LaneState.PASSING, at, s.crossing_id, "barrier opened")
            case VehicleLeft(at=at) if s.state is LaneState.PASSING:
                return self._enter(LaneState.IDLE, at, None, "vehicle passed")
            case VehicleLeft(at=at) if s.state is not LaneState.IDLE:
                return self._enter(LaneState.IDLE, at, None, "vehicle left without passing")
        return None

    def restore(self, crossing_id: str, at: float, note: str) -> LaneSnapshot:
        """Start, after a restart, with a crossing the audit shows open: it waits for the officer
        (reading it again is impossible, its live evidence is gone). Only from idle, at start."""
        if self.snapshot.state is not LaneState.IDLE:
            raise ValueError(f"a crossing is restored only into an idle lane, not a {self.snapshot.state.value} one")
        return self._enter(LaneState.DECISION_PENDING, at, crossing_id, note)

    def tick(self, now: float) -> LaneSnapshot | None:
        """Apply the state timeouts at time `now`; returns the new snapshot if one fired."""
        s, t = self.snapshot, self._timeouts
        waited = now - s.since
        if s.state is LaneState.PRESENT and waited >= t.settle_s:
            return self._enter(LaneState.READING, now, s.crossing_id, "vehicle did not settle; reading anyway")
        if s.state is LaneState.READING and waited >= t.reading_s:
            return self._enter(LaneState.DECISION_PENDING, now, s.crossing_id, "reading time is up")
        if s.state is LaneState.DECISION_PENDING and waited >= t.decision_s and not s.overdue:
            self.snapshot = replace(s, overdue=True, note="waiting for the officer")
            return self.snapshot
        if s.state is LaneState.PASSING and waited >= t.passing_s:
            # The barrier controller closes on its own loop logic; we only stop waiting.
            return self._enter(LaneState.IDLE, now, None, "vehicle did not clear the lane in time")
        return None

    def _enter(self, state: LaneState, at: float, crossing_id: str | None, note: str) -> LaneSnapshot:
        self.snapshot = LaneSnapshot(
            lane_id=self.snapshot.lane_id, state=state, since=at, crossing_id=crossing_id, note=note
        )
        return self.snapshot
