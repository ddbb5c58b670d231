"""A hostile watchlist mirror, against the real sync over loopback HTTP (issue 13, findings 10-14).

Each source and each bundle fails on its own: a bundle that breaks the reader is refused and a
newer one still applies; a source with a poisoned index is refused while the others sync; no
request leaves the source's base URL; an index is capped in size and a transfer in time.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from edge.attacks.authority import forge_deeply_nested
from edge.attacks.mirror import index_naming
from edge.watchlist.http import HttpClient
from edge.watchlist.refusal import Refusal
from edge.watchlist.sources import INDEX_MAX_BYTES, FolderSource, HttpSource, write_index
from edge.watchlist.sync import Syncer
from tests.support.watchlist_authority import StaticServer, forge, plate, versions

pytestmark = pytest.mark.slow  # real processes and waits: seconds per test


def _client(timeout_s: float = 30) -> HttpClient:
    return HttpClient(timeout_s=timeout_s, max_bytes=1 << 30)


def _index(folder: Path, files: list[str]) -> None:
    index_naming(folder, files, "stolen", version=1)


def _forge_deep(authority, path: Path, version: int) -> None:
    forge_deeply_nested(authority, path, "stolen", [plate("p1", "AB123")], version=version)


def test_a_signed_bundle_nested_too_deep_is_refused_and_the_sync_goes_on(tmp_path, authority, store):
    # Finding 10: a RecursionError traceback, three failed rounds, a valid later bundle held back.
    folder = tmp_path / "mirror"
    folder.mkdir()
    forge(authority, folder / "stolen-v1.wlb", "stolen", [plate("p1", "AB123")], version=1)
    _forge_deep(authority, folder / "stolen-v2.wlb", version=2)
    syncer = Syncer(store, [FolderSource(folder)], authority.keyring())
    [report] = syncer.sync_once()
    outcomes = {r.bundle: (r.applied, r.reason) for r in report.results}
    assert report.error is None
    assert outcomes == {"stolen-v2.wlb": (False, Refusal.MALFORMED), "stolen-v1.wlb": (True, None)}
    assert "nested too deep" in next(r.detail for r in report.results if r.bundle == "stolen-v2.wlb")
    assert versions(store) == {"stolen": 1}
    forge(authority, folder / "stolen-v3.wlb", "stolen", [plate("p1", "AB124")], version=3)  # the authority's fix
    [report] = syncer.sync_once()
    assert report.error is None and versions(store) == {"stolen": 3}


@pytest.mark.parametrize("name", ["", ".", "./", "stolen", "sub/", "//127.0.0.1/x.wlb", "/etc/x.wlb"])
def test_an_index_naming_no_bundle_file_refuses_that_source_only(tmp_path, authority, store, name):
    # Finding 11: "" or "." raised IsADirectoryError and aborted the whole sync, other sources included.
    hostile = tmp_path / "hostile"
    hostile.mkdir()
    _index(hostile, [name])
    good = tmp_path / "good"
    good.mkdir()
    forge(authority, good / "stolen-v1.wlb", "stolen", [plate("p1", "AB123")], version=1)
    server = StaticServer(hostile)
    try:
        reports = Syncer(store, [HttpSource(server.url, tmp_path / "dl", _client()), FolderSource(good)],
                         authority.keyring()).sync_once()
    finally:
        server.close()
    assert "unsafe file" in reports[0].error
    assert reports[1].error is None and versions(store) == {"stolen": 1}


def test_an_index_never_sends_the_crossing_to_another_host(tmp_path, authority, store):
    # Finding 12: an index naming http://evil.example/x.wlb made the crossing fetch from there.
    evil_root = tmp_path / "evil"
    evil_root.mkdir()
    forge(authority, evil_root / "x.wlb", "stolen", [plate("p1", "AB123")], version=1)
    evil = StaticServer(evil_root)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    _index(mirror, [f"{evil.url}x.wlb"])
    server = StaticServer(mirror)
    try:
        [report] = Syncer(store, [HttpSource(server.url, tmp_path / "dl", _client())], authority.keyring()).sync_once()
    finally:
        server.close()
        evil.close()
    assert "unsafe file" in report.error
    assert evil.requests == []


def test_a_huge_index_is_refused_without_being_kept(tmp_path, authority, store):
    # Finding 13: an 800 MB index.json took 1.76 GB of RSS and 800 MB of disk.
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    with (mirror / "index.json").open("wb") as index:
        index.write(b'{"format": "checkpoint-edge-watchlist-index/1", "bundles": [], "pad": "')
        index.write(b"x" * (INDEX_MAX_BYTES + 1024))
        index.write(b'"}')
    server = StaticServer(mirror)
    try:
        source = HttpSource(server.url, tmp_path / "dl", _client())
        [report] = Syncer(store, [source], authority.keyring()).sync_once()
    finally:
        server.close()
    assert f"larger than {INDEX_MAX_BYTES} bytes" in report.error
    assert not any(path.name.startswith("index.json") for path in (tmp_path / "dl").rglob("*"))


def test_an_index_sent_a_byte_at_a_time_is_given_up_on_at_the_deadline(tmp_path, authority, store):
    # Finding 14: a byte every 10 s kept the sync waiting past 75 s (the timeout applied per read only).
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    stop = threading.Event()

    def drip() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(4096)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
            while not stop.wait(0.3):
                try:
                    connection.sendall(b" ")
                except OSError:
                    return

    threading.Thread(target=drip, daemon=True).start()
    try:
        source = HttpSource(f"http://127.0.0.1:{listener.getsockname()[1]}/", tmp_path / "dl", _client(timeout_s=2))
        [report] = Syncer(store, [source], authority.keyring()).sync_once()
    finally:
        stop.set()
        listener.close()
    assert "not received within 2 s" in report.error


def test_a_published_folder_still_syncs_as_before(tmp_path, authority, store):
    authority.full("stolen", [plate("p1", "AB123")])
    write_index(authority.out)
    server = StaticServer(authority.out)
    try:
        [report] = Syncer(store, [HttpSource(server.url, tmp_path / "dl", _client())],
                          authority.keyring()).sync_once()
    finally:
        server.close()
    assert report.error is None and versions(store) == {"stolen": 1}
