"""A serial link opened by URL, that reconnects with back-off and reports its health.

Every device is opened through pyserial's `serial_for_url`, so one code path serves a USB
adapter (`/dev/ttyUSB0`, or a udev name like `/dev/checkpoint/lane1-barrier`), a serial
device server (`socket://host:port`, `rfc2217://host:port`) and a loopback (`loop://`).
An unplug or I/O error closes the port and marks the device OFFLINE; `ensure_open` then
retries no more often than the back-off allows, so a dead device costs almost nothing.
"""

from __future__ import annotations

import contextlib
import select
import termios
import time
from typing import NoReturn

import serial

from hardware.health import HealthListener, HealthTracker
from hardware.settings import SerialLinkSettings

# What a port can raise when the device goes away; termios.error is no OSError (a pty whose other end closed).
_PORT_ERRORS = (serial.SerialException, OSError, termios.error)

# A read waits at most this long for input, so callers keep their own deadlines to within it.
_READ_SLICE_S = 0.01


class LinkDown(Exception):
    """The port is not open, or it failed under us; the link is already OFFLINE and reconnecting."""


class SerialLink:
    def __init__(self, settings: SerialLinkSettings, health: HealthTracker):
        self._settings = settings
        self.health = health
        self._port: serial.SerialBase | None = None
        self._retry_at = 0.0
        self._backoff = settings.reconnect_initial_s

    @classmethod
    def for_device(
        cls, device: str, settings: SerialLinkSettings, listener: HealthListener | None = None
    ) -> SerialLink:
        """A link with its own health tracker, reported to `listener`."""
        return cls(settings, HealthTracker(device, settings.recover_after, listener))

    @property
    def url(self) -> str:
        return self._settings.url

    @property
    def is_open(self) -> bool:
        return self._port is not None

    def ensure_open(self) -> bool:
        """Open the port if it is closed and the back-off allows another try; True if it is open."""
        if self._port is not None:
            return True
        now = time.monotonic()
        if now < self._retry_at:
            return False
        s = self._settings
        try:
            self._port = serial.serial_for_url(
                s.url,
                baudrate=s.baudrate,
                bytesize=s.bytesize,
                parity=s.parity,
                stopbits=s.stopbits,
                # Non-blocking reads; read_some waits itself. A timeout would make pyserial wait for all
                # `limit` bytes, and socket:// cannot say how many are waiting (in_waiting is 0 or 1).
                timeout=0,
                write_timeout=s.write_timeout_s,
            )
        except (*_PORT_ERRORS, ValueError) as exc:
            self._retry_at = now + self._backoff
            self._backoff = min(self._backoff * 2, s.reconnect_max_s)
            self.health.offline(f"cannot open {s.url}: {exc}")
            return False
        self._backoff = s.reconnect_initial_s
        self.health.connected()
        return True

    def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            # The port is being dropped because it failed; closing it can fail too.
            with contextlib.suppress(*_PORT_ERRORS):
                port.close()

    def drop(self, error: str) -> None:
        """Close the port because the device is unusable; reopen after the back-off."""
        self.close()
        self._retry_at = time.monotonic() + self._backoff
        self.health.offline(error)

    def write(self, data: bytes) -> None:
        port = self._open_port()
        try:
            port.write(data)
            port.flush()
        except _PORT_ERRORS as exc:
            self._lost(exc)

    def read_some(self, limit: int) -> bytes:
        """Up to `limit` bytes: what has arrived, else whatever arrives within one short read slice."""
        port = self._open_port()
        try:
            data = port.read(limit)
            if data:
                return data
            _wait_readable(port)
            return port.read(limit)
        except _PORT_ERRORS as exc:
            self._lost(exc)

    def discard_input(self) -> None:
        """Drop bytes that arrived before a request, so they are not taken for its answer."""
        port = self._open_port()
        try:
            port.reset_input_buffer()
        except _PORT_ERRORS as exc:
            self._lost(exc)

    def drain(self, quiet_s: float, max_s: float) -> None:
        """Discard input until the line has been quiet for `quiet_s` (at most `max_s`).

        After a timeout a slow device may still answer; draining keeps that late answer from
        being taken as the answer to the next request.
        """
        deadline = time.monotonic() + max_s
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            if self.read_some(4096):
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= quiet_s:
                return

    def _open_port(self) -> serial.SerialBase:
        if self._port is None:
            raise LinkDown(f"{self._settings.url} is not open")
        return self._port

    def _lost(self, exc: BaseException) -> NoReturn:
        self.drop(f"{self._settings.url} failed: {exc}")
        raise LinkDown(str(exc)) from exc


def _wait_readable(port: serial.SerialBase) -> None:
    """Wait up to one read slice for input: select() where the port has a descriptor, else a short sleep."""
    fileno = getattr(port, "fileno", None)  # posix ports and socket:// have one; loop:// and rfc2217:// do not
    if fileno is None:
        time.sleep(_READ_SLICE_S)
    else:
        select.select([fileno()], [], [], _READ_SLICE_S)
