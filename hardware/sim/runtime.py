"""The simulator's event loop: serial port, control port, stdin, timed output, device ticks.

Single-threaded on purpose: the device model, its fault modes and the control commands never
race, so what a test asks for is exactly what the product sees on the line.
"""

from __future__ import annotations

import heapq
import itertools
import json
import os
import select
import socket
import sys
import time
from typing import Protocol

from hardware.sim.ports import SimPort

_TICK_S = 0.005


class Output:
    """Bytes the device sends, now or later (a slow device answers late)."""

    def __init__(self) -> None:
        self._queue: list[tuple[float, int, bytes]] = []
        self._order = itertools.count()

    def send(self, data: bytes, at: float) -> None:
        heapq.heappush(self._queue, (at, next(self._order), data))

    def due(self, now: float) -> list[bytes]:
        out = []
        while self._queue and self._queue[0][0] <= now:
            out.append(heapq.heappop(self._queue)[2])
        return out

    def clear(self) -> None:
        self._queue.clear()


class LineBuffer:
    """Command lines out of a byte stream, keeping a partial last line for the next read."""

    def __init__(self) -> None:
        self._rest = b""

    def feed(self, data: bytes) -> list[str]:
        *lines, self._rest = (self._rest + data).split(b"\n")
        return [raw.decode("utf-8", "replace") for raw in lines if raw.strip()]


class SimDevice(Protocol):
    def receive(self, data: bytes, now: float) -> None:
        """Bytes from the host."""
        ...

    def tick(self, now: float) -> None:
        """Advance the model (motors, floods) to `now`."""
        ...

    def command(self, words: list[str], now: float) -> dict:
        """A control command; raises ValueError with a clear message for a bad one."""
        ...


class SimRuntime:
    def __init__(self, name: str, device: SimDevice, output: Output, port: SimPort, control: socket.socket):
        self._name = name
        self._device = device
        self._output = output
        self._port = port
        self._control = control
        self._clients: dict[socket.socket, LineBuffer] = {}
        self._stdin_open = True
        self._stdin_lines = LineBuffer()
        self._replug_at: float | None = None
        self._running = True
        self._parent = os.getppid()

    def ready_line(self) -> str:
        host, port = self._control.getsockname()[:2]
        return json.dumps({"device": self._name, "url": self._port.url, "control": f"{host}:{port}"})

    def run(self) -> None:
        print(self.ready_line(), flush=True)
        # A simulator outlives nobody: when whoever started it dies, it goes too.
        while self._running and os.getppid() == self._parent:
            readable = self._wait()
            now = time.monotonic()
            for fd in readable:
                self._dispatch(fd, now)
            if self._replug_at is not None and now >= self._replug_at:
                self._replug_at = None
                self._port.plug()
            self._device.tick(now)
            for data in self._output.due(now):
                self._port.write(data)

    def _wait(self) -> list:
        watched = [self._control, *self._clients, *self._port.fds()]
        if self._stdin_open:
            watched.append(sys.stdin)
        try:
            readable, _, _ = select.select(watched, [], [], _TICK_S)
        except InterruptedError:
            return []
        return readable

    def _from_stdin(self, now: float) -> None:
        # Raw reads: a buffered readline could hold a second command back from select().
        data = os.read(sys.stdin.fileno(), 65536)
        if not data:
            self._stdin_open = False  # stdin closed: commands come from the control port only
        for line in self._stdin_lines.feed(data):
            print(json.dumps(self.handle(line, now)), flush=True)

    def _dispatch(self, fd: object, now: float) -> None:
        if fd is self._control:
            client, _ = self._control.accept()
            self._clients[client] = LineBuffer()
        elif fd is sys.stdin:
            self._from_stdin(now)
        elif fd in self._clients:
            self._from_client(fd, now)
        else:
            data = self._port.on_readable(fd)
            if data:
                self._device.receive(data, now)

    def _from_client(self, client: socket.socket, now: float) -> None:
        try:
            data = client.recv(65536)
        except OSError:
            data = b""
        if not data:
            del self._clients[client]
            client.close()
            return
        for line in self._clients[client].feed(data):
            reply = self.handle(line, now)
            try:
                client.sendall(json.dumps(reply).encode() + b"\n")
            except OSError:
                break

    def handle(self, line: str, now: float) -> dict:
        """One control command: port-level ones here, the rest to the device."""
        words = line.split()
        try:
            if words[0] == "unplug":
                # "unplug" alone stays unplugged; "unplug SECONDS" replugs by itself.
                self._port.unplug()
                self._output.clear()
                self._replug_at = now + float(words[1]) if len(words) > 1 else None
                return {"ok": True, "plugged": False}
            if words[0] == "replug":
                self._replug_at = None
                self._port.plug()
                return {"ok": True, "plugged": True, "url": self._port.url}
            if words[0] == "quit":
                self._running = False
                return {"ok": True}
            return {"ok": True, **self._device.command(words, now)}
        except (ValueError, IndexError) as exc:
            return {"ok": False, "error": f"{line.strip()!r}: {exc}"}
