"""What one bundle did to the cache, for the operator, the alarms and (later) the audit log."""

from __future__ import annotations

from dataclasses import dataclass

from edge.watchlist.refusal import Refusal


@dataclass(frozen=True, slots=True)
class SyncResult:
    source: str  # where the bundle came from: a URL, a folder, a file given to `import`
    bundle: str  # its file name
    applied: bool
    reason: Refusal | None  # why it was refused; None when applied
    detail: str  # a sentence for a person
    list_id: str | None  # None when the manifest could not be read
    kind: str | None  # full | delta
    version: int | None  # the bundle's version
    base_version: int | None  # a delta's base
    previous_version: int | None  # the cache's version of the list before (None: the list was new)
    record_count: int | None  # lines in the bundle
    state_count: int | None  # records in the list afterwards (as the manifest says)
    body_sha256: str | None
    state_hash: str | None
    key_id: str | None
    at: float  # wall-clock time the attempt finished (seconds since the epoch)
    duration_s: float
