"""Biometric data and images that audit records refer to, stored beside the log by sha256.

A record holds a blob's hash, never its bytes, so the retention purge can delete the bytes while
the chain (and the proof of what was seen) stays whole. A blob's age is its file's modification
time: storing the same bytes again restarts its retention period.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from edge.recording.audit.durable import write_durably
from edge.recording.audit.records import AuditError, InvalidRecord

BlobCategory = Literal["biometric", "image"]
CATEGORIES: tuple[BlobCategory, ...] = ("biometric", "image")


@dataclass(frozen=True)
class BlobRef:
    sha256: str
    category: BlobCategory
    bytes: int

    def to_json(self) -> dict[str, object]:
        """How a record's payload refers to the blob."""
        return {"sha256": self.sha256, "category": self.category, "bytes": self.bytes}


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    category: BlobCategory
    path: Path
    mtime: float


class BlobStore:
    def __init__(self, root: Path):
        self.root = root

    def path(self, sha256: str, category: BlobCategory) -> Path:
        return self.root / category / sha256[:2] / sha256

    def put(self, data: bytes, category: BlobCategory) -> BlobRef:
        """Store `data` durably (fsynced, renamed into place) and return how a record refers to it."""
        if category not in CATEGORIES:
            raise InvalidRecord(f"blob category {category!r} must be one of {', '.join(CATEGORIES)}")
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InvalidRecord(f"blob data must be bytes, got {type(data).__name__}")
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest, category)
        try:
            if target.exists():
                os.utime(target)
            else:
                write_durably(target, bytes(data))
        except OSError as exc:
            raise AuditError(f"cannot store {category} blob in {self.root}: {exc.strerror or exc}") from None
        return BlobRef(digest, category, len(data))

    def stored(self, category: BlobCategory) -> Iterator[StoredBlob]:
        for path in sorted((self.root / category).glob("??/*")):
            if path.is_file() and not path.name.startswith("."):
                yield StoredBlob(path.name, category, path, path.stat().st_mtime)

    def expired(self, category: BlobCategory, cutoff: float) -> list[StoredBlob]:
        """Blobs of `category` last stored before `cutoff` (epoch seconds)."""
        return [blob for blob in self.stored(category) if blob.mtime < cutoff]

    def damaged(self) -> list[StoredBlob]:
        """Blobs whose bytes no longer hash to their name (edited on disk)."""
        bad = []
        for category in CATEGORIES:
            for blob in self.stored(category):
                if _sha256_file(blob.path) != blob.sha256:
                    bad.append(blob)
        return bad


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
