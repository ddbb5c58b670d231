"""The report's own database: one row per crossing, built from the audit log and rebuilt from it at will.

The audit log is the record of truth; this is a summary of it in SQLite, shaped for the supervisor's
questions. It is brought up to date by reading the records after the last one it took; if the audit
log is not the one it was built from (the record at that sequence number has another hash), it is
built again from the first record. Training crossings (a drill's lane) are kept apart by their
lane's flag, never mixed with live figures.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

from edge.recording.audit import (
    CAMERA_STATUS,
    CROSSING_CLOSED,
    CROSSING_RESTORED,
    DECISION,
    DEVICE_FAULT,
    OFFICER_ACTION,
    STORAGE_ALARM,
    AuditRecord,
)
from edge.recording.audit.records import UnreadableRecord, parse_line
from edge.recording.audit.tail import ended_lines, line_ending_at

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS crossings (
    crossing_id TEXT PRIMARY KEY,
    lane TEXT NOT NULL,
    opened_at REAL,            -- the vehicle's arrival (the crossing's start)
    decided_at REAL,           -- the decision the officer acted on (the last revision before the action)
    first_outcome TEXT,
    outcome TEXT,              -- the last revision's
    revisions INTEGER NOT NULL DEFAULT 0,
    plate TEXT,                -- sure | unsure | none, in the last revision
    document INTEGER,          -- 1 when a document was read
    face TEXT,                 -- match | mismatch | none (not compared)
    face_score REAL,
    action TEXT,               -- confirm | refer | deny | override
    action_at REAL,
    actor TEXT,
    action_reason TEXT,
    agreement TEXT,            -- agreed | stricter | overridden | softer
    closed_at REAL,
    note TEXT,
    barrier_opened INTEGER,
    restored INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS crossings_by_time ON crossings (opened_at);
CREATE TABLE IF NOT EXISTS reasons (
    crossing_id TEXT NOT NULL, code TEXT NOT NULL, outcome TEXT NOT NULL, PRIMARY KEY (crossing_id, code)
);
CREATE TABLE IF NOT EXISTS hits (
    crossing_id TEXT NOT NULL, list TEXT NOT NULL, action TEXT NOT NULL, PRIMARY KEY (crossing_id, list, action)
);
CREATE TABLE IF NOT EXISTS device_events (
    seq INTEGER PRIMARY KEY, lane TEXT, device TEXT NOT NULL, state TEXT NOT NULL, at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS camera_events (
    seq INTEGER PRIMARY KEY, lane TEXT NOT NULL, camera TEXT NOT NULL, state TEXT NOT NULL, at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS storage_alarms (
    seq INTEGER PRIMARY KEY, reason TEXT NOT NULL, problem TEXT NOT NULL, since REAL NOT NULL, cleared_at REAL NOT NULL
);
"""

_SEVERITY = {"CLEAR": 0, "REFER": 1, "DENY": 2}
_ACTION_SEVERITY = {"refer": 1, "deny": 2}
_PLATE_MISSING, _PLATE_UNSURE = "NO_PLATE", "PLATE_UNSURE"
_NO_DOCUMENT = ("NO_DOCUMENT", "MRZ_INVALID")


def agreement(action: str, outcome: str) -> str:
    """How the officer's action relates to the decision they acted on."""
    if action == "override":
        return "overridden"
    if action == "confirm":
        return "agreed"
    difference = _ACTION_SEVERITY[action] - _SEVERITY[outcome]
    return "agreed" if difference == 0 else "stricter" if difference > 0 else "softer"


def _time(record: AuditRecord) -> float:
    return datetime.fromisoformat(record.time.replace("Z", "+00:00")).timestamp()


class ReportLedger:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def catch_up(self, audit_path: Path) -> int:
        """Take the audit records not yet taken; returns how many. Rebuilds when the log is another one."""
        if not audit_path.exists():
            return 0
        last_seq = int(self._meta("last_seq") or 0)
        if not last_seq:
            return self._take_from(audit_path, 0)
        # Each page asks for this: it reads from where the last record taken ended, not the whole log
        # (100,000 crossings: 3 s), once that record is found there, unchanged.
        end = int(self._meta("last_end") or 0)
        if self._ends_at(audit_path, end, last_seq, self._meta("last_hash")):
            return self._take_from(audit_path, end)
        return self.rebuild(audit_path)

    def rebuild(self, audit_path: Path) -> int:
        with self.db:
            for table in ("meta", "crossings", "reasons", "hits", "device_events", "camera_events", "storage_alarms"):
                self.db.execute(f"DELETE FROM {table}")
        return self._take_from(audit_path, 0)

    @staticmethod
    def _ends_at(audit_path: Path, end: int, seq: int, hash_: str | None) -> bool:
        """Whether the record `seq` with hash `hash_` ends at byte `end` of the log: it is the log this was
        built from (the hash chain makes every record before it the same too)."""
        line = line_ending_at(audit_path, end)
        if line is None:
            return False
        try:
            record = parse_line(line)
        except UnreadableRecord:
            return False
        return record.seq == seq and record.hash == hash_

    def _take_from(self, audit_path: Path, start: int) -> int:
        lines, _torn = ended_lines(audit_path, start)
        taken = 0
        with self.db:
            last: tuple[AuditRecord, int] | None = None
            for raw, end in lines:
                try:
                    record = parse_line(raw)
                except UnreadableRecord:
                    continue  # `edge audit verify` names it; the report reads what it can
                self._take_one(record)
                last = (record, end)
                taken += 1
            if last is not None:
                record, end = last
                self.db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                                    [("last_seq", str(record.seq)), ("last_hash", record.hash), ("last_end", str(end))])
        return taken

    def _take_one(self, record: AuditRecord) -> None:
        payload = record.payload
        taker = _TAKERS.get(record.kind)
        if taker is not None:
            taker(self.db, record, payload)


def _ensure(db: sqlite3.Connection, crossing_id: str, lane: str) -> None:
    db.execute("INSERT OR IGNORE INTO crossings (crossing_id, lane) VALUES (?, ?)", (crossing_id, lane))


def _take_decision(db: sqlite3.Connection, record: AuditRecord, payload: Any) -> None:
    crossing_id, lane = payload["crossing_id"], payload["lane_id"]
    _ensure(db, crossing_id, lane)
    codes = {reason["code"] for reason in payload["reasons"]}
    evidence = payload.get("evidence") or {}
    plate = "none" if _PLATE_MISSING in codes else "unsure" if _PLATE_UNSURE in codes else "sure"
    face_match = evidence.get("face_match")
    face = "none" if face_match is None else "match" if face_match else "mismatch"
    document = int(evidence.get("document_number") is not None and not codes & set(_NO_DOCUMENT))
    db.execute(
        # The decision's time is the last revision before the officer acted (the one they saw): the
        # first revision comes at the vehicle's arrival, before anything was read.
        "UPDATE crossings SET decided_at = CASE WHEN action IS NULL THEN ? ELSE decided_at END, "
        "first_outcome = COALESCE(first_outcome, ?), "
        "outcome = ?, revisions = revisions + 1, plate = ?, document = ?, face = ?, face_score = ?, "
        "opened_at = COALESCE(opened_at, ?) WHERE crossing_id = ?",
        (payload["made_at"], payload["outcome"], payload["outcome"], plate, document, face, payload.get("face_score"),
         payload["made_at"], crossing_id),
    )
    db.execute("DELETE FROM reasons WHERE crossing_id = ?", (crossing_id,))
    db.executemany("INSERT OR IGNORE INTO reasons (crossing_id, code, outcome) VALUES (?, ?, ?)",
                   [(crossing_id, r["code"], r["outcome"]) for r in payload["reasons"]])
    db.execute("DELETE FROM hits WHERE crossing_id = ?", (crossing_id,))
    db.executemany("INSERT OR IGNORE INTO hits (crossing_id, list, action) VALUES (?, ?, ?)",
                   [(crossing_id, hit["list"], hit["action"]) for hit in payload.get("hits", ())])


def _take_action(db: sqlite3.Connection, record: AuditRecord, payload: Any) -> None:
    crossing_id = payload["crossing_id"]
    _ensure(db, crossing_id, payload["lane_id"])
    row = db.execute("SELECT outcome FROM crossings WHERE crossing_id = ?", (crossing_id,)).fetchone()
    agreed = agreement(payload["kind"], row[0]) if row and row[0] else None
    db.execute("UPDATE crossings SET action = ?, action_at = ?, actor = ?, action_reason = ?, agreement = ? "
               "WHERE crossing_id = ?",
               (payload["kind"], payload["at"], payload["actor"], payload.get("reason"), agreed, crossing_id))


def _take_closed(db: sqlite3.Connection, record: AuditRecord, payload: Any) -> None:
    crossing_id = record.crossing_id
    if crossing_id is None or record.lane is None:
        return
    _ensure(db, crossing_id, record.lane)
    db.execute("UPDATE crossings SET opened_at = ?, closed_at = ?, note = ?, barrier_opened = ?, "
               "restored = MAX(restored, ?) WHERE crossing_id = ?",
               (payload["opened_at"], payload["closed_at"], payload.get("note"), int(payload["barrier_opened"]),
                int(payload.get("restored", False)), crossing_id))


def _take_restored(db: sqlite3.Connection, record: AuditRecord, payload: Any) -> None:
    if record.crossing_id is None or record.lane is None:
        return
    _ensure(db, record.crossing_id, record.lane)
    db.execute("UPDATE crossings SET restored = 1, opened_at = ? WHERE crossing_id = ?",
               (payload["opened_at"], record.crossing_id))


def _take_device(db: sqlite3.Connection, record: AuditRecord, payload: Any) -> None:
    db.execute("INSERT OR REPLACE INTO device_events (seq, lane, device, state, at) VALUES (?, ?, ?, ?, ?)",
               (record.seq, record.lane, payload.get("device", "?"), payload.get("state", "?"),
                payload.get("changed_at") or _time(record)))


def _take_camera(db: sqlite3.Connection, record: AuditRecord, payload: Any) -> None:
    db.execute("INSERT OR REPLACE INTO camera_events (seq, lane, camera, state, at) VALUES (?, ?, ?, ?, ?)",
               (record.seq, record.lane, payload["camera"], payload["state"], payload["since"]))


def _take_storage(db: sqlite3.Connection, record: AuditRecord, payload: Any) -> None:
    db.execute("INSERT OR REPLACE INTO storage_alarms (seq, reason, problem, since, cleared_at) VALUES (?, ?, ?, ?, ?)",
               (record.seq, payload["reason"], payload["problem"], payload["since"], payload["cleared_at"]))


_TAKERS = {
    DECISION: _take_decision,
    OFFICER_ACTION: _take_action,
    CROSSING_CLOSED: _take_closed,
    CROSSING_RESTORED: _take_restored,
    DEVICE_FAULT: _take_device,
    CAMERA_STATUS: _take_camera,
    STORAGE_ALARM: _take_storage,
}
