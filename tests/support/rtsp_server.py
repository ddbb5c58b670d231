"""A real RTSP camera for tests: RTSP 1.0 (RFC 2326) serving RTP/JPEG (RFC 2435) interleaved on TCP.

No RTSP server is packaged for this machine's Python, so this one speaks just enough of the protocol
for FFmpeg (what OpenCV's VideoCapture uses) to play it: OPTIONS, DESCRIBE, SETUP (TCP interleaved;
UDP is refused with 461 so the client falls back), PLAY, GET_PARAMETER and TEARDOWN. Frames are
made with numpy and encoded by cv2 with the baseline Huffman tables that RTP/JPEG assumes.
"""

from __future__ import annotations

import contextlib
import random
import socket
import struct
import threading

import cv2
import numpy as np

WIDTH, HEIGHT = 320, 240  # RTP/JPEG carries sizes in units of 8 pixels
_MAX_PAYLOAD = 1400
_SDP = (
    "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=test camera\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"
    "m=video 0 RTP/AVP 26\r\na=rtpmap:26 JPEG/90000\r\na=control:track1\r\n"
)


def rtsp_frame(index: int) -> np.ndarray:
    return np.full((HEIGHT, WIDTH, 3), (index * 7) % 256, dtype=np.uint8)


def _jpeg_scan_and_tables(jpeg: bytes) -> tuple[bytes, bytes]:
    """The entropy-coded scan (without EOI) and the two quantisation tables of a baseline JPEG."""
    tables: dict[int, bytes] = {}
    pos = 2
    while pos < len(jpeg):
        marker, length = jpeg[pos + 1], struct.unpack(">H", jpeg[pos + 2 : pos + 4])[0]
        segment = jpeg[pos + 4 : pos + 2 + length]
        if marker == 0xDB:  # DQT: one or more 8-bit tables, each id byte + 64 bytes in zigzag order
            for offset in range(0, len(segment), 65):
                tables[segment[offset] & 0x0F] = segment[offset + 1 : offset + 65]
        if marker == 0xDA:  # SOS: the scan runs from here to the EOI marker
            scan = jpeg[pos + 2 + length :]
            return scan.removesuffix(b"\xff\xd9"), tables[0] + tables[1]
        pos += 2 + length
    raise ValueError("no scan in JPEG")


def rtp_jpeg_packets(jpeg: bytes, seq: int, timestamp: int, ssrc: int) -> list[bytes]:
    scan, qtables = _jpeg_scan_and_tables(jpeg)
    packets = []
    offset = 0
    while offset < len(scan):
        # Type 1 = 4:2:0 (cv2's default sampling); Q 255 = quantisation tables sent in-band.
        header = struct.pack(">BBHBBBB", 0, offset >> 16, offset & 0xFFFF, 1, 255, WIDTH // 8, HEIGHT // 8)
        if offset == 0:
            header += struct.pack(">BBH", 0, 0, len(qtables)) + qtables
        chunk = scan[offset : offset + _MAX_PAYLOAD]
        offset += len(chunk)
        marker = 0x80 if offset >= len(scan) else 0
        rtp = struct.pack(">BBHII", 0x80, marker | 26, (seq + len(packets)) & 0xFFFF, timestamp, ssrc)
        packets.append(rtp + header + chunk)
    return packets


class RtspServer:
    def __init__(self, port: int = 0, *, fps: float = 25.0) -> None:
        self.fps = fps
        self.frames_sent = 0
        self._stopping = threading.Event()
        self._running = threading.Event()  # cleared while paused
        self._running.set()
        self._listener = socket.create_server(("127.0.0.1", port), reuse_port=False)
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/stream"

    def start(self) -> RtspServer:
        self._spawn(self._accept_loop)
        return self

    def stop(self) -> None:
        """Stop serving and drop every session, like a camera losing power."""
        self._stopping.set()
        self._running.set()
        with self._lock:
            for conn in self._connections:
                with contextlib.suppress(OSError):  # already closed by its client
                    conn.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join()
        self._listener.close()

    def pause(self) -> None:
        """Keep the session open but send nothing, like a hung camera."""
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            with self._lock:
                self._connections.append(conn)
            self._spawn(self._session, conn)

    def _session(self, conn: socket.socket) -> None:
        send_lock = threading.Lock()
        reader = conn.makefile("rb")
        try:
            while not self._stopping.is_set():
                first = reader.read(1)
                if not first:
                    return
                if first == b"$":  # interleaved RTCP from the client: read past it
                    _channel, length = struct.unpack(">BH", reader.read(3))
                    reader.read(length)
                    continue
                request = [(first + reader.readline()).decode().strip()]
                while line := reader.readline().decode().strip():
                    request.append(line)
                if self._answer(conn, send_lock, request):
                    return
        except OSError:
            return  # the client went away, or stop() shut the socket
        finally:
            conn.close()

    def _answer(self, conn: socket.socket, send_lock: threading.Lock, request: list[str]) -> bool:
        """Reply to one request; True when the session is over."""
        method = request[0].split()[0]
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in request[1:])}
        reply = [f"CSeq: {headers.get('cseq', '0')}", "Session: 12345678;timeout=60"]
        body = ""
        status = "200 OK"
        if method == "OPTIONS":
            reply.append("Public: OPTIONS, DESCRIBE, SETUP, PLAY, GET_PARAMETER, TEARDOWN")
        elif method == "DESCRIBE":
            body = _SDP
            reply += ["Content-Type: application/sdp", f"Content-Base: {self.url}/"]
        elif method == "SETUP":
            if "TCP" not in headers.get("transport", ""):
                status = "461 Unsupported Transport"
            else:
                reply.append("Transport: RTP/AVP/TCP;unicast;interleaved=0-1")
        elif method == "PLAY":
            reply.append("Range: npt=0.000-")
        elif method not in ("GET_PARAMETER", "TEARDOWN"):
            status = "501 Not Implemented"
        reply.append(f"Content-Length: {len(body.encode())}")
        with send_lock:
            conn.sendall((f"RTSP/1.0 {status}\r\n" + "\r\n".join(reply) + "\r\n\r\n" + body).encode())
        if method == "PLAY":
            self._spawn(self._stream, conn, send_lock)
        return method == "TEARDOWN"

    def _stream(self, conn: socket.socket, send_lock: threading.Lock) -> None:
        seq, ssrc = random.randrange(1 << 16), random.randrange(1 << 32)
        while not self._stopping.is_set():
            self._running.wait()
            self.frames_sent += 1
            jpeg = cv2.imencode(".jpg", rtsp_frame(self.frames_sent))[1].tobytes()
            timestamp = round(self.frames_sent * 90000 / self.fps) & 0xFFFFFFFF
            packets = rtp_jpeg_packets(jpeg, seq, timestamp, ssrc)
            seq += len(packets)
            try:
                with send_lock:
                    for packet in packets:
                        conn.sendall(b"$\x00" + struct.pack(">H", len(packet)) + packet)
            except OSError:
                return
            self._stopping.wait(1.0 / self.fps)
