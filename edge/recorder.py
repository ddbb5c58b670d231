"""Everything a lane does that must be on record: audited first, then queued for the centre.

The audit append returns only once the record is durable, and it raises if it cannot be made
durable (disk full, a damaged log): the caller then refuses the action it was about to take.
The outbox copy follows; the centre may drop duplicates by event id.

A kill -9 between the two would leave an audited event that never reaches the centre, so the
recorder keeps a marker of the last audit record it queued, and at start queues again every
recordable audit record after it (from the end of the log backwards, so start-up stays fast
however long the log). Duplicates are allowed; loss is not.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from edge.audit import BARRIER_COMMAND, DECISION, DEVICE_FAULT, OFFICER_ACTION, SYNC, AuditLog, AuditRecord
from edge.audit.records import parse_line
from edge.crossing import Decision, OfficerAction
from edge.outbox.queue import Outbox
from edge.watchlist.sync import SyncReport
from hardware.barrier import BarrierCommand
from hardware.health import DeviceHealth

log = logging.getLogger(__name__)


# Audit kinds that also go to the centre, and their topics.
TOPICS = {DECISION: "decision", OFFICER_ACTION: "officer_action", BARRIER_COMMAND: "barrier", DEVICE_FAULT: "device",
          SYNC: "watchlist"}
_CHUNK = 1 << 16


def _records_after(path: Path, seq: int) -> Iterator[AuditRecord]:
    """Audit records with a sequence number above `seq`, oldest first, read from the end backwards."""
    if not path.exists():
        return
    newer: list[AuditRecord] = []
    with path.open("rb") as file:
        end = file.seek(0, os.SEEK_END)
        tail = b""
        while end > 0:
            start = max(0, end - _CHUNK)
            file.seek(start)
            lines = (file.read(end - start) + tail).split(b"\n")
            tail, complete = (lines[0], lines[1:]) if start > 0 else (b"", lines)
            for line in reversed(complete):
                if not line.strip():
                    continue
                record = parse_line(line)
                if record.seq <= seq:
                    yield from reversed(newer)
                    return
                newer.append(record)
            end = start
    yield from reversed(newer)


class Recorder:
    def __init__(self, audit: AuditLog, outbox: Outbox | None, marker: Path | None = None):
        self._audit = audit
        self._outbox = outbox
        self._marker = marker
        # One at a time through audit + outbox + marker, so the marker never passes a record that
        # another thread has audited but not yet queued.
        self._lock = threading.Lock()

    def catch_up(self) -> int:
        """Queue every recordable audit record after the marker (a crash's leftovers); returns how many."""
        if self._outbox is None or self._marker is None:
            return 0
        with self._lock:
            done = int(self._marker.read_text()) if self._marker.exists() else 0
            queued = 0
            for record in _records_after(self._audit.path, done):
                if record.kind in TOPICS:
                    self._queue(record, TOPICS[record.kind])
                    queued += 1
            self._mark(self._audit.head.seq)
        if queued:
            log.warning("queued %d audited event(s) for the centre that a previous run had not", queued)
        return queued

    def _queue(self, record: AuditRecord, topic: str) -> None:
        assert self._outbox is not None
        self._outbox.put(topic, {"lane": record.lane, "crossing_id": record.crossing_id, "audit_seq": record.seq,
                                 **record.payload})

    def _mark(self, seq: int) -> None:
        if self._marker is not None:
            # No fsync: a marker that falls back after a power cut only re-queues (duplicates are allowed).
            temporary = self._marker.with_suffix(".tmp")
            temporary.write_text(str(seq))
            os.replace(temporary, self._marker)

    def _record(self, kind: str, *, actor: str, lane: str | None, crossing_id: str | None,
                payload: dict[str, Any], topic: str) -> None:
        with self._lock:
            record = self._audit.append(kind, actor=actor, lane=lane, crossing_id=crossing_id, payload=payload)
            if self._outbox is None:
                return
            try:
                self._queue(record, topic)
                self._mark(record.seq)
            except Exception:
                # The audit holds the record (and catch_up queues it at the next start); a full
                # outbox disk must not undo an audited action.
                log.exception("event %s could not be queued for the centre", kind,
                              extra={"lane": lane, "crossing": crossing_id})

    def decision(self, decision: Decision) -> None:
        self._record(DECISION, actor="lane", lane=decision.lane_id, crossing_id=decision.crossing_id,
                     payload=decision.to_json(), topic=TOPICS[DECISION])

    def officer_action(self, action: OfficerAction) -> None:
        self._record(OFFICER_ACTION, actor=f"{action.actor} ({action.role})", lane=action.lane_id,
                     crossing_id=action.crossing_id, payload=action.to_json(), topic=TOPICS[OFFICER_ACTION])

    def barrier_command(self, lane_id: str, crossing_id: str | None, command: BarrierCommand) -> None:
        self._record(BARRIER_COMMAND, actor=command.actor, lane=lane_id, crossing_id=crossing_id,
                     payload=command.to_json(), topic=TOPICS[BARRIER_COMMAND])

    def sync(self, report: SyncReport) -> None:
        """A watchlist sync round from one source: every bundle applied or refused, and why."""
        if not report.results and report.error is None:
            return  # nothing new at the source: not worth a record every few minutes
        payload = {"source": report.source, "error": report.error,
                   "results": [asdict(result) for result in report.results]}
        try:
            self._record(SYNC, actor="watchlist", lane=None, crossing_id=None, payload=payload, topic=TOPICS[SYNC])
        except Exception:
            log.exception("watchlist sync could not be recorded")

    def device_health(self, lane_id: str, health: DeviceHealth) -> None:
        try:
            self._record(DEVICE_FAULT, actor="device", lane=lane_id, crossing_id=None, payload=health.to_json(),
                         topic=TOPICS[DEVICE_FAULT])
        except Exception:
            # A device report that cannot be recorded is logged; it must not stop the poller.
            log.exception("device health change could not be recorded", extra={"lane": lane_id})
