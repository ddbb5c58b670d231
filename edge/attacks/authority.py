"""The central authority as an attacker can be: a real signing key publishing through the real
Publisher, and a forger that signs exactly the body it is given (bodies the Publisher would never
write: deep nesting, bad records, lies about the state). Used by the campaign and the tests."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from edge.watchlist.bundle import BodyWriter, Manifest, write_bundle
from edge.watchlist.keys import Keyring, TrustedKey, generate_private_key, public_key_text
from edge.watchlist.publish import Publisher
from edge.watchlist.records import record_from_json
from edge.watchlist.statehash import StateHash
from edge.watchlist.store import WatchlistStore

DAY = 86400


def plate(rid: str, number: str, *, action: str = "alert", **extra: Any) -> dict[str, Any]:
    return {"kind": "plate", "id": rid, "plate": number, "region": "EU", "reason": "stolen vehicle",
            "action": action, "source": f"case {rid}", **extra}


class Authority:
    """The central side: a signing key and a publication folder, publishing through the real Publisher."""

    def __init__(self, root: Path, key_id: str = "k1", *, key=None, clock=time.time, valid_for_s: float = 7 * DAY,
                 keep_deltas: int = 100):
        self.key = key or generate_private_key()
        self.key_id = key_id
        self.out = root / "published"
        self.publisher = Publisher(self.out, root / "authority-state", self.key, key_id,
                                   valid_for_s=valid_for_s, keep_deltas=keep_deltas, clock=clock)

    @property
    def trusted(self) -> TrustedKey:
        return TrustedKey(self.key_id, public_key_text(self.key))

    def keyring(self) -> Keyring:
        return Keyring([self.trusted])

    def full(self, list_id: str, records: Iterable[dict[str, Any]]) -> Path:
        rows = enumerate(records, start=1)
        return self.publisher.publish_full(list_id, Path("attack-input"), rows).path

    def delta(self, list_id: str, ops: Iterable[dict[str, Any]]) -> Path:
        rows = enumerate(ops, start=1)
        return self.publisher.publish_delta(list_id, Path("attack-input"), rows).path

    def close(self) -> None:
        self.publisher.close()


def content_hash(store: WatchlistStore) -> str:
    """The cache's content hash, after checking that its content is consistent."""
    check = store.check_content()
    if not check.consistent:
        raise RuntimeError(f"the watchlist cache is inconsistent: {check.problems}")
    return check.content_hash


def forge(
    authority: Authority,
    path: Path,
    list_id: str,
    lines: list[dict[str, Any]],
    *,
    version: int,
    kind: Literal["full", "delta"] = "full",
    base_version: int | None = None,
    state_count: int | None = None,
    state_hash: str | None = None,
    created: float | None = None,
) -> Path:
    """A bundle signed by `authority` with exactly `lines` as its body: for bodies the Publisher
    would never write (bad records, duplicates). State defaults to what the lines describe."""
    if state_hash is None:
        state = StateHash()
        for obj in lines:
            state.add(record_from_json(obj))
        state_hash, state_count = state.hexdigest(), len(lines)
    body = BodyWriter(path.with_name(path.name + ".body"))
    for obj in lines:
        body.write(obj)
    sha256 = body.close()
    created = int(time.time() if created is None else created)
    manifest = Manifest(list_id, kind, version, base_version, created, created + DAY, body.lines, body.size, sha256,
                        state_count if state_count is not None else len(lines), state_hash)
    write_bundle(path, manifest, authority.key_id, authority.key, body.path)
    body.path.unlink()
    return path


def forge_deeply_nested(authority: Authority, path: Path, list_id: str, records: list[dict[str, Any]], *,
                        version: int) -> Path:
    """A signed bundle of `records` whose last one carries a note nested 5,000 lists deep: more than
    a reader at Python's normal recursion limit can parse. Its state is never computed (no record is
    read out of it), so the manifest's state hash is a placeholder."""
    deep: object = "x"
    for _ in range(5000):
        deep = [deep]
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20_000)  # only to write it: the crossing reads at the normal limit
    try:
        return forge(authority, path, list_id, [*records[:-1], {**records[-1], "note": deep}], version=version,
                     state_count=len(records), state_hash="0" * 64)
    finally:
        sys.setrecursionlimit(limit)
