"""The authority's side: turn CSV/JSON into signed full snapshots and deltas in a publication folder.

The publisher keeps its own copy of each list (a WatchlistStore under its state folder) so that a
delta can state the exact version it applies to and the state it produces. Every bundle it writes
is applied to that copy through the same verifying path a crossing uses, so a bundle that a
crossing would refuse is never published. Memory stays flat: records stream from the input to a
compressed body file, whatever the list's size.

The publication folder is what a static web server or a USB stick carries: `index.json` and
`<list>/full-<version>.wlb`, `<list>/delta-<base>-<version>.wlb`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge.watchlist.apply import DeltaApplier, Progress, apply_bundle
from edge.watchlist.authority_input import InputError, to_operation, to_record
from edge.watchlist.bundle import LIST_ID, SUFFIX, BodyWriter, Manifest, read_header, write_bundle
from edge.watchlist.keys import Keyring, TrustedKey, public_key_text
from edge.watchlist.records import operation_to_json, record_to_json
from edge.watchlist.sources import write_index
from edge.watchlist.statehash import StateHash
from edge.watchlist.store import WatchlistStore

Rows = Iterable[tuple[int, dict[str, Any]]]


class PublishError(Exception):
    """Nothing was published; the message says why."""


@dataclass(frozen=True, slots=True)
class Published:
    path: Path
    manifest: Manifest


class Publisher:
    def __init__(
        self,
        out_dir: Path,
        state_dir: Path,
        private_key: Ed25519PrivateKey,
        key_id: str,
        *,
        valid_for_s: float,
        keep_deltas: int = 100,
        clock=time.time,
    ):
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._store = WatchlistStore(Path(state_dir) / "authority.sqlite")
        self._key = private_key
        self._key_id = key_id
        # The publisher checks its own bundles with its own public key only.
        self._keyring = Keyring([TrustedKey(key_id, public_key_text(private_key))])
        self._valid_for_s = valid_for_s
        self._keep_deltas = keep_deltas
        self._clock = clock

    def close(self) -> None:
        self._store.close()

    def _list_dir(self, list_id: str) -> Path:
        if not LIST_ID.fullmatch(list_id):
            raise PublishError(f"list id {list_id!r} must be lower-case a-z0-9_- (1-64, starting alphanumeric)")
        folder = self.out_dir / list_id
        folder.mkdir(exist_ok=True)
        return folder

    def publish_full(self, list_id: str, path: Path, rows: Rows, *, kind: str | None = None,
                     progress: Progress | None = None) -> Published:
        folder = self._list_dir(list_id)
        previous = self._store.lists().get(list_id)
        version = (previous.version if previous else 0) + 1
        body = BodyWriter(folder / f".full-{version}.body")
        state = StateHash()
        try:
            for line_no, raw in rows:
                record = to_record(path, line_no, raw, kind)
                body.write(record_to_json(record))
                state.add(record)
            sha256 = body.close()
        except InputError as exc:
            body.discard()
            raise PublishError(str(exc)) from None
        now = int(self._clock())
        manifest = Manifest(list_id, "full", version, None, now, now + int(self._valid_for_s), body.lines, body.size,
                            sha256, body.lines, state.hexdigest())
        return self._finish(folder / f"full-{version:08d}{SUFFIX}", manifest, body.path, progress)

    def publish_delta(self, list_id: str, path: Path, rows: Rows, *, kind: str | None = None,
                      progress: Progress | None = None) -> Published:
        folder = self._list_dir(list_id)
        previous = self._store.lists().get(list_id)
        if previous is None:
            raise PublishError(f"{list_id} has no published version yet: publish a full snapshot first")
        version = previous.version + 1
        body = BodyWriter(folder / f".delta-{version}.body")
        try:
            # Apply to the publisher's copy and roll back: that yields the state after the delta.
            with self._store.trial() as conn:
                delta = DeltaApplier(conn, previous)
                for line_no, raw in rows:
                    op = to_operation(path, line_no, raw, kind)
                    if not delta.apply(op):
                        raise InputError(f"{path}:{line_no}: deletes {op.kind.value} {op.id!r}, which {list_id} lacks")
                    body.write(operation_to_json(op))
            sha256 = body.close()
        except InputError as exc:
            body.discard()
            raise PublishError(str(exc)) from None
        now = int(self._clock())
        manifest = Manifest(list_id, "delta", version, previous.version, now, now + int(self._valid_for_s),
                            body.lines, body.size, sha256, delta.count, delta.state.hexdigest())
        return self._finish(folder / f"delta-{previous.version:08d}-{version:08d}{SUFFIX}", manifest, body.path,
                            progress)

    def _finish(self, target: Path, manifest: Manifest, body: Path, progress: Progress | None) -> Published:
        # Staged under a name no reader looks for, until the publisher's own copy has accepted it.
        staged = target.with_name(f".{target.name}.staged")
        try:
            write_bundle(staged, manifest, self._key_id, self._key, body)
        finally:
            body.unlink(missing_ok=True)
        result = apply_bundle(
            self._store, staged, self._keyring, source="publisher", now=self._clock(), progress=progress
        )
        if not result.applied:
            staged.unlink(missing_ok=True)
            raise PublishError(f"the bundle would be refused: {result.detail}")
        staged.replace(target)
        self._prune(manifest.list_id)
        write_index(self.out_dir)
        return Published(target, manifest)

    def _prune(self, list_id: str) -> None:
        """Drop superseded full snapshots, and deltas older than the last `keep_deltas` versions."""
        bundles = [(read_header(p)[0], p) for p in (self.out_dir / list_id).glob(f"*{SUFFIX}")]
        newest_full = max((m.version for m, _ in bundles if m.kind == "full"), default=0)
        newest = max((m.version for m, _ in bundles), default=0)
        for manifest, path in bundles:
            superseded = manifest.kind == "full" and manifest.version < newest_full
            too_old = manifest.kind == "delta" and manifest.version <= newest - self._keep_deltas
            if superseded or too_old:
                path.unlink()
