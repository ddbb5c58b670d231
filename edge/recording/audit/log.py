"""The audit log: an append-only file of hash-chained JSON lines, one writer process, many threads.

Why a file and not SQLite: the chain is the evidence, and a file of canonical JSON lines is that
chain with nothing in between: an auditor can read it, copy it and re-hash it with any tool, and
append-only writes keep every earlier byte where it was. SQLite would add pages, a journal and
in-place updates to reason about while giving nothing the chain needs (records are only ever
appended, in order, and read front to back).

append() returns only after the record is on disk (written and fsynced), so the caller performs
the action it describes afterwards; if the record cannot be written (disk full, I/O error) it
raises AuditError and the caller must refuse the action. A crash mid-append leaves a torn last
line (see edge/recording/audit/tail.py); opening the log sets those bytes aside in torn/ and records the
repair in the chain, without touching any earlier record.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from edge.config import AuditConfig
from edge.recording.audit import tail
from edge.recording.audit.blobs import CATEGORIES, BlobCategory, BlobRef, BlobStore
from edge.recording.audit.durable import fsync_dir, write_durably
from edge.recording.audit.records import (
    AUDIT_REPAIR,
    GENESIS,
    RETENTION_PURGE,
    AuditError,
    AuditRecord,
    UnreadableRecord,
    parse_line,
    seal,
    utc_text,
)

LOG_NAME = "audit.jsonl"
BLOBS_DIR = "blobs"
TORN_DIR = "torn"
_UNRECORDED = ".unrecorded"  # a set-aside torn tail whose repair record is not yet in the chain
SECONDS_PER_DAY = 86400


class AuditCorrupt(AuditError):
    """The log's last record is damaged in a way no crash produces; nothing more may be appended."""


class AuditBusy(AuditError):
    """Another process has the log open for appending."""


@dataclass(frozen=True)
class Head:
    """The last record's sequence number and hash (0 and GENESIS for an empty log)."""

    seq: int
    hash: str


@dataclass(frozen=True)
class PurgeResult:
    record: AuditRecord | None  # the retention_purge record, None if nothing had expired
    purged: tuple[BlobRef, ...]


class AuditLog:
    """The crossing's audit log in `directory` (audit.jsonl, blobs/, torn/)."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.path = directory / LOG_NAME
        self.blobs = BlobStore(directory / BLOBS_DIR)
        self._lock = threading.Lock()
        self._needs_truncate = False  # a failed append left bytes that must go before the next one
        try:
            directory.mkdir(parents=True, exist_ok=True)
            created = not self.path.exists()
            self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
        except OSError as exc:
            raise AuditError(f"cannot open audit log {self.path}: {exc.strerror or exc}") from None
        try:
            self._take_writer_lock()
            if created:
                fsync_dir(directory)
            self._size, self._head = self._open_tail()
            self._record_repairs()
        except BaseException:
            os.close(self._fd)
            raise

    # -- the interface the service uses ---------------------------------------------------------

    def append(self, kind: str, *, actor: str, lane: str | None = None, crossing_id: str | None = None,
               payload: Mapping[str, Any] | None = None) -> AuditRecord:
        """Record `kind` and return once the record is durable; raises AuditError if it is not."""
        with self._lock:
            record = seal(seq=self._head.seq + 1, time=utc_text(datetime.now(UTC)), kind=kind, actor=actor, lane=lane,
                          crossing_id=crossing_id, payload={} if payload is None else payload,
                          prev=self._head.hash)
            self._write(record.line(), what=kind)
            self._head = Head(record.seq, record.hash)
            return record

    def put_blob(self, data: bytes, category: BlobCategory) -> BlobRef:
        """Store biometric data or an image durably; put the returned ref's to_json() in a payload."""
        return self.blobs.put(data, category)

    @property
    def head(self) -> Head:
        with self._lock:
            return self._head

    def purge_expired(self, retention: AuditConfig, now: float | None = None) -> PurgeResult:
        """Delete blobs older than their category's retention, after recording which (by hash)."""
        now = time.time() if now is None else now
        retention_days = {"biometric": retention.biometric_retention_days, "image": retention.image_retention_days}
        expired = [blob for category in CATEGORIES
                   for blob in self.blobs.expired(category, now - retention_days[category] * SECONDS_PER_DAY)]
        if not expired:
            return PurgeResult(None, ())
        refs = tuple(BlobRef(b.sha256, b.category, b.path.stat().st_size) for b in expired)
        record = self.append(RETENTION_PURGE, actor="retention", payload={
            "retention_days": {category: retention_days[category] for category in CATEGORIES},
            "blobs": [ref.to_json() for ref in refs],
        })
        for blob in expired:
            blob.path.unlink(missing_ok=True)
        for folder in {blob.path.parent for blob in expired}:
            fsync_dir(folder)
        return PurgeResult(record, refs)

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)  # also releases the writer lock
                self._fd = -1

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- inside ---------------------------------------------------------------------------------

    def _take_writer_lock(self) -> None:
        # Two writers would interleave two chains; flock dies with its process, so kill -9 frees it.
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AuditBusy(f"audit log {self.path} is open for appending by another process") from None

    def _write(self, line: bytes, what: str) -> None:
        if self._fd < 0:
            raise AuditError(f"audit log {self.path} is closed: cannot record {what}")
        start = self._size
        try:
            if self._needs_truncate:
                os.ftruncate(self._fd, start)
                self._needs_truncate = False
            view = memoryview(line)
            while view:
                view = view[os.write(self._fd, view):]
            os.fsync(self._fd)
        except OSError as exc:
            self._discard_partial(start)
            raise AuditError(
                f"audit log {self.path}: cannot record {what}: {exc.strerror or exc}; the action must not proceed"
            ) from None
        self._size = start + len(line)

    def _discard_partial(self, start: int) -> None:
        """Cut a half-written record off, so the file still ends on a whole record."""
        try:
            os.ftruncate(self._fd, start)
            os.fsync(self._fd)
        except OSError:
            self._needs_truncate = True

    def _open_tail(self) -> tuple[int, Head]:
        size = os.fstat(self._fd).st_size
        offset, data = tail.read_end(self._fd, size)
        end = tail.split_tail(data)
        if end < len(data):
            self._set_aside(data[end:], offset + end)
        line = tail.last_line(data, end)
        if line is None:
            return offset + end, Head(0, GENESIS)
        where = f"the last record (ending at byte {offset + end})"
        try:
            record = parse_line(line)
        except UnreadableRecord as exc:
            raise AuditCorrupt(f"{self.path}: {where} is unreadable: {exc}; {_DAMAGE}") from None
        if not record.hash_matches():
            raise AuditCorrupt(f"{self.path}: {where} (seq {record.seq}) does not match its hash; {_DAMAGE}")
        return offset + end, Head(record.seq, record.hash)

    def _set_aside(self, torn: bytes, good_end: int) -> None:
        """Keep the torn bytes as evidence in torn/, then cut them off the log."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        try:
            write_durably(self.directory / TORN_DIR / f"{stamp}-{good_end}{_UNRECORDED}", torn)
            os.ftruncate(self._fd, good_end)
            os.fsync(self._fd)
        except OSError as exc:
            raise AuditError(f"cannot repair the torn last line of {self.path}: {exc.strerror or exc}") from None

    def _record_repairs(self) -> None:
        # A crash between setting the bytes aside and recording it leaves the file unrecorded: finish now.
        for pending in sorted((self.directory / TORN_DIR).glob(f"*{_UNRECORDED}")):
            data = pending.read_bytes()
            kept = pending.with_name(pending.name.removesuffix(_UNRECORDED) + ".bin")
            self.append(AUDIT_REPAIR, actor="audit", payload={
                "reason": "torn last line (an append interrupted by a crash; it was never acknowledged)",
                "torn_bytes": len(data),
                "torn_sha256": hashlib.sha256(data).hexdigest(),
                "kept_as": f"{TORN_DIR}/{kept.name}",
            })
            pending.rename(kept)
            fsync_dir(kept.parent)


_DAMAGE = "this is damage, not an interrupted append: keep the file as evidence and run `edge audit verify`"

