"""The stage of the watchlist mirror attacks (edge/attacks/mirror.py): a hostile HTTP mirror, and the
checkpoint's side, a real watchlist cache synced by the real `Syncer`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from edge.attacks.authority import Authority, content_hash, plate
from edge.attacks.target import Target
from edge.watchlist.apply import apply_bundle
from edge.watchlist.http import HttpClient
from edge.watchlist.sources import HttpSource
from edge.watchlist.store import WatchlistStore
from edge.watchlist.sync import Syncer, SyncReport

Behaviour = Callable[[BaseHTTPRequestHandler], None]
BASELINE = [plate("V1", "ABC123", action="deny"), plate("V2", "XYZ987")]
SYNC_TIMEOUT_S = 3.0  # the checkpoint's http_timeout_s, short so that a trickle is given up on soon


class HostileMirror:
    """A static HTTP server of a folder, where `behave[path]` replaces the file with a behaviour;
    `requests` lists every path asked for."""

    def __init__(self, root: Path):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.behave: dict[str, Behaviour] = {}
        self.requests: list[str] = []
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                """Quiet: the attacks read `requests`."""

            def do_GET(self) -> None:
                mirror.requests.append(self.path)
                behaviour = mirror.behave.get(self.path.lstrip("/"))
                if behaviour is not None:
                    behaviour(self)
                    return
                path = (mirror.root / self.path.lstrip("/")).resolve()
                if not path.is_file() or mirror.root.resolve() not in path.parents:
                    self.send_error(404)
                    return
                data = path.read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class VictimCache:
    """The checkpoint's side of one attack: a watchlist cache at vehicles version 1, its downloads, its keyring."""

    def __init__(self, folder: Path, authority: Authority):
        self.folder = folder
        self.store = WatchlistStore(folder / "watchlist.sqlite")
        self.keyring = authority.keyring()
        result = apply_bundle(self.store, authority.full("vehicles", BASELINE), self.keyring, source="baseline")
        if not result.applied:
            raise RuntimeError(f"the baseline bundle was refused: {result.detail}")
        self.hash = content_hash(self.store)

    def http_source(self, mirror: HostileMirror) -> HttpSource:
        client = HttpClient(timeout_s=SYNC_TIMEOUT_S, max_bytes=1 << 30)
        return HttpSource(mirror.url, self.folder / "downloads", client)

    def sync(self, *sources) -> list[SyncReport]:
        return Syncer(self.store, list(sources), self.keyring).sync_once()

    def versions(self) -> dict[str, int]:
        return {list_id: state.version for list_id, state in self.store.lists().items()}

    def close(self) -> None:
        self.store.close()


def scene(target: Target, name: str) -> tuple[Path, Authority, VictimCache]:
    folder = target.scratch / name
    authority = Authority(folder / "authority")
    return folder, authority, VictimCache(folder / "crossing", authority)
