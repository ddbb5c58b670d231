"""Everything a lane does that must be on record: audited first, then queued for the centre.

The audit append returns only once the record is durable, and it raises if it cannot be made
durable (disk full, a damaged log): the caller then refuses the action it was about to take.
The outbox copy follows; the centre may drop duplicates by event id.

A kill -9 between the two would leave an audited event that never reaches the centre, so the
recorder keeps a marker of the last audit record it queued, and at start queues again every
recordable audit record after it (from the end of the log backwards, so start-up stays fast
however long the log). An outbox that refuses an event (its disk is full) holds the marker back
in the same way, and catch_up() runs again once the disk takes writes. Duplicates are allowed;
loss is not.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import asdict
from itertools import takewhile
from pathlib import Path
from typing import Any

from edge.capture import CameraStatus
from edge.lane.crossing import Decision, OfficerAction
from edge.recording.audit import (
    BARRIER_COMMAND,
    CAMERA_STATUS,
    CROSSING_CLOSED,
    CROSSING_RESTORED,
    DECISION,
    DEVICE_FAULT,
    OFFICER_ACTION,
    STORAGE_ALARM,
    SYNC,
    AuditError,
    AuditLog,
    AuditRecord,
)
from edge.recording.audit.backwards import records_backwards
from edge.recording.outbox.queue import Outbox
from edge.service.storage import StorageAlarm, StorageMonitor
from edge.watchlist.sync import SyncReport
from hardware.barrier import BarrierCommand
from hardware.health import DeviceHealth

log = logging.getLogger(__name__)


# Audit kinds that also go to the centre, and their topics.
TOPICS = {DECISION: "decision", OFFICER_ACTION: "officer_action", BARRIER_COMMAND: "barrier", DEVICE_FAULT: "device",
          SYNC: "watchlist", CROSSING_CLOSED: "crossing_closed", CROSSING_RESTORED: "crossing_restored",
          CAMERA_STATUS: "camera", STORAGE_ALARM: "storage"}


def outbox_marker(state_dir: Path) -> Path:
    """Where the last audit seq handed to the outbox is kept (one file per state dir, shared by every writer)."""
    return state_dir / "outbox-audit-seq"


class NotRecorded(Exception):
    """The audit log refused a record; the message names the problem in words for the officer
    ("not recorded: the state disk is full"). What it describes must not take effect."""


def _records_after(path: Path, seq: int) -> Iterator[AuditRecord]:
    """Audit records with a sequence number above `seq`, oldest first."""
    return reversed(list(takewhile(lambda record: record.seq > seq, records_backwards(path))))


def missing_from_outbox(audit_path: Path, outbox: Outbox) -> list[int]:
    """Audit seqs of the records that must reach the centre and have no event in `outbox`. Only
    meaningful for an outbox nothing has published from (a delivered event leaves the outbox)."""
    queued = {json.loads(event.event_json).get("audit_seq") for event in outbox.pending(0, sys.maxsize)}
    return sorted(record.seq for record in records_backwards(audit_path)
                  if record.kind in TOPICS and record.seq not in queued)


class Recorder:
    def __init__(self, audit: AuditLog, outbox: Outbox | None, marker: Path | None = None,
                 storage: StorageMonitor | None = None):
        self._audit = audit
        self._outbox = outbox
        self._marker = marker
        # Says what is wrong with the state disk ("the state disk is full") after an append failed,
        # and while its alarm is raised, officer actions and barrier commands are refused up front.
        self._storage = storage
        # One at a time through audit + outbox + marker, so the marker never passes a record that
        # another thread has audited but not yet queued.
        self._lock = threading.Lock()
        # An audited record failed to reach the outbox: the marker stays where it is until
        # catch_up() has queued everything after it again.
        self._behind = False

    @property
    def behind(self) -> bool:
        return self._behind

    def catch_up(self) -> int:
        """Queue every recordable audit record after the marker (a crash's or a full disk's leftovers);
        returns how many. If the outbox still refuses, it says so in the log and stays behind."""
        if self._outbox is None or self._marker is None:
            return 0
        with self._lock:
            done = int(self._marker.read_text()) if self._marker.exists() else 0
            queued = 0
            try:
                for record in _records_after(self._audit.path, done):
                    if record.kind in TOPICS:
                        self._queue(record, TOPICS[record.kind])
                        queued += 1
                self._mark(self._audit.head.seq)
            except Exception:
                self._behind = True
                log.exception("audited events could not be queued for the centre; trying again later")
            else:
                self._behind = False
        if queued:
            log.warning("queued %d audited event(s) for the centre that had not been", queued)
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
            try:
                record = self._audit.append(kind, actor=actor, lane=lane, crossing_id=crossing_id, payload=payload)
            except AuditError as exc:
                problem = self._storage.check() if self._storage is not None else None
                raise NotRecorded(f"not recorded: {problem or exc}") from exc
            if self._outbox is None:
                return
            try:
                self._queue(record, topic)
                if not self._behind:
                    self._mark(record.seq)
            except Exception:
                # The audit holds the record and catch_up() queues it again; a full outbox disk
                # must not undo an audited action.
                self._behind = True
                log.exception("event %s could not be queued for the centre", kind,
                              extra={"lane": lane, "crossing": crossing_id})

    def decision(self, decision: Decision) -> None:
        self._record(DECISION, actor="lane", lane=decision.lane_id, crossing_id=decision.crossing_id,
                     payload=decision.to_json(), topic=TOPICS[DECISION])

    def _refuse_during_storage_alarm(self) -> None:
        """An action goes on record in steps (the action, the barrier command, the outbox copies);
        a disk that refuses writes could stop it halfway, so none is started while the alarm is up,
        even when a small append might still fit."""
        alarm = self._storage.alarm if self._storage is not None else None
        if alarm is not None:
            raise NotRecorded(f"not recorded: {alarm.problem}")

    def officer_action(self, action: OfficerAction) -> None:
        self._refuse_during_storage_alarm()
        self._record(OFFICER_ACTION, actor=f"{action.actor} ({action.role})", lane=action.lane_id,
                     crossing_id=action.crossing_id, payload=action.to_json(), topic=TOPICS[OFFICER_ACTION])

    def barrier_command(self, lane_id: str, crossing_id: str | None, command: BarrierCommand) -> None:
        self._refuse_during_storage_alarm()
        self._record(BARRIER_COMMAND, actor=command.actor, lane=lane_id, crossing_id=crossing_id,
                     payload=command.to_json(), topic=TOPICS[BARRIER_COMMAND])

    def crossing_closed(self, lane_id: str, crossing_id: str, payload: dict[str, Any]) -> None:
        self._record(CROSSING_CLOSED, actor="lane", lane=lane_id, crossing_id=crossing_id, payload=payload,
                     topic=TOPICS[CROSSING_CLOSED])

    def crossing_restored(self, lane_id: str, crossing_id: str, payload: dict[str, Any]) -> None:
        self._record(CROSSING_RESTORED, actor="service", lane=lane_id, crossing_id=crossing_id, payload=payload,
                     topic=TOPICS[CROSSING_RESTORED])

    def sync(self, report: SyncReport) -> None:
        """A watchlist sync round from one source: every bundle applied or refused, and why."""
        if not report.results and report.error is None:
            return  # nothing new at the source: not worth a record every few minutes
        payload = {"source": report.source, "error": report.error,
                   "results": [asdict(result) for result in report.results]}
        try:
            self._record(SYNC, actor="watchlist", lane=None, crossing_id=None, payload=payload, topic=TOPICS[SYNC])
        except NotRecorded as exc:
            log.error("watchlist sync %s", exc)  # the storage alarm says the rest

    def device_health(self, lane_id: str, health: DeviceHealth) -> None:
        try:
            self._record(DEVICE_FAULT, actor="device", lane=lane_id, crossing_id=None, payload=health.to_json(),
                         topic=TOPICS[DEVICE_FAULT])
        except NotRecorded as exc:
            # A device report that cannot be recorded is logged; it must not stop the poller.
            log.error("device health change %s", exc, extra={"lane": lane_id, "device": health.device})

    def camera_status(self, lane_id: str, status: CameraStatus) -> None:
        """A lane camera's new state: the supervisor's report counts uptime from these."""
        payload = {"camera": status.camera_id, "state": str(status.state), "since": status.since, "error": status.error}
        try:
            self._record(CAMERA_STATUS, actor="camera", lane=lane_id, crossing_id=None, payload=payload,
                         topic=TOPICS[CAMERA_STATUS])
        except NotRecorded as exc:
            log.error("camera state change %s", exc, extra={"lane": lane_id, "device": status.camera_id})

    def storage_alarm(self, alarm: StorageAlarm, cleared_at: float) -> None:
        """A storage alarm, once it has cleared (while it lasted, nothing could be written)."""
        try:
            self._record(STORAGE_ALARM, actor="service", lane=None, crossing_id=None,
                         payload={**alarm.to_json(), "cleared_at": cleared_at}, topic=TOPICS[STORAGE_ALARM])
        except NotRecorded as exc:
            log.error("storage alarm %s", exc)
