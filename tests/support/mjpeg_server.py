"""A real HTTP MJPEG camera for tests: a threaded http.server streaming multipart/x-mixed-replace.

Frames are made with numpy and encoded with cv2; frame i is a flat grey of value (i * 7) % 256 so a
test can tell frames apart. The server can pause (connection open, nothing sent), send corrupt
parts on demand, and be stopped and started again on the same port, like a camera rebooting.
"""

from __future__ import annotations

import base64
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np

BOUNDARY = "frame"


def frame_image(index: int, width: int = 64, height: int = 48) -> np.ndarray:
    return np.full((height, width, 3), (index * 7) % 256, dtype=np.uint8)


def corrupt_part(kind: str) -> bytes:
    jpeg = cv2.imencode(".jpg", frame_image(3))[1].tobytes()
    return {
        "garbage": b"this is not a jpeg at all" * 20,
        "truncated": jpeg[: len(jpeg) // 2],
        "empty": b"",
        # Right markers, broken insides: only the decoder can tell.
        "bad-inside": jpeg[:2] + b"\x00" * (len(jpeg) - 4) + jpeg[-2:],
    }[kind]


class _Server(ThreadingHTTPServer):
    # Non-daemon handler threads, so that server_close() waits until every stream is closed.
    daemon_threads = False


class MjpegServer:
    def __init__(self, port: int = 0, *, fps: float = 25.0, content_length: bool = True,
                 credentials: tuple[str, str] | None = None) -> None:  # fmt: skip
        self.fps = fps
        self.content_length = content_length
        self.credentials = credentials
        self.frames_sent = 0
        self._running = threading.Event()  # cleared while paused
        self._running.set()
        self._stopping = threading.Event()
        self._pending_corrupt: deque[str] = deque()
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", port), self._handler_class())
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/video.mjpg"

    def start(self) -> MjpegServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and drop every open stream (server_close waits for the handler threads)."""
        self._stopping.set()
        self._running.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def send_corrupt(self, *kinds: str) -> None:
        """The next parts sent are these corrupt ones, then good frames again."""
        with self._lock:
            self._pending_corrupt.extend(kinds)

    def corrupt_pending(self) -> int:
        with self._lock:
            return len(self._pending_corrupt)

    def _next_part(self) -> bytes:
        with self._lock:
            if self._pending_corrupt:
                return corrupt_part(self._pending_corrupt.popleft())
            self.frames_sent += 1
            index = self.frames_sent
        return cv2.imencode(".jpg", frame_image(index))[1].tobytes()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                """Quiet: tests read state, not access logs."""

            def do_GET(self) -> None:
                if self.path != "/video.mjpg":
                    self.send_error(404, "no such stream")
                    return
                if server.credentials is not None:
                    expected = "Basic " + base64.b64encode(":".join(server.credentials).encode()).decode()
                    if self.headers.get("Authorization") != expected:
                        self.send_response(401, "Unauthorized")
                        self.send_header("WWW-Authenticate", 'Basic realm="camera"')
                        self.end_headers()
                        return
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
                self.end_headers()
                try:
                    while not server._stopping.is_set():
                        server._running.wait()
                        if server._stopping.is_set():
                            break
                        self._send_part(server._next_part())
                        server._stopping.wait(1.0 / server.fps)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client went away; that is its business

            def _send_part(self, body: bytes) -> None:
                head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                if server.content_length:
                    head += f"Content-Length: {len(body)}\r\n"
                self.wfile.write(head.encode() + b"\r\n" + body + b"\r\n")
                self.wfile.flush()

        return Handler
