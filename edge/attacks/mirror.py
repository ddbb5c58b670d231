"""A hostile watchlist mirror and a hostile authority, against the checkpoint's real sync (the
`Syncer` and `apply_bundle` the service runs) over real loopback HTTP.

Each attack gets a fresh cache at a known version and checks that whatever it serves is refused
with its reason, that the cache's content hash does not move, and that a good source or a later
good bundle still gets through.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from edge.attacks.authority import DAY, Authority, content_hash, forge, forge_deeply_nested, plate
from edge.attacks.campaign import Breach, attack
from edge.attacks.mirror_scene import BASELINE, SYNC_TIMEOUT_S, Behaviour, HostileMirror, scene
from edge.attacks.target import Target
from edge.service.proc import rss_mb
from edge.watchlist.apply import apply_bundle
from edge.watchlist.keys import Keyring, TrustedKey
from edge.watchlist.refusal import Refusal
from edge.watchlist.sources import INDEX_FORMAT, INDEX_MAX_BYTES, INDEX_NAME, FolderSource, write_index


def index_naming(folder: Path, files: list[str], list_id: str, version: int) -> None:
    """An index.json in `folder` offering a full bundle of `list_id` at `version` under each name in `files`,
    whatever the names are."""
    bundles = [{"file": name, "list_id": list_id, "kind": "full", "version": version, "base_version": None,
                "size": 1} for name in files]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / INDEX_NAME).write_text(json.dumps({"format": INDEX_FORMAT, "bundles": bundles}))


@attack("bundle-nested-deep", "a bundle signed by the authority whose body nests 5,000 deep, then a good one",
        finding=10)
def bundle_nested_deep(target: Target) -> None:
    folder, authority, crossing = scene(target, "nested")
    mirror = HostileMirror(folder / "mirror")
    try:
        forge_deeply_nested(authority, mirror.root / "vehicles-v2.wlb", "vehicles", [*BASELINE, plate("V3", "DEF456")],
                            version=2)
        write_index(mirror.root)
        source = crossing.http_source(mirror)
        [first] = crossing.sync(source)
        forge(authority, mirror.root / "vehicles-v3.wlb", "vehicles", [*BASELINE, plate("V4", "GHI789")], version=3)
        write_index(mirror.root)
        [second] = crossing.sync(source)
        refused = [(r.bundle, r.reason) for r in first.results if not r.applied]
        if first.error or refused != [("vehicles-v2.wlb", Refusal.MALFORMED)] or crossing.versions()["vehicles"] != 3:
            raise Breach(f"first sync: {first.error or refused}; after the good bundle: {second.error}, "
                         f"versions {crossing.versions()}")
    finally:
        mirror.close()
        crossing.close()
        authority.close()


NO_FILE_NAMES = ["", ".", "./", "vehicles", "sub/", "//127.0.0.1/x.wlb", "/etc/x.wlb", "../x.wlb", "a/../../x.wlb"]


@attack("index-names-no-file", f"a mirror's index naming {len(NO_FILE_NAMES)} non-files ('', '.', '../x.wlb' ...) "
        "beside a good mirror", finding=11)
def index_names_no_file(target: Target) -> None:
    folder, authority, crossing = scene(target, "no-file")
    good = HostileMirror(folder / "good")
    hostile = HostileMirror(folder / "hostile")
    try:
        problems = []
        for version, name in enumerate(NO_FILE_NAMES, start=2):
            index_naming(hostile.root, [name], "vehicles", version=9)
            forge(authority, good.root / f"vehicles-v{version}.wlb", "vehicles",
                  [*BASELINE, plate("V9", f"GOOD{version}")], version=version)
            write_index(good.root)
            hostile_report, good_report = crossing.sync(crossing.http_source(hostile), crossing.http_source(good))
            if hostile_report.error is None or crossing.versions()["vehicles"] != version:
                problems.append(f"{name!r}: hostile source {hostile_report.error or 'not refused'}, good source "
                                f"{good_report.error or 'synced'}, at version {crossing.versions()['vehicles']}")
        if problems:
            raise Breach("; ".join(problems))
    finally:
        good.close()
        hostile.close()
        crossing.close()
        authority.close()


@attack("index-points-elsewhere", "an index naming a bundle on another host", finding=12)
def index_points_elsewhere(target: Target) -> None:
    folder, authority, crossing = scene(target, "elsewhere")
    mirror, evil = HostileMirror(folder / "mirror"), HostileMirror(folder / "evil")
    try:
        forge(authority, evil.root / "x.wlb", "vehicles", [*BASELINE, plate("V5", "EVIL1")], version=2)
        index_naming(mirror.root, [f"{evil.url}x.wlb", evil.url.replace("http:", "") + "x.wlb"], "vehicles", version=9)
        [report] = crossing.sync(crossing.http_source(mirror))
        if evil.requests or crossing.hash != content_hash(crossing.store):
            raise Breach(f"the crossing asked the other host for {evil.requests}; sync said {report.error}")
    finally:
        mirror.close()
        evil.close()
        crossing.close()
        authority.close()


def _endless_index(handler: BaseHTTPRequestHandler) -> None:
    """800 MB promised, sent as fast as it is read."""
    handler.send_response(200)
    handler.send_header("Content-Length", str(800 << 20))
    handler.end_headers()
    entry = json.dumps({"file": "vehicles-v2.wlb", "list_id": "vehicles", "kind": "full", "version": 2,
                        "base_version": None, "size": 1}).encode() + b","
    handler.wfile.write(b'{"format": "' + INDEX_FORMAT.encode() + b'", "bundles": [')
    chunk = entry * (65536 // len(entry))
    try:
        for _ in range((800 << 20) // len(chunk)):
            handler.wfile.write(chunk)
    except OSError:
        pass  # the crossing hung up: what it should do


def _trickle(handler: BaseHTTPRequestHandler) -> None:
    """One byte a second, for as long as anyone listens."""
    handler.send_response(200)
    handler.send_header("Content-Length", "1000000")
    handler.end_headers()
    try:
        for _ in range(1_000_000):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(1.0)
    except OSError:
        pass


def _index_attack(target: Target, name: str, behaviour: Behaviour, limit_s: float) -> None:
    folder, authority, crossing = scene(target, name)
    mirror = HostileMirror(folder / "mirror")
    mirror.behave[INDEX_NAME] = behaviour
    before = rss_mb(os.getpid())
    started = time.monotonic()
    try:
        [report] = crossing.sync(crossing.http_source(mirror))
        took = time.monotonic() - started
        grew = rss_mb(os.getpid()) - before
        kept = sum(path.stat().st_size for path in (folder / "crossing" / "downloads").rglob("*") if path.is_file())
        if report.error is None or took > limit_s or grew > 200 or kept > INDEX_MAX_BYTES:
            raise Breach(f"sync said {report.error!r} after {took:.1f} s; memory grew {grew:.0f} MB; "
                         f"{kept} bytes kept on disk")
    finally:
        mirror.close()
        crossing.close()
        authority.close()


@attack("index-huge", "an index.json of 800 MB", finding=13)
def index_huge(target: Target) -> None:
    _index_attack(target, "huge-index", _endless_index, limit_s=30.0)


@attack("index-trickle", "an index.json sent one byte a second", finding=14)
def index_trickle(target: Target) -> None:
    _index_attack(target, "trickle", _trickle, limit_s=3 * SYNC_TIMEOUT_S + 2)


# -- bundles the authority (or someone with its publication folder) should never have sent ---------

def _split(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n", 3)  # magic, manifest, signature, body


def _delta_by(other: Authority, full: list[dict], delta: list[dict]) -> Path:
    """A delta published by a second authority on top of its own first version."""
    try:
        other.full("vehicles", full)
        return other.delta("vehicles", delta)
    finally:
        other.close()


def _other_key_same_id(authority: Authority, folder: Path) -> Path:
    return _delta_by(Authority(folder / "impostor", key_id=authority.key_id),
                     [plate("V1", "ABC123"), plate("V9", "NEW999")], [plate("V3", "QQQ111")])


def _edited_record_new_manifest(authority: Authority, folder: Path) -> Path:
    magic, manifest, signature, body = _split(authority.delta("vehicles", [plate("V3", "DEF456")]))
    edited = gzip.compress(gzip.decompress(body).replace(b"DEF456", b"DEF457"))
    fields = json.loads(manifest)
    fields["body_sha256"], fields["body_bytes"] = hashlib.sha256(edited).hexdigest(), len(edited)
    path = folder / "edited.wlb"
    path.write_bytes(b"\n".join([magic, json.dumps(fields, separators=(",", ":")).encode(), signature, edited]))
    return path


def _body_byte(authority: Authority, folder: Path) -> Path:
    data = bytearray(authority.delta("vehicles", [plate("V3", "DEF456")]).read_bytes())
    data[-12] ^= 0x01  # inside the gzip body; the size stays the same
    path = folder / "byte.wlb"
    path.write_bytes(bytes(data))
    return path


def signature_bit_flipped(authority: Authority, folder: Path) -> Path:
    """A delta of the authority's whose signature has its first bit flipped."""
    magic, manifest, signature, body = _split(authority.delta("vehicles", [plate("V3", "DEF456")]))
    sig = json.loads(signature)
    raw = bytearray(base64.b64decode(sig["ed25519"]))
    raw[0] ^= 0x80
    sig["ed25519"] = base64.b64encode(bytes(raw)).decode()
    path = folder / "sig.wlb"
    path.write_bytes(b"\n".join([magic, manifest, json.dumps(sig).encode(), body]))
    return path


def _unknown_key(authority: Authority, folder: Path) -> Path:
    return _delta_by(Authority(folder / "stranger", key_id="k9"), BASELINE, [plate("V3", "DEF456")])


def _cut(keep: Callable[[bytes], bytes]) -> Callable[[Authority, Path], Path]:
    def make(authority: Authority, folder: Path) -> Path:
        path = folder / "cut.wlb"
        path.write_bytes(keep(authority.delta("vehicles", [plate("V3", "DEF456")]).read_bytes()))
        return path
    return make


def _replayed(authority: Authority, folder: Path) -> Path:
    return authority.out / "vehicles" / "full-00000001.wlb"  # the version the crossing has


def _wrong_base(authority: Authority, folder: Path) -> Path:
    authority.delta("vehicles", [plate("V3", "DEF456")])
    return authority.delta("vehicles", [{"op": "delete", "kind": "plate", "id": "V3"}])  # 2 -> 3; the crossing has 1


def _diverged(authority: Authority, folder: Path) -> Path:
    # Same key and version numbers, different content at version 1.
    return _delta_by(Authority(folder / "diverged", key_id=authority.key_id, key=authority.key),
                     [plate("V1", "ABC123"), plate("V2", "XYZ988")], [plate("V3", "DEF456")])


def _expired(authority: Authority, folder: Path) -> Path:
    past = time.time() - 10 * DAY
    late = Authority(folder / "late", key_id=authority.key_id, key=authority.key, clock=lambda: past,
                     valid_for_s=DAY)
    try:
        late.full("vehicles", BASELINE)
        return late.full("vehicles", [*BASELINE, plate("V3", "DEF456")])
    finally:
        late.close()


def _invalid_record(authority: Authority, folder: Path) -> Path:
    # Bodies hold normal forms only: "abc-123" is what the publisher would have normalised.
    return forge(authority, folder / "invalid.wlb", "vehicles", [*BASELINE, plate("V4", "abc-123")], version=2,
                 state_count=3, state_hash="0" * 64)


def _duplicate_ids(authority: Authority, folder: Path) -> Path:
    return forge(authority, folder / "dup.wlb", "vehicles", [plate("V1", "ABC123"), plate("V1", "ABC124")], version=2)


def _file_of(data: bytes) -> Callable[[Authority, Path], Path]:
    def make(authority: Authority, folder: Path) -> Path:
        path = folder / "garbage.wlb"
        path.write_bytes(data)
        return path
    return make


# name: (what the bundle is, the refusal expected, how it is made)
HOSTILE_BUNDLES: dict[str, tuple[str, Refusal, Callable[[Authority, Path], Path]]] = {
    "bundle-other-key-same-id": ("signed by another key under the trusted key's id", Refusal.BAD_SIGNATURE,
                                 _other_key_same_id),
    "bundle-edited-resigned-manifest": ("a record edited and the manifest's hash recomputed", Refusal.BAD_SIGNATURE,
                                        _edited_record_new_manifest),
    "bundle-body-byte": ("one body byte changed", Refusal.TAMPERED, _body_byte),
    "bundle-signature-bit": ("one signature bit flipped", Refusal.BAD_SIGNATURE, signature_bit_flipped),
    "bundle-unknown-key": ("signed by a key the crossing does not know", Refusal.UNKNOWN_KEY, _unknown_key),
    "bundle-truncated": ("the last 40 bytes cut off", Refusal.TRUNCATED, _cut(lambda data: data[:-40])),
    "bundle-cut-in-manifest": ("cut inside its manifest line", Refusal.MALFORMED, _cut(lambda data: data[:30])),
    "bundle-padded": ("1 MB of garbage after the body", Refusal.MALFORMED, _cut(lambda data: data + b"\0" * (1 << 20))),
    "bundle-replayed": ("the version the crossing already has, sent again", Refusal.REPLAY, _replayed),
    "bundle-wrong-base": ("a delta from a version the crossing is not at", Refusal.WRONG_BASE, _wrong_base),
    "bundle-diverged-state": ("a delta from a diverged copy of the list", Refusal.STATE_MISMATCH, _diverged),
    "bundle-expired": ("expired nine days ago", Refusal.EXPIRED, _expired),
    "bundle-invalid-record": ("a record not in normal form", Refusal.INVALID_RECORD, _invalid_record),
    "bundle-duplicate-ids": ("two records with one id", Refusal.INVALID_RECORD, _duplicate_ids),
    "bundle-garbage": ("64 kB of random bytes", Refusal.MALFORMED, _file_of(bytes(range(256)) * 256)),
    "bundle-empty": ("an empty file", Refusal.MALFORMED, _file_of(b"")),
}


def _retired(authority: Authority) -> Keyring:
    return Keyring([TrustedKey(authority.key_id, authority.trusted.public_key, not_after=int(time.time()) - DAY)])


def _hostile_bundle(name: str, reason: Refusal, make: Callable[[Authority, Path], Path],
                    keyring: Callable[[Authority], Keyring] | None = None) -> Callable[[Target], None]:
    def run(target: Target) -> None:
        folder, authority, crossing = scene(target, name)
        try:
            bundle = make(authority, folder)
            trusted = keyring(authority) if keyring else crossing.keyring
            result = apply_bundle(crossing.store, bundle, trusted, source="attack")
            if result.applied or result.reason is not reason or content_hash(crossing.store) != crossing.hash:
                raise Breach(f"{'applied' if result.applied else f'refused as {result.reason}'} "
                             f"(expected {reason}): {result.detail}")
        finally:
            crossing.close()
            authority.close()
    return run


for _name, (_what, _reason, _make) in HOSTILE_BUNDLES.items():
    attack(_name, f"a bundle: {_what}")(_hostile_bundle(_name, _reason, _make))
attack("bundle-retired-key", "a bundle made after its key was retired")(
    _hostile_bundle("bundle-retired-key", Refusal.KEY_RETIRED,
                    lambda authority, folder: authority.delta("vehicles", [plate("V3", "DEF456")]), _retired))


@attack("folder-source-garbage-beside-good", "a mirror folder holding a garbage bundle beside the next good one")
def folder_source_garbage(target: Target) -> None:
    folder, authority, crossing = scene(target, "folder")
    try:
        mirror = folder / "usb"
        mirror.mkdir()
        (mirror / "vehicles-v2.wlb").write_bytes(b"CHECKPOINT-EDGE-WATCHLIST\n{not json\n")
        forge(authority, mirror / "vehicles-v3.wlb", "vehicles", [*BASELINE, plate("V5", "JKL012")], version=3)
        [report] = crossing.sync(FolderSource(mirror))
        if report.error or crossing.versions()["vehicles"] != 3:
            raise Breach(f"the good bundle beside the garbage: {report.error}, at {crossing.versions()}")
    finally:
        crossing.close()
        authority.close()
