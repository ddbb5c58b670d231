"""The watchlist cache: one SQLite database in WAL mode, so lanes keep reading while a bundle applies.

Each list (vehicles, documents, persons of interest, ...) has a row in `lists` that names its
current generation of tables (see tables.py), its version and the manifest it came from. A reader
works inside one read transaction, so it sees either the old or the new generation, never half.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from edge.watchlist import tables
from edge.watchlist.statehash import StateHash

_SCHEMA = """
CREATE TABLE IF NOT EXISTS lists (
    list_id TEXT PRIMARY KEY,
    gen INTEGER NOT NULL,
    version INTEGER NOT NULL,
    created INTEGER NOT NULL,
    expires INTEGER NOT NULL,
    applied_at INTEGER NOT NULL,
    record_count INTEGER NOT NULL,
    state_hash TEXT NOT NULL,
    key_id TEXT NOT NULL,
    body_sha256 TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO counters VALUES ('next_gen', 1), ('face_generation', 0);
"""
_PAGE_SIZE = 4096
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ListState:
    """One list as the cache holds it."""

    list_id: str
    gen: int
    version: int
    created: int  # when the authority made the bundle that brought this version
    expires: int
    applied_at: int
    record_count: int
    state_hash: str
    key_id: str
    body_sha256: str


def read_lists(conn: sqlite3.Connection) -> dict[str, ListState]:
    rows = conn.execute(f"SELECT {', '.join(ListState.__dataclass_fields__)} FROM lists ORDER BY list_id")
    return {row[0]: ListState(*row) for row in rows}


def save_list(conn: sqlite3.Connection, state: ListState) -> None:
    conn.execute(f"INSERT OR REPLACE INTO lists VALUES ({','.join('?' * len(ListState.__dataclass_fields__))})",
                 tuple(getattr(state, f) for f in ListState.__dataclass_fields__))


def read_counter(conn: sqlite3.Connection, name: str) -> int:
    return conn.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()[0]


def take_counter(conn: sqlite3.Connection, name: str) -> int:
    """Increment a counter (inside the caller's write transaction) and return its previous value."""
    value = read_counter(conn, name)
    conn.execute("UPDATE counters SET value = ? WHERE name = ?", (value + 1, name))
    return value


@dataclass(frozen=True, slots=True)
class ContentCheck:
    """The cache's content hash, and whether every list's rows still hash to its recorded state."""

    content_hash: str
    consistent: bool
    problems: tuple[str, ...]


class WatchlistStore:
    """A connection to the cache. Thread-safe; open one per user (the lanes' reader, the syncer)."""

    def __init__(self, path: Path, *, max_db_bytes: int | None = None, cache_bytes: int = 64 << 20):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        self._conn.execute("PRAGMA journal_mode=WAL")
        # FULL: a bundle reported as applied stays applied across a power cut.
        self._conn.execute("PRAGMA synchronous=FULL")
        # Page cache per connection: part of the process's RSS, and what keeps index pages hot.
        self._conn.execute(f"PRAGMA cache_size=-{max(64, cache_bytes >> 10)}")
        self._conn.executescript(_SCHEMA)
        if max_db_bytes is not None:
            # A hard size budget: writing past it fails with SQLITE_FULL, exactly like a full disk.
            self._conn.execute(f"PRAGMA max_page_count={max(1, max_db_bytes // self.page_size())}")

    def page_size(self) -> int:
        return self._conn.execute("PRAGMA page_size").fetchone()[0] or _PAGE_SIZE

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> WatchlistStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def snapshot(self) -> Iterator[tuple[sqlite3.Connection, dict[str, ListState]]]:
        """A consistent read view: the connection and every list's state, inside one read transaction."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                yield self._conn, read_lists(self._conn)
            finally:
                self._conn.execute("COMMIT")

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed when the block ends, rolled back if it raises."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                # SQLite already rolled back by itself after some errors (a full disk, for one).
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            # Keep the WAL from holding a whole snapshot's worth of pages until the next start. The
            # commit stands whatever happens here; a checkpoint that fails is retried by the next one.
            try:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:
                log.warning("watchlist cache checkpoint failed (the commit stands): %s", exc)


    @contextmanager
    def trial(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that is always rolled back: works out what a change would do."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            finally:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")

    def lists(self) -> dict[str, ListState]:
        with self.snapshot() as (_, lists):
            return lists

    def face_generation(self) -> int:
        """Changes whenever enrolled face templates may have changed: a 1:N index rebuilds when it does."""
        with self._lock:
            return read_counter(self._conn, "face_generation")

    def check_content(self) -> ContentCheck:
        """Hash the cache's content from its rows (every record is read) and compare with each list's state.

        The content hash covers each list's id, version, record count and recomputed state hash,
        so any change to what a lookup can return changes it.
        """
        h = hashlib.sha256()
        problems = []
        with self.snapshot() as (conn, lists):
            for state in lists.values():
                recomputed = StateHash()
                count = 0
                for record in tables.iter_records(conn, state.gen):
                    recomputed.add(record)
                    count += 1
                if count != state.record_count or recomputed.hexdigest() != state.state_hash:
                    problems.append(
                        f"{state.list_id}: rows hash to {count} records/{recomputed.hexdigest()[:16]}, "
                        f"recorded {state.record_count}/{state.state_hash[:16]}"
                    )
                h.update(f"{state.list_id}\t{state.version}\t{count}\t{recomputed.hexdigest()}\n".encode())
        return ContentCheck(h.hexdigest(), not problems, tuple(problems))

    def integrity_errors(self) -> list[str]:
        """SQLite's own structural check; empty when the file is sound."""
        with self._lock:
            rows = self._conn.execute("PRAGMA integrity_check").fetchall()
        return [] if rows == [("ok",)] else [r[0] for r in rows]
