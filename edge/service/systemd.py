"""Talking to systemd: readiness, status, stopping, and a watchdog fed by real pipeline progress.

sd_notify is one datagram of newline-separated KEY=VALUE lines sent to the AF_UNIX socket named
in $NOTIFY_SOCKET (a path, or '@name' for the abstract namespace). It is a few lines of socket
code, so there is no dependency on libsystemd. Outside systemd the variable is unset and every
notification is a no-op: `edge run` at a terminal behaves the same.

A watchdog that pings on a timer only proves that the timer thread is alive. `ProgressWatchdog`
pings only while every lane has reported progress recently, from the event loop that also
serves the kiosk and the devices, so a stuck lane worker or a blocked loop both stop the pings
and systemd restarts the service (`WatchdogSec=` with `Restart=on-failure`).

    notifier = Notifier.from_environment()
    watchdog = ProgressWatchdog.from_environment(notifier, [lane.id for lane in config.lanes])
    ...                                      # each lane worker, once per pass of its loop:
    watchdog.beat("lane-1")                  #   (frame processed, or waited for one in vain)
    ...
    notifier.ready("2 lanes, kiosk on 127.0.0.1:8080")
    task = asyncio.create_task(watchdog.run())   # None when systemd set no watchdog
    ...
    notifier.stopping("draining lanes")
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping

log = logging.getLogger(__name__)


class Notifier:
    """Sends sd_notify datagrams to systemd, or nothing when not started by systemd."""

    def __init__(self, address: str | None):
        self.address = address or None
        self._socket: socket.socket | None = None
        if self.address is not None:
            if not self.address.startswith(("/", "@")):
                raise ValueError(f"NOTIFY_SOCKET={self.address!r}: expected an absolute path or @abstract-name")
            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._lock = threading.Lock()

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Notifier:
        return cls(environ.get("NOTIFY_SOCKET"))

    @property
    def enabled(self) -> bool:
        return self._socket is not None

    def send(self, *fields: str) -> bool:
        """Send KEY=VALUE fields in one datagram; False when there is no systemd to tell or it failed.

        Never raises: a notification that cannot be delivered must not take the crossing down
        (systemd will notice the missing READY or pings by itself)."""
        address = self.address
        if self._socket is None or address is None:
            return False
        for field in fields:
            if "=" not in field or "\n" in field:
                raise ValueError(f"sd_notify field {field!r} must be one KEY=VALUE line")
        # '@' names an abstract socket, which the kernel spells with a leading NUL byte.
        target = "\0" + address[1:] if address.startswith("@") else address
        with self._lock:
            try:
                self._socket.sendto("\n".join(fields).encode(), target)
            except OSError as exc:
                log.warning("cannot notify systemd at %s: %s", self.address, exc)
                return False
        return True

    def ready(self, status: str | None = None) -> bool:
        return self.send("READY=1", *_status(status))

    def status(self, text: str) -> bool:
        return self.send(*_status(text))

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def stopping(self, status: str | None = None) -> bool:
        return self.send("STOPPING=1", *_status(status))

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None


def _status(text: str | None) -> tuple[str, ...]:
    # STATUS is one line: a newline would start a new (bogus) field.
    return () if text is None else (f"STATUS={' '.join(text.split())}",)


def watchdog_interval(environ: Mapping[str, str] = os.environ, pid: int | None = None) -> float | None:
    """Seconds within which systemd expects a WATCHDOG=1 from this process, or None if it expects none.

    systemd sets WATCHDOG_USEC (from WatchdogSec=) and WATCHDOG_PID; a PID that is not ours means the
    variables were inherited from a parent that is watched, not this process."""
    text = environ.get("WATCHDOG_USEC")
    if text is None:
        return None
    owner = environ.get("WATCHDOG_PID")
    if owner is not None and owner.strip() != str(os.getpid() if pid is None else pid):
        return None
    try:
        usec = int(text)
    except ValueError:
        raise ValueError(f"WATCHDOG_USEC={text!r} is not a whole number of microseconds") from None
    if usec <= 0:
        raise ValueError(f"WATCHDOG_USEC={text!r} must be positive")
    return usec / 1_000_000


class ProgressWatchdog:
    """Pings systemd's watchdog every half interval, but only while every lane has made progress
    within the last half interval.

    A lane "makes progress" each time its worker completes a pass of its loop (`beat`): a frame
    processed, or a wait for a frame that timed out. A lane whose camera is gone still beats
    (its worker is alive and shows the camera fault on the kiosk; restarting would not bring a
    camera back); a worker stuck inside a frame does not. After a stall, systemd restarts the
    service within 1.5 watchdog intervals: up to half an interval to notice, one to time out.
    """

    def __init__(self, notifier: Notifier, lanes: Iterable[str], interval_s: float,
                 clock: Callable[[], float] = time.monotonic):  # fmt: skip
        if interval_s <= 0:
            raise ValueError(f"watchdog interval must be positive, got {interval_s!r}")
        self._notifier = notifier
        self.interval_s = interval_s
        self.period_s = interval_s / 2
        self._clock = clock
        self._lock = threading.Lock()
        now = clock()
        # Starting counts as progress, so the first pings do not wait for the first frames.
        self._last = dict.fromkeys(lanes, now)
        if not self._last:
            raise ValueError("a progress watchdog needs at least one lane to watch")
        self._withheld = False

    @classmethod
    def from_environment(cls, notifier: Notifier, lanes: Iterable[str],
                         environ: Mapping[str, str] = os.environ) -> ProgressWatchdog | None:  # fmt: skip
        """The watchdog systemd asked for, or None when the unit has no WatchdogSec=."""
        interval = watchdog_interval(environ)
        return None if interval is None else cls(notifier, lanes, interval)

    def beat(self, lane: str) -> None:
        """Lane `lane` completed a pass of its loop; call from any thread."""
        now = self._clock()
        with self._lock:
            if lane not in self._last:
                raise KeyError(f"lane {lane!r} is not watched (watched: {', '.join(self._last)})")
            self._last[lane] = now

    def stalled(self) -> dict[str, float]:
        """Lanes without progress for longer than the period, with the seconds since their last beat."""
        now = self._clock()
        with self._lock:
            return {lane: now - last for lane, last in self._last.items() if now - last > self.period_s}

    def check(self) -> bool:
        """Ping if every lane progressed; otherwise withhold the ping and say which lanes did not."""
        stalled = self.stalled()
        if stalled:
            if not self._withheld:
                described = ", ".join(f"{lane} ({age:.1f} s)" for lane, age in sorted(stalled.items()))
                log.error("watchdog ping withheld: no progress in %s", described)
                self._notifier.status(f"watchdog withheld: no progress in {described}")
            self._withheld = True
            return False
        if self._withheld:
            log.warning("every lane is progressing again; watchdog pings resume")
            self._notifier.status("every lane is progressing")
            self._withheld = False
        return self._notifier.watchdog()

    async def run(self) -> None:
        """Check every period until cancelled; run it on the service's event loop, so that a blocked
        loop also stops the pings."""
        while True:
            self.check()
            await asyncio.sleep(self.period_s)
