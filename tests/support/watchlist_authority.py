"""Helpers for the watchlist tests (no tests here): an authority that publishes real signed
bundles, record builders, and a real static HTTP server with ETag, conditional GET and Range."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import ssl
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

# The authority and the forger live with the attack campaign, which needs them too.
from edge.attacks.authority import DAY, Authority, content_hash, forge, plate  # noqa: F401
from edge.watchlist.store import WatchlistStore


def document(rid: str, number: str, issuer: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "document", "id": rid, "number": number, "issuer": issuer, "reason": "lost passport",
            "action": "refer", "source": f"case {rid}", **extra}


def person(rid: str, surname: str, given_names: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "person", "id": rid, "surname": surname, "given_names": given_names,
            "reason": "person of interest", "action": "refer", "source": f"case {rid}", **extra}


def delete(kind: str, rid: str) -> dict[str, Any]:
    return {"op": "delete", "kind": kind, "id": rid}


def many_plates(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [plate(f"P{n}", f"BULK{n:07d}") for n in range(start, start + count)]


def versions(store: WatchlistStore) -> dict[str, int]:
    return {list_id: state.version for list_id, state in store.lists().items()}


class StaticServer:
    """A real static file server on loopback, with what nginx offers a sync client: ETag,
    Last-Modified, If-None-Match (304), Range with If-Range (206). `cut[path] = n` makes the next
    response for `path` promise the whole file but stop after n bytes and drop the connection."""

    def __init__(self, root: Path, tls: ssl.SSLContext | None = None):
        self.root = root
        self.requests: list[tuple[str, int, dict[str, str]]] = []  # (path, status, request headers)
        self.cut: dict[str, int] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                """Quiet: the tests read `requests` instead."""

            def do_GET(self) -> None:
                server._serve(self)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self._httpd.server_address[1]}/"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def _record(self, handler: BaseHTTPRequestHandler, status: int) -> None:
        with self._lock:
            self.requests.append((handler.path, status, dict(handler.headers)))

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        rel = handler.path.lstrip("/")
        path = (self.root / rel).resolve()
        if not path.is_file() or self.root.resolve() not in path.parents:
            self._record(handler, 404)
            handler.send_error(404)
            return
        data = path.read_bytes()
        etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
        modified = formatdate(path.stat().st_mtime, usegmt=True)
        if handler.headers.get("If-None-Match") == etag:
            self._record(handler, 304)
            handler.send_response(304)
            handler.send_header("ETag", etag)
            handler.end_headers()
            return
        start, status = 0, 200
        wanted = handler.headers.get("Range", "")
        if wanted.startswith("bytes=") and handler.headers.get("If-Range", etag) == etag:
            start = int(wanted[len("bytes="):].split("-")[0])
            if start >= len(data):
                self._record(handler, 416)
                handler.send_response(416)
                handler.send_header("Content-Range", f"bytes */{len(data)}")
                handler.end_headers()
                return
            status = 206
        body = data[start:]
        self._record(handler, status)
        handler.send_response(status)
        handler.send_header("ETag", etag)
        handler.send_header("Last-Modified", modified)
        handler.send_header("Content-Length", str(len(body)))
        if status == 206:
            handler.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        handler.end_headers()
        with self._lock:
            cut = self.cut.pop(rel, None)
        if cut is None:
            handler.wfile.write(body)
        else:
            handler.wfile.write(body[:cut])
            handler.wfile.flush()
            handler.close_connection = True
            handler.connection.shutdown(2)

    def statuses(self, suffix: str) -> list[int]:
        with self._lock:
            return [status for path, status, _ in self.requests if path.endswith(suffix)]

    def headers_of(self, suffix: str) -> list[dict[str, str]]:
        with self._lock:
            return [headers for path, _, headers in self.requests if path.endswith(suffix)]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def self_signed_tls(folder: Path) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context for 127.0.0.1 with a fresh self-signed certificate, and that certificate's file."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "watchlist test server")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "server.crt", folder / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context, cert_file
