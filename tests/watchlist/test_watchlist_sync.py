"""Sync from a real loopback HTTP server and from a folder: planning, conditional GET, resume, fallbacks."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from edge.watchlist.http import HttpClient, TransferError
from edge.watchlist.refusal import Refusal
from edge.watchlist.sources import FolderSource, HttpSource, Offer, write_index
from edge.watchlist.sync import Syncer, plan
from tests.support.watchlist_authority import (
    Authority,
    StaticServer,
    content_hash,
    forge,
    many_plates,
    plate,
    self_signed_tls,
    versions,
)


@pytest.fixture
def server(authority):
    authority.out.mkdir(parents=True, exist_ok=True)
    server = StaticServer(authority.out)
    yield server
    server.close()


def _client(timeout_s: float = 30) -> HttpClient:
    return HttpClient(timeout_s=timeout_s, max_bytes=1 << 30)


def _http_syncer(store, authority, url, tmp_path) -> tuple[Syncer, HttpSource]:
    source = HttpSource(url, tmp_path / "edge" / "downloads", _client())
    return Syncer(store, [source], authority.keyring()), source


def _outcomes(reports) -> list[tuple[str, bool, str | None]]:
    return [(r.bundle, r.applied, r.reason.value if r.reason else None) for rep in reports for r in rep.results]


def test_plan_prefers_a_delta_chain_and_falls_back_to_the_newest_full():
    full3 = Offer("v/full-3.wlb", "v", "full", 3, None, 1)
    d12 = Offer("v/d-1-2.wlb", "v", "delta", 2, 1, 1)
    d23 = Offer("v/d-2-3.wlb", "v", "delta", 3, 2, 1)
    d34 = Offer("v/d-3-4.wlb", "v", "delta", 4, 3, 1)
    offers = [full3, d12, d23, d34]
    assert plan(1, offers) == [d12, d23, d34]
    assert plan(None, offers) == [full3, d34]
    assert plan(0, offers) == [full3, d34]  # no chain from 0
    assert plan(4, offers) == []
    assert plan(2, [full3, d34]) == [full3, d34]  # d23 missing: the full bridges the gap
    assert plan(5, offers) == []  # the cache is ahead of the source: nothing to do, nothing older


def test_http_sync_full_then_deltas_then_nothing_new_with_conditional_get(tmp_path, authority, server, store):
    authority.full("vehicles", [plate("V1", "ABC123"), plate("V2", "XYZ987")])
    syncer, _ = _http_syncer(store, authority, server.url, tmp_path)
    assert _outcomes(syncer.sync_once()) == [("vehicles/full-00000001.wlb", True, None)]
    authority.delta("vehicles", [plate("V3", "NEW111")])
    authority.delta("vehicles", [plate("V4", "NEW222")])
    assert _outcomes(syncer.sync_once()) == [
        ("vehicles/delta-00000001-00000002.wlb", True, None),
        ("vehicles/delta-00000002-00000003.wlb", True, None),
    ]
    assert versions(store) == {"vehicles": 3}
    hash_at_3 = content_hash(store)

    assert _outcomes(syncer.sync_once()) == []  # nothing new
    assert server.statuses("index.json")[-1] == 304  # and the index itself was not transferred again
    assert "If-None-Match" in server.headers_of("index.json")[-1]
    assert content_hash(store) == hash_at_3
    # Downloads are removed once applied.
    assert not list((tmp_path / "edge" / "downloads").rglob("*.wlb"))


def test_a_broken_transfer_is_refused_then_resumed_with_a_range_request(tmp_path, authority, server, store):
    authority.full("vehicles", [plate("V1", "ABC123")])
    syncer, _ = _http_syncer(store, authority, server.url, tmp_path)
    syncer.sync_once()
    before = content_hash(store)
    delta = authority.delta("vehicles", many_plates(3000))
    rel = delta.relative_to(authority.out).as_posix()
    server.cut[rel] = delta.stat().st_size // 2

    reports = syncer.sync_once()
    assert _outcomes(reports) == [(rel, False, "truncated")]
    assert "resumes" in reports[0].results[0].detail
    assert content_hash(store) == before and versions(store) == {"vehicles": 1}

    assert _outcomes(syncer.sync_once()) == [(rel, True, None)]
    assert server.statuses(rel) == [200, 206]
    resumed = server.headers_of(rel)[-1]
    assert resumed["Range"] == f"bytes={delta.stat().st_size // 2}-" and "If-Range" in resumed
    assert versions(store) == {"vehicles": 2}
    assert store.lists()["vehicles"].record_count == 3001


def test_a_file_that_changed_between_attempts_is_downloaded_again_from_the_start(tmp_path, authority, server):
    target = authority.out / "blob.bin"
    target.write_bytes(b"a" * 10_000)
    server.cut["blob.bin"] = 4000
    client = _client()
    dest = tmp_path / "blob.bin"
    with pytest.raises(TransferError, match="broke off"):
        client.download(server.url + "blob.bin", dest)
    target.write_bytes(b"b" * 12_000)  # new content, new ETag: If-Range makes the server send it all
    client.download(server.url + "blob.bin", dest)
    assert dest.read_bytes() == b"b" * 12_000
    assert server.statuses("blob.bin") == [200, 200]


def test_a_tampered_delta_on_the_server_falls_back_to_the_full_snapshot(tmp_path, authority, server, store):
    authority.full("vehicles", [plate("V1", "ABC123")])
    syncer, _ = _http_syncer(store, authority, server.url, tmp_path)
    syncer.sync_once()
    # Version 2 is offered both as a delta and as a full snapshot; the server's copy of the delta
    # is corrupted, so after refusing it the syncer takes the full snapshot.
    d2 = authority.delta("vehicles", [plate("V2", "NEW222")])
    records_at_2 = [plate("V1", "ABC123"), plate("V2", "NEW222")]
    forge(authority, d2.with_name("full-00000002.wlb"), "vehicles", records_at_2, version=2)
    write_index(authority.out)
    data = bytearray(d2.read_bytes())
    data[-10] ^= 0xFF
    d2.write_bytes(bytes(data))
    assert _outcomes(syncer.sync_once()) == [
        ("vehicles/" + d2.name, False, "tampered"),
        ("vehicles/full-00000002.wlb", True, None),
    ]
    assert versions(store) == {"vehicles": 2}


def test_an_unreachable_server_leaves_the_cache_as_it_was(tmp_path, authority, store):
    authority.full("vehicles", [plate("V1", "ABC123")])
    folder = FolderSource(authority.out)
    Syncer(store, [folder], authority.keyring()).sync_once()
    before = content_hash(store)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    source = HttpSource(f"http://127.0.0.1:{closed_port}/", tmp_path / "dl", _client())
    [report] = Syncer(store, [source], authority.keyring()).sync_once()
    assert report.results == () and "refused" in report.error.lower()
    assert content_hash(store) == before


def test_a_server_that_never_answers_times_out(tmp_path, authority, store):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True).start()
    try:
        source = HttpSource(f"http://127.0.0.1:{listener.getsockname()[1]}/", tmp_path / "dl", _client(timeout_s=1))
        [report] = Syncer(store, [source], authority.keyring()).sync_once()
        assert "timed out" in report.error
        assert versions(store) == {}
    finally:
        for conn in accepted:
            conn.close()
        listener.close()


def test_a_broken_index_is_a_source_error(tmp_path, authority, server, store):
    authority.out.mkdir(parents=True, exist_ok=True)
    (authority.out / "index.json").write_text('{"format": "something else"}')
    [report] = _http_syncer(store, authority, server.url, tmp_path)[0].sync_once()
    assert "unusable index" in report.error
    (authority.out / "index.json").write_text(
        '{"format": "checkpoint-edge-watchlist-index/1", "bundles": [{"file": "../../etc/passwd", '
        '"list_id": "x", "kind": "full", "version": 1, "base_version": null, "size": 1}]}'
    )
    [report] = _http_syncer(store, authority, server.url, tmp_path)[0].sync_once()
    assert "unsafe" in report.error


def test_folder_sync_for_a_crossing_without_network(tmp_path, authority, store):
    authority.full("vehicles", [plate("V1", "ABC123")])
    authority.delta("vehicles", [plate("V2", "NEW222")])
    usb = tmp_path / "usb"
    shutil.copytree(authority.out, usb)
    (usb / "notes.wlb").write_text("not a bundle")  # ignored, like any stray file on a stick
    syncer = Syncer(store, [FolderSource(usb)], authority.keyring())
    assert _outcomes(syncer.sync_once()) == [
        ("vehicles/full-00000001.wlb", True, None),
        ("vehicles/delta-00000001-00000002.wlb", True, None),
    ]
    assert versions(store) == {"vehicles": 2}
    [report] = Syncer(store, [FolderSource(tmp_path / "no-stick")], authority.keyring()).sync_once()
    assert "no such folder" in report.error


def test_the_cache_keeps_serving_while_a_source_offers_only_refused_bundles(tmp_path, authority, store):
    authority.full("vehicles", [plate("V1", "ABC123")])
    Syncer(store, [FolderSource(authority.out)], authority.keyring()).sync_once()
    stranger = Authority(tmp_path / "stranger", key_id="k9")
    stranger.full("vehicles", [plate("X1", "EVIL11")])
    stranger.delta("vehicles", [plate("X2", "EVIL22")])
    stranger.close()
    before = content_hash(store)
    outcomes = _outcomes(Syncer(store, [FolderSource(stranger.out)], authority.keyring()).sync_once())
    assert outcomes and all(not applied and reason == Refusal.UNKNOWN_KEY.value for _, applied, reason in outcomes)
    assert content_hash(store) == before


def test_sync_results_carry_what_an_audit_record_needs(tmp_path, authority, store):
    full = authority.full("vehicles", [plate("V1", "ABC123")])
    [report] = Syncer(store, [FolderSource(authority.out)], authority.keyring()).sync_once()
    [result] = report.results
    state = store.lists()["vehicles"]
    assert result.applied and result.reason is None
    assert (result.list_id, result.kind, result.version, result.previous_version) == ("vehicles", "full", 1, None)
    assert (result.record_count, result.state_count, result.key_id) == (1, 1, authority.key_id)
    assert result.state_hash == state.state_hash and result.body_sha256 == state.body_sha256
    assert result.source == str(authority.out) and result.bundle == "vehicles/" + full.name
    assert abs(result.at - time.time()) < 3600 and result.duration_s >= 0
    with pytest.raises(AttributeError):
        result.applied = False  # frozen: what was recorded stays recorded
    assert Path(full).exists()


def test_a_partial_download_of_a_bundle_that_was_superseded_is_dropped(tmp_path, store):
    authority = Authority(tmp_path / "authority", keep_deltas=1)
    authority.full("vehicles", [plate("V1", "ABC123")])
    server = StaticServer(authority.out)
    syncer, _ = _http_syncer(store, authority, server.url, tmp_path)
    syncer.sync_once()
    d2 = authority.delta("vehicles", many_plates(2000))
    server.cut[d2.relative_to(authority.out).as_posix()] = 1000
    assert _outcomes(syncer.sync_once())[0][2] == "truncated"
    downloads = tmp_path / "edge" / "downloads"
    assert [p.name for p in downloads.rglob("*.part")] == ["vehicles__delta-00000001-00000002.wlb.part"]
    authority.delta("vehicles", [plate("V3", "NEW333")])
    authority.full("vehicles", [plate("V1", "ABC123")])  # prunes both deltas (keep_deltas=1)
    authority.close()
    assert _outcomes(syncer.sync_once()) == [("vehicles/full-00000004.wlb", True, None)]
    server.close()
    assert sorted(p.name for p in downloads.rglob("*") if p.is_file()) == ["index.json", "index.json.validators"]


def test_https_with_the_crossing_s_own_ca_file(tmp_path, authority, store):
    authority.full("vehicles", [plate("V1", "ABC123")])
    tls, cert = self_signed_tls(tmp_path)
    server = StaticServer(authority.out, tls=tls)
    try:
        assert server.url.startswith("https://")
        untrusted = HttpSource(server.url, tmp_path / "dl", _client())
        [report] = Syncer(store, [untrusted], authority.keyring()).sync_once()
        assert "CERTIFICATE_VERIFY_FAILED" in report.error and versions(store) == {}
        trusted = HttpSource(server.url, tmp_path / "dl", HttpClient(timeout_s=30, ca_file=cert, max_bytes=1 << 20))
        assert _outcomes(Syncer(store, [trusted], authority.keyring()).sync_once()) == [
            ("vehicles/full-00000001.wlb", True, None)
        ]
    finally:
        server.close()
