"""Every kind of bad bundle is refused with its reason, and the cache's content hash does not move."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edge.attacks.mirror import signature_bit_flipped
from edge.watchlist.apply import apply_bundle
from edge.watchlist.keys import Keyring, TrustedKey
from edge.watchlist.lookup import Lookup
from edge.watchlist.refusal import Refusal
from edge.watchlist.result import SyncResult
from edge.watchlist.store import WatchlistStore
from tests.support.watchlist_authority import (
    DAY,
    Authority,
    content_hash,
    delete,
    forge,
    many_plates,
    person,
    plate,
    versions,
)

pytestmark = pytest.mark.slow  # real processes and waits: seconds per test

FACE = [0.01 * i for i in range(128)]
BASELINE = [
    plate("V1", "ABC123", action="deny"),
    plate("V2", "XYZ987"),
    person("P1", "Müller", "Anna", dob="1980-05-17", faces=[{"id": "f1", "quality": 0.9, "vector": FACE}]),
]


@pytest.fixture
def cache(tmp_path):
    store = WatchlistStore(tmp_path / "edge" / "watchlist.sqlite")
    yield store
    store.close()


def _apply(store: WatchlistStore, path: Path, keyring: Keyring, **kwargs) -> SyncResult:
    return apply_bundle(store, path, keyring, source="test", **kwargs)


@pytest.fixture
def baseline(authority, cache) -> str:
    """The cache at vehicles version 1; returns its content hash."""
    result = _apply(cache, authority.full("vehicles", BASELINE), authority.keyring())
    assert result.applied, result.detail
    return content_hash(cache)


def _refused(store: WatchlistStore, path: Path, keyring: Keyring, reason: Refusal, before: str, **kwargs) -> SyncResult:
    result = _apply(store, path, keyring, **kwargs)
    assert not result.applied
    assert result.reason is reason, result.detail
    assert content_hash(store) == before
    assert versions(store) == {"vehicles": 1}
    return result


def _split(path: Path) -> tuple[bytes, bytes, bytes, bytes]:
    data = path.read_bytes()
    magic, manifest, signature, body = data.split(b"\n", 3)
    return magic, manifest, signature, body


def test_a_signature_by_another_key_under_a_trusted_id_is_refused(tmp_path, authority, cache, baseline):
    impostor = Authority(tmp_path / "impostor", key_id=authority.key_id)
    impostor.full("vehicles", [plate("V1", "ABC123"), plate("V9", "NEW999")])
    forged = impostor.delta("vehicles", [plate("V3", "QQQ111")])
    impostor.close()
    result = _refused(cache, forged, authority.keyring(), Refusal.BAD_SIGNATURE, baseline)
    assert "does not match" in result.detail


def test_an_edited_record_with_a_recomputed_manifest_fails_the_signature(tmp_path, authority, cache, baseline):
    v2 = authority.delta("vehicles", [plate("V3", "DEF456")])
    magic, manifest, signature, body = _split(v2)
    edited = gzip.compress(gzip.decompress(body).replace(b"DEF456", b"DEF457"))
    fields = json.loads(manifest)
    fields["body_sha256"] = hashlib.sha256(edited).hexdigest()
    fields["body_bytes"] = len(edited)
    tampered = tmp_path / "tampered.wlb"
    tampered.write_bytes(b"\n".join([magic, json.dumps(fields, separators=(",", ":")).encode(), signature, edited]))
    _refused(cache, tampered, authority.keyring(), Refusal.BAD_SIGNATURE, baseline)


def test_a_changed_body_byte_is_refused_as_tampered(tmp_path, authority, cache, baseline):
    v2 = authority.delta("vehicles", [plate("V3", "DEF456")])
    data = bytearray(v2.read_bytes())
    data[-12] ^= 0x01  # inside the gzip body; the size stays the same
    tampered = tmp_path / "tampered.wlb"
    tampered.write_bytes(bytes(data))
    result = _refused(cache, tampered, authority.keyring(), Refusal.TAMPERED, baseline)
    assert "SHA-256" in result.detail


def test_a_flipped_signature_bit_is_refused(tmp_path, authority, cache, baseline):
    bad = signature_bit_flipped(authority, tmp_path)
    _refused(cache, bad, authority.keyring(), Refusal.BAD_SIGNATURE, baseline)


def test_an_unknown_key_is_refused_and_named(tmp_path, authority, cache, baseline):
    stranger = Authority(tmp_path / "stranger", key_id="k9")
    stranger.full("vehicles", BASELINE)
    v2 = stranger.delta("vehicles", [plate("V3", "DEF456")])
    stranger.close()
    result = _refused(cache, v2, authority.keyring(), Refusal.UNKNOWN_KEY, baseline)
    assert "'k9'" in result.detail


def test_a_retired_key_is_refused_for_bundles_made_after_its_retirement(authority, cache, baseline):
    v2 = authority.delta("vehicles", [plate("V3", "DEF456")])
    retired = Keyring([TrustedKey(authority.key_id, authority.trusted.public_key, not_after=int(time.time()) - DAY)])
    _refused(cache, v2, retired, Refusal.KEY_RETIRED, baseline)


def test_a_truncated_bundle_is_refused(tmp_path, authority, cache, baseline):
    v2 = authority.delta("vehicles", [plate("V3", "DEF456")])
    data = v2.read_bytes()
    short = tmp_path / "short.wlb"
    short.write_bytes(data[:-40])
    result = _refused(cache, short, authority.keyring(), Refusal.TRUNCATED, baseline)
    assert "body bytes" in result.detail
    stub = tmp_path / "stub.wlb"
    stub.write_bytes(data[:30])  # cut inside the manifest line
    _refused(cache, stub, authority.keyring(), Refusal.MALFORMED, baseline)


def test_a_replayed_old_version_is_refused(authority, cache, baseline):
    v1 = authority.out / "vehicles" / "full-00000001.wlb"
    v1_copy = v1.with_name("replay.wlb")
    v1_copy.write_bytes(v1.read_bytes())
    v2 = authority.delta("vehicles", [plate("V3", "DEF456")])
    assert _apply(cache, v2, authority.keyring()).applied
    after_v2 = content_hash(cache)
    for old in (v1_copy, v2):
        result = _apply(cache, old, authority.keyring())
        assert not result.applied and result.reason is Refusal.REPLAY, result.detail
        assert content_hash(cache) == after_v2
    assert versions(cache) == {"vehicles": 2}


def test_a_delta_on_the_wrong_base_is_refused(authority, cache, baseline):
    authority.delta("vehicles", [plate("V3", "DEF456")])
    v3 = authority.delta("vehicles", [delete("plate", "V3")])
    result = _refused(cache, v3, authority.keyring(), Refusal.WRONG_BASE, baseline)
    assert "needs version 2" in result.detail and "has version 1" in result.detail


def test_a_delta_for_a_list_the_cache_lacks_is_refused(authority, cache, baseline):
    authority.full("documents", [])
    v2 = authority.delta("documents", [plate("X1", "NEW111")])
    _refused(cache, v2, authority.keyring(), Refusal.WRONG_BASE, baseline)


def test_a_delta_from_a_diverged_copy_of_the_list_fails_the_state_check(tmp_path, authority, cache, baseline):
    # Same key, same version numbers, different content at version 1: the delta's base version
    # matches but the state it leads to is not the one the cache would reach.
    diverged = Authority(tmp_path / "diverged", key_id=authority.key_id, key=authority.key)
    diverged.full("vehicles", [plate("V1", "ABC123"), plate("V2", "XYZ988")])
    v2 = diverged.delta("vehicles", [plate("V3", "DEF456")])
    diverged.close()
    result = _refused(cache, v2, authority.keyring(), Refusal.STATE_MISMATCH, baseline)
    assert "authority's state" in result.detail


def test_an_expired_bundle_is_refused(tmp_path, cache):
    past = time.time() - 10 * DAY
    stale_authority = Authority(tmp_path / "late", clock=lambda: past, valid_for_s=DAY)
    bundle = stale_authority.full("vehicles", BASELINE)
    stale_authority.close()
    before = content_hash(cache)
    result = _apply(cache, bundle, stale_authority.keyring())
    assert not result.applied and result.reason is Refusal.EXPIRED
    assert "expired at" in result.detail
    assert content_hash(cache) == before and versions(cache) == {}


def test_an_invalid_record_in_a_signed_bundle_is_refused_naming_line_and_field(tmp_path, authority, cache, baseline):
    # Bundle bodies hold normal forms only: "abc-123" is what the publisher would have normalised.
    lines = [plate("V1", "ABC123"), plate("V2", "XYZ987"), plate("V4", "abc-123")]
    bad = forge(authority, tmp_path / "bad.wlb", "vehicles", lines, version=2, state_count=3, state_hash="0" * 64)
    result = _refused(cache, bad, authority.keyring(), Refusal.INVALID_RECORD, baseline)
    assert "line 3" in result.detail and "plate" in result.detail and "'V4'" in result.detail


def test_duplicate_record_ids_are_refused(tmp_path, authority, cache, baseline):
    lines = [plate("V1", "ABC123"), plate("V1", "ABC124")]
    bad = forge(authority, tmp_path / "dup.wlb", "vehicles", lines, version=2)
    result = _refused(cache, bad, authority.keyring(), Refusal.INVALID_RECORD, baseline)
    assert "share an id" in result.detail


def test_a_full_disk_budget_during_apply_is_refused_and_the_cache_still_answers(tmp_path, authority):
    path = tmp_path / "edge" / "watchlist.sqlite"
    with WatchlistStore(path) as store:
        assert _apply(store, authority.full("vehicles", BASELINE), authority.keyring()).applied
    big = authority.full("vehicles", many_plates(20_000))
    # SQLite's max_page_count: a real SQLITE_FULL from the database engine at 1 MB.
    with WatchlistStore(path, max_db_bytes=1 << 20) as store:
        before = content_hash(store)
        result = _refused(store, big, authority.keyring(), Refusal.DISK_FULL, before)
        assert "nothing was changed" in result.detail
        hits = Lookup(store).plate("ABC123", now=time.time(), fuzzy=False)
        assert [h.record.id for h in hits] == ["V1"]
        assert store.integrity_errors() == []
    with WatchlistStore(path) as store:  # with room again, the same bundle applies
        assert _apply(store, big, authority.keyring()).applied
        assert store.lists()["vehicles"].record_count == 20_000


def test_a_full_filesystem_during_apply_is_refused(tmp_path, authority):
    """A real 1 MB tmpfs holds the cache (mounting it needs root or CAP_SYS_ADMIN)."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], check=True, timeout=30)
    try:
        with WatchlistStore(mount / "watchlist.sqlite") as store:
            assert _apply(store, authority.full("vehicles", BASELINE), authority.keyring()).applied
            before = content_hash(store)
            big = authority.full("vehicles", many_plates(15_000))
            result = _refused(store, big, authority.keyring(), Refusal.DISK_FULL, before)
            assert [h.record.id for h in Lookup(store).plate("XYZ987", now=time.time(), fuzzy=False)] == ["V2"]
            assert store.integrity_errors() == []
            assert result.version == 2
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True, timeout=30)


_CHILD = """
import sys
from pathlib import Path
from edge.attacks.mirror import signature_bit_flipped
from edge.watchlist.apply import apply_bundle
from edge.watchlist.keys import Keyring, TrustedKey
from edge.watchlist.store import WatchlistStore

db, bundle, key_id, public = sys.argv[1:5]
# A small page cache, so the transaction's pages spill into the WAL before the kill.
store = WatchlistStore(Path(db), cache_bytes=256 * 1024)

def progress(done, total):
    print(f"progress {done} {total}", flush=True)
    sys.stdin.readline()  # held here, mid-transaction, until the test kills the process

result = apply_bundle(store, Path(bundle), Keyring([TrustedKey(key_id, public)]), source="child", progress=progress)
print("finished", result.applied, flush=True)
"""


def _read_line(proc: subprocess.Popen, timeout_s: float) -> str:
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout_s):
            raise AssertionError(f"no output from the child within {timeout_s} s")
    return proc.stdout.readline().decode()


def test_kill_9_during_apply_leaves_the_previous_version(tmp_path, authority, cache, baseline):
    big = authority.full("vehicles", many_plates(30_000))
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(cache.path), str(big), authority.key_id, authority.trusted.public_key],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        line = _read_line(child, 120)
        assert line.startswith("progress 10000 30000"), line + child.stderr.read().decode()
        wal = cache.path.with_name(cache.path.name + "-wal")
        assert wal.stat().st_size > 0  # uncommitted pages of the new generation are on disk
        # While the child holds its write transaction, lanes keep reading the last commit.
        assert [h.record.id for h in Lookup(cache).plate("ABC123", now=time.time(), fuzzy=False)] == ["V1"]
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=60) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=60)
        child.stdin.close()
        child.stdout.close()
        child.stderr.close()
    with WatchlistStore(cache.path) as reopened:
        assert content_hash(reopened) == baseline
        assert versions(reopened) == {"vehicles": 1}
        assert reopened.integrity_errors() == []
        assert _apply(reopened, big, authority.keyring()).applied
        assert versions(reopened) == {"vehicles": 2}
