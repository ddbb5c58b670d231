"""The accounts database: state_dir/kiosk/users.sqlite, shared by the service and `edge users`.

One connection per process, guarded by a lock (FastAPI runs the auth checks in worker threads).
WAL lets `edge users ...` change accounts while the service reads them; the service reads an
account on every request, so a change (disable, new password) takes effect at once.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username      TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('officer', 'technician', 'supervisor')),
    lanes         TEXT NOT NULL,              -- comma-separated lane ids, or '*' for every lane
    password_hash TEXT NOT NULL,              -- argon2id
    badge_id      TEXT UNIQUE,
    pin_hash      TEXT,                       -- argon2id
    disabled      INTEGER NOT NULL DEFAULT 0,
    demo          INTEGER NOT NULL DEFAULT 0, -- a demo account: logs in only where config allows demo accounts
    created_at    REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_digest  TEXT PRIMARY KEY,           -- sha256 of the cookie's token; the token itself is never stored
    username      TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    csrf_token    TEXT NOT NULL,
    created_at    REAL NOT NULL,
    last_seen     REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions(username);
CREATE TABLE IF NOT EXISTS devices (
    token_digest  TEXT PRIMARY KEY,           -- sha256 of a browser's device cookie (see devices.py)
    username      TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    created_at    REAL NOT NULL
);
"""
# Columns of earlier versions, dropped on opening: accounts were locked after failures then.
_DROPPED_COLUMNS = ("failures", "locked_until")


def users_db_path(state_dir: Path) -> Path:
    return state_dir / "kiosk" / "users.sqlite"


class Database:
    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Password hashes and session digests: readable by the service's user only.
        path.touch(mode=0o600, exist_ok=True)
        os.chmod(path, 0o600)
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
        self._connection.row_factory = sqlite3.Row
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=NORMAL")
        self._connection.execute("PRAGMA foreign_keys=ON")
        self._connection.executescript(_SCHEMA)
        present = {row["name"] for row in self._connection.execute("PRAGMA table_info(users)")}
        for column in _DROPPED_COLUMNS:
            if column in present:
                self._connection.execute(f"ALTER TABLE users DROP COLUMN {column}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """The connection inside BEGIN IMMEDIATE ... COMMIT (rolled back on an exception)."""
        with self._lock:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield self._connection
                self._connection.execute("COMMIT")
            except BaseException:
                # A statement or commit the disk refused (full, read-only) may already have ended the
                # transaction; one left open would refuse every later BEGIN.
                if self._connection.in_transaction:
                    self._connection.execute("ROLLBACK")
                raise

    def read_one(self, sql: str, parameters: tuple) -> sqlite3.Row | None:
        """One row, read without taking the write lock: works while the disk refuses writes."""
        with self._lock:
            return self._connection.execute(sql, parameters).fetchone()

    def close(self) -> None:
        with self._lock:
            self._connection.close()
