"""The outbox: a durable, ordered queue of events for the centre, in SQLite (WAL).

put() returns once the event is committed to disk, so an event the service has handed over
survives a kill -9 or a power cut. An event leaves the queue only when the broker acknowledged
it (PUBACK); until then it is sent again after every reconnect or restart, so the centre may see
an event twice (it drops duplicates by id) but never misses one. seq (SQLite AUTOINCREMENT, never
reused) orders events of this source.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from edge.config import MQTT_TOPIC
from edge.recording.audit.records import InvalidRecord, canonical_json, utc_text

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    time TEXT NOT NULL,
    topic TEXT NOT NULL,
    event TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS delivery (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    last_time REAL,
    delivered INTEGER NOT NULL DEFAULT 0
);
INSERT OR IGNORE INTO delivery (one, last_time, delivered) VALUES (1, NULL, 0);
"""
_TOPIC = re.compile(MQTT_TOPIC)
MAX_TOPIC = 128
# An event too big for the broker would be refused on every attempt and hold up all behind it;
# images and biometric data go to the audit blobs, and events carry their hashes.
MAX_EVENT_BYTES = 256 * 1024


class OutboxError(Exception):
    """An event could not be queued (bad input, or the disk refused it); it was not stored."""


@dataclass(frozen=True)
class PendingEvent:
    seq: int
    id: str
    time: str
    topic: str  # below <topic_prefix>/<source>/
    event_json: str

    def envelope(self, source: str) -> bytes:
        """What goes on the wire; the same bytes on every resend, so duplicates are exact copies."""
        return canonical_json({"id": self.id, "source": source, "seq": self.seq, "time": self.time,
                               "type": self.topic, "event": json.loads(self.event_json)}).encode("utf-8")


class Outbox:
    """The events of one source (the crossing) waiting for the centre, in the SQLite file at `path`."""

    def __init__(self, path: Path, source: str):
        self.path = path
        self.source = source
        self._arrived = threading.Event()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Two connections: puts commit with a full fsync (an accepted event must survive a power
            # cut); delivery marks need not (if one is lost the event is sent again, a duplicate).
            self._writer = self._connect("FULL")
            self._writer.executescript(_SCHEMA)
            self._marker = self._connect("NORMAL")
        except sqlite3.Error as exc:
            raise OutboxError(f"cannot open outbox {path}: {exc}") from None
        self._writer_lock = threading.Lock()
        self._marker_lock = threading.Lock()

    def _connect(self, synchronous: str) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        return conn

    def put(self, topic_suffix: str, event: Mapping[str, Any]) -> str:
        """Queue `event` for <topic_prefix>/<source>/<topic_suffix>; returns its id once it is durable."""
        if not isinstance(topic_suffix, str) or not _TOPIC.match(topic_suffix) or len(topic_suffix) > MAX_TOPIC:
            raise OutboxError(f"topic {topic_suffix!r} must be levels of A-Z a-z 0-9 _ . - joined by '/' "
                              f"(no wildcards, no empty level, at most {MAX_TOPIC} characters)")
        if not isinstance(event, Mapping):
            raise OutboxError(f"an event must be a mapping, got {type(event).__name__}")
        try:
            event_json = canonical_json(dict(event))
        except InvalidRecord as exc:
            raise OutboxError(f"event for {topic_suffix!r}: {exc}") from None
        if len(event_json.encode("utf-8")) > MAX_EVENT_BYTES:
            raise OutboxError(f"event for {topic_suffix!r} is {len(event_json.encode('utf-8'))} bytes, more than "
                              f"{MAX_EVENT_BYTES}: send images and biometric data by hash, not inline")
        event_id = str(uuid.uuid4())
        try:
            with self._writer_lock:
                self._writer.execute("INSERT INTO events (id, time, topic, event) VALUES (?, ?, ?, ?)",
                                     (event_id, utc_text(datetime.now(UTC)), topic_suffix, event_json))
        except sqlite3.Error as exc:
            raise OutboxError(f"outbox {self.path}: cannot store the event for {topic_suffix!r}: {exc}") from None
        self._arrived.set()
        return event_id

    def pending(self, after_seq: int, limit: int) -> list[PendingEvent]:
        """The oldest undelivered events with seq above `after_seq`, in order."""
        with self._marker_lock:
            rows = self._marker.execute(
                "SELECT seq, id, time, topic, event FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit)).fetchall()
        return [PendingEvent(*row) for row in rows]

    def mark_delivered(self, seqs: Sequence[int], at: float | None = None) -> None:
        """The broker acknowledged these events: they leave the queue."""
        if not seqs:
            return
        at = time.time() if at is None else at
        with self._marker_lock:
            self._marker.execute("BEGIN IMMEDIATE")
            try:
                self._marker.executemany("DELETE FROM events WHERE seq = ?", [(s,) for s in seqs])
                self._marker.execute("UPDATE delivery SET last_time = ?, delivered = delivered + ?",
                                     (at, len(seqs)))
                self._marker.execute("COMMIT")
            except BaseException:
                self._marker.execute("ROLLBACK")
                raise

    def depth(self) -> int:
        """Events waiting for the centre."""
        with self._marker_lock:
            return self._marker.execute("SELECT COUNT(*) FROM events").fetchone()[0]

    def last_delivery(self) -> float | None:
        """Epoch seconds of the last acknowledged delivery (kept across restarts), None if never."""
        with self._marker_lock:
            return self._marker.execute("SELECT last_time FROM delivery").fetchone()[0]

    def last_seq(self) -> int:
        """The seq of the newest event ever queued (delivered or not), 0 if none."""
        with self._marker_lock:
            row = self._marker.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
        return row[0] if row else 0

    def wait_for_events(self, timeout: float) -> None:
        """Block until put() is called in this process, or `timeout` seconds."""
        self._arrived.wait(timeout)
        self._arrived.clear()

    def wake(self) -> None:
        """End a wait_for_events() now (the publisher is stopping)."""
        self._arrived.set()

    def close(self) -> None:
        with self._writer_lock, self._marker_lock:
            self._writer.close()
            self._marker.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
