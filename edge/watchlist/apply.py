"""Apply one bundle to the cache: verified first, then all of it in one transaction, or nothing.

Order of checks: framing, key, signature and expiry (bundle.open_signed); version against the
cache (no replay, no rollback, a delta only on its base); the body's signed hash; then records
are applied and the result must match the manifest's counts and state hash before the commit.
Whatever goes wrong (a bad record, a full disk, a kill -9) leaves the previous commit in place.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from edge.watchlist import tables
from edge.watchlist.bundle import Manifest, SignedBundle, hash_body, iter_body, open_signed
from edge.watchlist.keys import Keyring
from edge.watchlist.records import (
    Delete,
    Kind,
    PersonRecord,
    Record,
    RecordError,
    operation_from_json,
    record_from_json,
)
from edge.watchlist.refusal import Refusal, Refused
from edge.watchlist.result import SyncResult
from edge.watchlist.statehash import StateHash
from edge.watchlist.store import ListState, WatchlistStore, read_lists, save_list, take_counter

# Called with (records applied so far, records in the bundle), inside the transaction.
Progress = Callable[[int, int], None]
_BATCH = 10_000


def apply_bundle(
    store: WatchlistStore,
    path: Path,
    keyring: Keyring,
    *,
    source: str,
    bundle: str | None = None,
    now: float | None = None,
    progress: Progress | None = None,
) -> SyncResult:
    """Verify and apply the bundle at `path`; the result says applied or refused, and why.

    `bundle` names it in the result as its source knows it (default: the file name).
    """
    started = time.monotonic()
    now = time.time() if now is None else now
    manifest: Manifest | None = None
    key_id = None
    previous: ListState | None = None
    try:
        signed = open_signed(path, keyring, now)
        manifest, key_id = signed.manifest, signed.key_id
        previous = store.lists().get(manifest.list_id)
        _check_version(manifest, previous)
        hash_body(signed)
        with store.write() as conn:
            # Another writer may have moved the list on since the first check.
            previous = read_lists(conn).get(manifest.list_id)
            _check_version(manifest, previous)
            if manifest.kind == "full":
                _apply_full(conn, signed, previous, now, progress)
            else:
                assert previous is not None  # _check_version refuses a delta without a base
                _apply_delta(conn, signed, previous, now, progress)
        outcome: tuple[bool, Refusal | None, str] = (True, None, _applied_detail(manifest, previous))
    except Refused as exc:
        outcome = (False, exc.reason, exc.detail)
    except sqlite3.Error as exc:
        outcome = (False, *_sqlite_refusal(exc))
    except OSError as exc:
        outcome = (False, Refusal.IO_ERROR, f"{path}: {exc.strerror or exc}")
    return _result(outcome, source=source, bundle=bundle or Path(path).name, manifest=manifest, previous=previous,
                   key_id=key_id, started=started)


def _result(outcome: tuple[bool, Refusal | None, str], *, source: str, bundle: str, manifest: Manifest | None,
            previous: ListState | None, key_id: str | None, started: float) -> SyncResult:
    """What an apply did, with as much of the bundle's manifest as was read before it ended."""
    applied, reason, detail = outcome
    return SyncResult(
        source=source,
        bundle=bundle,
        applied=applied,
        reason=reason,
        detail=detail,
        list_id=manifest.list_id if manifest else None,
        kind=manifest.kind if manifest else None,
        version=manifest.version if manifest else None,
        base_version=manifest.base_version if manifest else None,
        previous_version=previous.version if previous else None,
        record_count=manifest.record_count if manifest else None,
        state_count=manifest.state_count if manifest else None,
        body_sha256=manifest.body_sha256 if manifest else None,
        state_hash=manifest.state_hash if manifest else None,
        key_id=key_id,
        at=time.time(),
        duration_s=time.monotonic() - started,
    )


def _applied_detail(manifest: Manifest, previous: ListState | None) -> str:
    before = f"version {previous.version}" if previous else "an empty list"
    return (
        f"{manifest.list_id}: {manifest.kind} {manifest.version} applied over {before}; "
        f"{manifest.state_count} records"
    )


def _sqlite_refusal(exc: sqlite3.Error) -> tuple[Refusal, str]:
    if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
        return Refusal.DISK_FULL, f"the cache's disk or size budget is full ({exc}); nothing was changed"
    return Refusal.IO_ERROR, f"the cache database failed ({exc}); nothing was changed"


def _check_version(manifest: Manifest, previous: ListState | None) -> None:
    if previous is not None and manifest.version <= previous.version:
        raise Refused(
            Refusal.REPLAY,
            f"{manifest.list_id} version {manifest.version} is not newer than the cache's version {previous.version}",
        )
    if manifest.kind == "delta":
        have = previous.version if previous else None
        if have != manifest.base_version:
            held = f"version {have}" if have is not None else "no copy of the list"
            raise Refused(
                Refusal.WRONG_BASE,
                f"{manifest.list_id} delta {manifest.base_version}->{manifest.version} needs version "
                f"{manifest.base_version}, the cache has {held}",
            )


def _parse(line_no: int, parse: Callable, obj: object):
    try:
        return parse(obj)
    except RecordError as exc:
        raise Refused(Refusal.INVALID_RECORD, f"body line {line_no}: {exc}") from None


def _check_totals(manifest: Manifest, lines: int, count: int, state: StateHash) -> None:
    if lines != manifest.record_count:
        raise Refused(
            Refusal.STATE_MISMATCH, f"the body has {lines} lines, the manifest signs {manifest.record_count}"
        )
    if count != manifest.state_count or state.hexdigest() != manifest.state_hash:
        raise Refused(
            Refusal.STATE_MISMATCH,
            f"applying left {count} records with state hash {state.hexdigest()[:16]}..., the authority's "
            f"state is {manifest.state_count} records with {manifest.state_hash[:16]}...",
        )


def _save(conn: sqlite3.Connection, signed: SignedBundle, gen: int, count: int, state: StateHash, now: float,
          faces_changed: bool) -> None:
    m = signed.manifest
    save_list(
        conn,
        ListState(m.list_id, gen, m.version, m.created, m.expires, int(now), count, state.hexdigest(), signed.key_id,
                  m.body_sha256),
    )
    if faces_changed:
        take_counter(conn, "face_generation")


def _has_faces(conn: sqlite3.Connection, gen: int) -> bool:
    return conn.execute(f"SELECT 1 FROM {tables.faces_table(gen)} LIMIT 1").fetchone() is not None


def _apply_full(
    conn: sqlite3.Connection, signed: SignedBundle, previous: ListState | None, now: float, progress: Progress | None
) -> None:
    total = signed.manifest.record_count
    gen = take_counter(conn, "next_gen")
    tables.create_tables(conn, gen)
    rows: dict[Kind, list[tuple]] = {kind: [] for kind in Kind}
    faces: list[tuple] = []
    state = StateHash()
    count = 0

    def flush() -> None:
        for kind, batch in rows.items():
            if batch:
                conn.executemany(tables.insert_sql(kind, gen), batch)
                batch.clear()
        if faces:
            conn.executemany(tables.insert_faces_sql(gen), faces)
            faces.clear()

    for line_no, obj in iter_body(signed):
        record: Record = _parse(line_no, record_from_json, obj)
        state.add(record)
        rows[record.kind].append(tables.row(record))
        if isinstance(record, PersonRecord):
            faces.extend(tables.face_rows(record))
        count += 1
        if count % _BATCH == 0:
            flush()
            if progress:
                progress(count, total)
    flush()
    _check_totals(signed.manifest, count, count, state)
    try:
        tables.create_indexes(conn, gen)
    except sqlite3.IntegrityError:
        raise Refused(Refusal.INVALID_RECORD, "two records of the same kind share an id") from None
    faces_changed = _has_faces(conn, gen)
    if previous is not None:
        faces_changed = faces_changed or _has_faces(conn, previous.gen)
        tables.drop_tables(conn, previous.gen)
    _save(conn, signed, gen, count, state, now, faces_changed)


class DeltaApplier:
    """Applies delta operations to a list's current generation, keeping its count and state hash."""

    def __init__(self, conn: sqlite3.Connection, previous: ListState):
        self._conn = conn
        self.gen = previous.gen
        self.state = StateHash(previous.state_hash)
        self.count = previous.record_count
        self.faces_changed = False

    def apply(self, op: Record | Delete) -> bool:
        """Apply one operation; False (and nothing changed) if it deletes a record the list lacks."""
        conn, gen = self._conn, self.gen
        old = tables.select_by_id(conn, op.kind, gen, op.id)
        if old is None and isinstance(op, Delete):
            return False
        if old is not None:
            self.state.remove(old)
            tables.delete_by_id(conn, op.kind, gen, op.id)
            self.count -= 1
            self.faces_changed = self.faces_changed or (isinstance(old, PersonRecord) and bool(old.faces))
        if not isinstance(op, Delete):
            conn.execute(tables.insert_sql(op.kind, gen), tables.row(op))
            if isinstance(op, PersonRecord) and op.faces:
                conn.executemany(tables.insert_faces_sql(gen), tables.face_rows(op))
                self.faces_changed = True
            self.state.add(op)
            self.count += 1
        return True


def _apply_delta(
    conn: sqlite3.Connection, signed: SignedBundle, previous: ListState, now: float, progress: Progress | None
) -> None:
    delta = DeltaApplier(conn, previous)
    lines = 0
    for line_no, obj in iter_body(signed):
        op: Record | Delete = _parse(line_no, operation_from_json, obj)
        if not delta.apply(op):
            raise Refused(
                Refusal.STATE_MISMATCH,
                f"body line {line_no}: deletes {op.kind.value} {op.id!r}, which the cache does not hold",
            )
        lines += 1
        if progress and lines % _BATCH == 0:
            progress(lines, signed.manifest.record_count)
    _check_totals(signed.manifest, lines, delta.count, delta.state)
    _save(conn, signed, delta.gen, delta.count, delta.state, now, delta.faces_changed)
