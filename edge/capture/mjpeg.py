"""HTTP MJPEG (multipart/x-mixed-replace) read straight off a socket.

Parsed here rather than through FFmpeg so that a lost connection, a silent camera and one bad
JPEG are three different things: lost raises CaptureError, silent returns None (the reader
decides when that is a stall), a bad part raises CorruptFrame and the next part is read.
"""

from __future__ import annotations

import base64
import re
import socket
import ssl
from collections import deque
from urllib.parse import SplitResult, unquote, urlsplit

import numpy as np

from edge.capture.images import decode_jpeg
from edge.capture.model import CaptureError, InvalidCameraURL

POLL_INTERVAL = 0.2  # seconds one read() waits for data before returning None
MAX_BUFFER = 16 * 1024 * 1024  # a stream this far past its last boundary has lost its framing
_HEADER_END = re.compile(rb"\r?\n\r?\n")


def _parse_headers(block: bytes) -> dict[str, str]:
    headers = {}
    for line in block.decode("latin-1").splitlines():
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers


class MultipartParser:
    """Splits a multipart byte stream into part bodies, fed in arbitrary chunks."""

    def __init__(self, boundary: str, url: str) -> None:
        # Cameras disagree on whether the declared boundary includes the leading dashes;
        # searching for "--" + the bare token matches both "--token" and "----token" lines.
        self._delimiter = b"--" + boundary.lstrip("-").encode("latin-1")
        self._buffer = bytearray()
        self._url = url

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        parts = []
        while (part := self._take_part()) is not None:
            parts.append(part)
        if len(self._buffer) > MAX_BUFFER:
            raise CaptureError(self._url, f"no multipart boundary in {MAX_BUFFER} bytes: not an MJPEG stream?")
        return parts

    def _take_part(self) -> bytes | None:
        buffer = self._buffer
        start = buffer.find(self._delimiter)
        if start < 0:
            return None
        header_end = _HEADER_END.search(buffer, start)
        if header_end is None:
            return None
        headers = _parse_headers(bytes(buffer[start + len(self._delimiter) : header_end.start()]))
        body_start = header_end.end()
        length = headers.get("content-length", "")
        if length.isdigit():
            body_end = next_start = body_start + int(length)
            if len(buffer) < body_end:
                return None
        else:
            # No length: the body runs to the next delimiter (less the line break before it).
            next_start = buffer.find(self._delimiter, body_start)
            if next_start < 0:
                return None
            body_end = next_start
        body = bytes(buffer[body_start:body_end]).removesuffix(b"\r\n").removesuffix(b"\n")
        del buffer[:next_start]
        return body


class MjpegSource:
    def __init__(self, url: str, *, open_timeout: float) -> None:
        self._url = url
        self._parts: deque[bytes] = deque()
        parts = urlsplit(url)
        if not parts.hostname:
            raise InvalidCameraURL(url, "HTTP camera URL has no host")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise InvalidCameraURL(url, f"bad port: {exc}") from None
        try:
            sock = socket.create_connection((parts.hostname, port), timeout=open_timeout)
            if parts.scheme == "https":
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=parts.hostname)
        except OSError as exc:
            raise CaptureError(url, f"cannot connect to {parts.hostname}:{port}: {exc}") from None
        self._sock = sock
        try:
            self._sock.sendall(self._request(parts))
            boundary, leftover = self._read_response_head()
        except OSError as exc:
            self.close()
            raise CaptureError(url, f"no HTTP answer within {open_timeout} s: {exc}") from None
        except CaptureError:
            self.close()
            raise
        self._parser = MultipartParser(boundary, url)
        self._parts.extend(self._parser.feed(leftover))
        self._sock.settimeout(POLL_INTERVAL)

    @staticmethod
    def _request(parts: SplitResult) -> bytes:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        lines = [f"GET {target} HTTP/1.0", f"Host: {parts.netloc.rpartition('@')[2]}",
                 "User-Agent: checkpoint-edge", "Accept: multipart/x-mixed-replace, */*"]  # fmt: skip
        if parts.username is not None:
            credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            lines.append("Authorization: Basic " + base64.b64encode(credentials.encode()).decode())
        # HTTP/1.0 so that the server cannot answer with chunked transfer encoding.
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _read_response_head(self) -> tuple[str, bytes]:
        data = b""
        while (end := _HEADER_END.search(data)) is None:
            chunk = self._sock.recv(65536)
            if not chunk:
                raise CaptureError(self._url, "server closed the connection before answering")
            data += chunk
            if len(data) > 65536:
                raise CaptureError(self._url, "HTTP response head too long: not an HTTP camera?")
        status_line, _, header_block = data[: end.start()].partition(b"\n")
        fields = status_line.decode("latin-1").split(None, 2)
        if len(fields) < 2 or not fields[0].startswith("HTTP/"):
            raise CaptureError(self._url, f"not an HTTP answer: {status_line[:80]!r}")
        if fields[1] != "200":
            raise CaptureError(self._url, f"HTTP {' '.join(fields[1:]).strip()}")
        content_type = _parse_headers(header_block).get("content-type", "")
        boundary = re.search(r'boundary="?([^";]+)"?', content_type)
        if not content_type.lower().startswith("multipart/") or boundary is None:
            got = content_type or "no Content-Type"
            raise CaptureError(self._url, f"expected an MJPEG stream (multipart/x-mixed-replace), got {got!r}")
        return boundary.group(1), data[end.end() :]

    def read(self) -> np.ndarray | None:
        while not self._parts:
            try:
                chunk = self._sock.recv(65536)
            except TimeoutError:
                return None
            except OSError as exc:
                raise CaptureError(self._url, f"connection lost: {exc}") from None
            if not chunk:
                raise CaptureError(self._url, "server closed the stream")
            self._parts.extend(self._parser.feed(chunk))
        return decode_jpeg(self._parts.popleft(), self._url)

    def close(self) -> None:
        self._sock.close()
