"""The simulated device's end of the serial line: a TCP port or a pty pair, unpluggable.

Writes never block: a real device does not wait for its host, so bytes that do not fit
(the host is not reading, or the line is flooded) are dropped, as on a real UART.
"""

from __future__ import annotations

import contextlib
import os
import pty
import socket
import tty
from pathlib import Path
from typing import Protocol


class SimPort(Protocol):
    @property
    def url(self) -> str:
        """What the product opens: socket://host:port, or the pty path (the symlink if there is one)."""
        ...

    def fds(self) -> list:
        """Objects to watch for reading (sockets or file descriptors); empty while unplugged."""
        ...

    def on_readable(self, fd: object) -> bytes:
        """Handle one readable object; the bytes the host sent, possibly none."""
        ...

    def write(self, data: bytes) -> int: ...
    def plug(self) -> None: ...
    def unplug(self) -> None: ...


class TcpPort:
    """One host at a time, like a serial line; a new connection replaces the old (a reconnecting host)."""

    def __init__(self, host: str, port: int):
        self._host = host
        self._port = port
        self._listener: socket.socket | None = None
        self._conn: socket.socket | None = None
        self.plug()

    @property
    def url(self) -> str:
        return f"socket://{self._host}:{self._port}"

    def plug(self) -> None:
        if self._listener is not None:
            return
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self._host, self._port))
        listener.listen(4)
        self._port = listener.getsockname()[1]  # the real port when 0 was asked for
        self._listener = listener

    def unplug(self) -> None:
        self._drop_conn()
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def fds(self) -> list:
        return [s for s in (self._listener, self._conn) if s is not None]

    def on_readable(self, fd: object) -> bytes:
        if fd is self._listener and self._listener is not None:
            conn, _ = self._listener.accept()
            conn.setblocking(False)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._drop_conn()
            self._conn = conn
            return b""
        if fd is not self._conn or self._conn is None:
            return b""
        try:
            data = self._conn.recv(65536)
        except (BlockingIOError, InterruptedError):
            return b""
        except OSError:
            data = b""
        if not data:
            self._drop_conn()
        return data

    def write(self, data: bytes) -> int:
        if self._conn is None:
            return 0
        try:
            return self._conn.send(data)
        except (BlockingIOError, InterruptedError):
            return 0
        except OSError:
            self._drop_conn()
            return 0

    def _drop_conn(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class PtyPort:
    """A pty pair; unplugging closes it, replugging makes a new one (the symlink follows it)."""

    def __init__(self, link: Path | None):
        self._link = link
        self._master: int | None = None
        self._slave: int | None = None
        self._slave_path = ""
        self.plug()

    @property
    def url(self) -> str:
        return str(self._link) if self._link is not None else self._slave_path

    def plug(self) -> None:
        if self._master is not None:
            return
        master, slave = pty.openpty()
        # Raw, so the line discipline neither echoes nor translates what the device sends.
        tty.setraw(slave)
        os.set_blocking(master, False)
        # Keeping the slave open means the master never sees EIO between host sessions.
        self._master, self._slave = master, slave
        self._slave_path = os.ttyname(slave)
        if self._link is not None:
            tmp = self._link.with_name(self._link.name + ".new")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            tmp.symlink_to(self._slave_path)
            tmp.replace(self._link)

    def unplug(self) -> None:
        if self._link is not None:
            with contextlib.suppress(FileNotFoundError):
                self._link.unlink()
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None

    def fds(self) -> list:
        return [self._master] if self._master is not None else []

    def on_readable(self, fd: object) -> bytes:
        if self._master is None:
            return b""
        try:
            return os.read(self._master, 65536)
        except (BlockingIOError, InterruptedError):
            return b""

    def write(self, data: bytes) -> int:
        if self._master is None:
            return 0
        try:
            return os.write(self._master, data)
        except (BlockingIOError, InterruptedError):
            return 0
