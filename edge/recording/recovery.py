"""What a crash left open: each lane's crossing that the audit log shows was never closed.

A crossing is closed by its `crossing_closed` record, written when the lane lets it go (the vehicle
passed or left) and at a restart for a crossing the officer had already acted on. A lane runs one
crossing at a time, so only its newest crossing can be open, and that crossing's records come
after every record of the lane's crossings before it.

The log is read from its end back to the previous start of the service, so start-up stays fast
however long the log: a crossing open at the crash either began in that last run (its decisions
are there), or was itself restored at that start (its `crossing_restored` record carries the
decision over).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from edge.lane.crossing import Decision, OfficerAction
from edge.recording.audit import (
    BARRIER_COMMAND,
    CONFIG_CHANGE,
    CROSSING_CLOSED,
    CROSSING_RESTORED,
    DECISION,
    OFFICER_ACTION,
    AuditRecord,
)
from edge.recording.audit.backwards import records_backwards

START_EVENT = "start"  # payload "event" of the config_change record the service writes at each start
CLOSED_AT_RESTART = "closed at restart"  # how the closing note of a crossing acted on before a crash begins


@dataclass(frozen=True)
class OpenCrossing:
    """A crossing of `lane_id` the log shows open: its newest decision and what was done about it."""

    lane_id: str
    opened_at: float
    decision: Decision
    action: OfficerAction | None  # the officer's newest recorded action on it
    barrier_commanded: bool  # a barrier command was recorded for it (an officer's, or auto-clear)

    @property
    def acted_on(self) -> bool:
        return self.action is not None or self.barrier_commanded


class _Newest:
    """The records of one lane's newest crossing, gathered newest first."""

    def __init__(self, crossing_id: str):
        self.crossing_id = crossing_id
        self.decision: dict | None = None
        self.opened_at: float | None = None
        self.action: dict | None = None
        self.barrier_commanded = False
        self.closed = False
        self.complete = False  # everything needed has been seen; older records do not matter

    def add(self, record: AuditRecord) -> None:
        payload = record.payload
        if record.kind == DECISION:
            self.decision = self.decision or dict(payload)
            self.opened_at = payload["made_at"]  # the oldest revision seen so far: r1 is made at opening
        elif record.kind == CROSSING_RESTORED:
            self.decision = self.decision or dict(payload["decision"])
            self.opened_at = payload["opened_at"]
            self.complete = True
        elif record.kind == OFFICER_ACTION:
            self.action = self.action or dict(payload)
        elif record.kind == BARRIER_COMMAND:
            self.barrier_commanded = True
        elif record.kind == CROSSING_CLOSED:
            self.closed = self.complete = True

    def open_crossing(self, lane_id: str) -> OpenCrossing | None:
        if self.closed or self.decision is None or self.opened_at is None:
            return None
        action = OfficerAction.from_json(self.action) if self.action is not None else None
        return OpenCrossing(lane_id, self.opened_at, Decision.from_json(self.decision), action,
                            self.barrier_commanded)


_CROSSING_KINDS = (DECISION, OFFICER_ACTION, BARRIER_COMMAND, CROSSING_CLOSED, CROSSING_RESTORED)


def open_crossings(audit_path: Path, lane_ids: Iterable[str], before_seq: int) -> dict[str, OpenCrossing]:
    """The open crossing of each lane in `lane_ids`, by lane id, from the records before `before_seq`
    (the current start's own record) back to the start before it."""
    newest: dict[str, _Newest] = {}
    searching = set(lane_ids)
    for record in records_backwards(audit_path):
        if not searching:
            break
        if record.seq >= before_seq:
            continue
        if record.kind == CONFIG_CHANGE and record.payload.get("event") == START_EVENT:
            break
        lane = record.lane
        if lane not in searching or record.crossing_id is None or record.kind not in _CROSSING_KINDS:
            continue
        found = newest.setdefault(lane, _Newest(record.crossing_id))
        if record.crossing_id != found.crossing_id:
            searching.discard(lane)  # an older crossing of the lane: the newest one is complete
            continue
        found.add(record)
        if found.complete:
            searching.discard(lane)
    crossings = {lane: found.open_crossing(lane) for lane, found in newest.items()}
    return {lane: crossing for lane, crossing in crossings.items() if crossing is not None}
