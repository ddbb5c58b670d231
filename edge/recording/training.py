"""The training lanes' records, kept apart from the live ones.

A training lane (`training = true` in its config) is worked like any other, but what it records goes
to an audit log and a history of its own under state_dir/training/, and none of it to the outbox: a
drill's "deny" must never reach the centre as a live event, nor show among the live crossings in the
history search or in the supervisor's report (both read the live records only).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from edge.recording.audit import CONFIG_CHANGE, AuditLog
from edge.recording.history import CrossingHistory
from edge.recording.recorder import Recorder
from edge.recording.recovery import START_EVENT, OpenCrossing, open_crossings

TRAINING_DIR = "training"


class RestorableLane(Protocol):
    def restore(self, crossing: OpenCrossing) -> None: ...


def training_audit_dir(state_dir: Path) -> Path:
    return state_dir / TRAINING_DIR / "audit"


class TrainingRecords:
    def __init__(self, state_dir: Path):
        self.audit = AuditLog(training_audit_dir(state_dir))
        self.history = CrossingHistory(state_dir / TRAINING_DIR / "history.sqlite")
        self.recorder = Recorder(self.audit, outbox=None)  # no outbox: nothing of a drill reaches the centre

    def start(self, lanes: Mapping[str, RestorableLane]) -> None:
        """Mark this start in the training log, and give each training lane back the crossing a
        crash left open (as the live lanes get theirs from the live log)."""
        started = self.audit.append(CONFIG_CHANGE, actor="service", payload={"event": START_EVENT, "training": True})
        for lane_id, crossing in open_crossings(self.audit.path, lanes, before_seq=started.seq).items():
            lanes[lane_id].restore(crossing)

    def close(self) -> None:
        self.history.close()
        self.audit.close()
