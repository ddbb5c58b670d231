"""The lane's recent crossings, searchable by plate or document number, for the officer's history panel.

A convenience copy for the kiosk (the audit log is the record of truth): one row per crossing,
written when the crossing closes, in SQLite under the state directory.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Collection
from dataclasses import asdict, dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS crossings (
    crossing_id TEXT PRIMARY KEY,
    lane_id TEXT NOT NULL,
    opened_at REAL NOT NULL,
    closed_at REAL NOT NULL,
    plate TEXT,
    document_number TEXT,
    name TEXT,
    outcome TEXT,
    action TEXT,
    actor TEXT,
    barrier_opened INTEGER NOT NULL,
    note TEXT
);
CREATE INDEX IF NOT EXISTS crossings_closed ON crossings (closed_at DESC);
"""


@dataclass(frozen=True)
class PastCrossing:
    crossing_id: str
    lane_id: str
    opened_at: float
    closed_at: float
    plate: str | None
    document_number: str | None
    name: str | None
    outcome: str | None  # the last decision's outcome, if there was one
    action: str | None  # what the officer did, if anything
    actor: str | None
    barrier_opened: bool
    note: str | None  # how it ended: passed, left without passing, ...

    def to_json(self) -> dict:
        return asdict(self)


class CrossingHistory:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def add(self, past: PastCrossing) -> None:
        row = asdict(past)
        row["barrier_opened"] = int(past.barrier_opened)
        with self._lock:
            self._db.execute(
                f"INSERT OR REPLACE INTO crossings ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                tuple(row.values()),
            )

    def search(self, text: str = "", limit: int = 50, lanes: Collection[str] | None = None) -> list[PastCrossing]:
        """Newest first; `text` matches anywhere in the plate or document number (case-insensitive);
        `lanes`: only crossings of these lanes (None: every lane)."""
        pattern = f"%{text.strip().upper().replace(' ', '')}%"
        every = lanes is None
        lane_list = json.dumps(sorted(lanes or ()))
        with self._lock:
            cursor = self._db.execute(
                "SELECT * FROM crossings WHERE (? = '%%' OR plate LIKE ? OR document_number LIKE ?) "
                "AND (? OR lane_id IN (SELECT value FROM json_each(?))) ORDER BY closed_at DESC LIMIT ?",
                (pattern, pattern, pattern, every, lane_list, limit),
            )
            names = [column[0] for column in cursor.description]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        return [PastCrossing(**{**row, "barrier_opened": bool(row["barrier_opened"])}) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
