"""Whether the state directory still takes writes, and the alarm raised while it does not.

Every record the crossing keeps (audit log, outbox, history, accounts) lives in the state
directory. When its disk fills up or turns read-only the service keeps running, and whatever must
be recorded before it takes effect is refused; this module names the problem in words, raises
the alarm the kiosk, /readyz, /metrics and the log show, and clears it by itself once a probe
write (a small file written, fsynced and removed) works again.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

PROBE_NAME = ".storage-probe"
PROBE_BYTES = 4096  # one page: roughly what the next audit record and its outbox copy need
PROBE_INTERVAL_S = 5.0

# errno -> (reason label for metrics, words for the officer and the log)
_PROBLEMS = {
    errno.ENOSPC: ("full", "the state disk is full"),
    errno.EDQUOT: ("full", "the state disk quota is used up"),
    errno.EROFS: ("read_only", "the state disk is read-only"),
    errno.EACCES: ("denied", "the state directory may not be written (permission denied)"),
    errno.EPERM: ("denied", "the state directory may not be written (permission denied)"),
}
REASONS = ("full", "read_only", "denied", "error")


@dataclass(frozen=True)
class StorageAlarm:
    reason: str  # one of REASONS
    problem: str  # in words: "the state disk is full"
    since: float  # when the alarm was raised (unix seconds)

    def to_json(self) -> dict:
        return {"reason": self.reason, "problem": self.problem, "since": self.since}


def probe(directory: Path) -> tuple[str, str] | None:
    """Write, fsync and remove a small file in `directory`; (reason, problem) if that fails, else None."""
    path = directory / PROBE_NAME
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            data = memoryview(b"\0" * PROBE_BYTES)
            while data:
                data = data[os.write(fd, data):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.unlink(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)  # give back what a short write took (impossible when read-only)
        return _PROBLEMS.get(exc.errno or 0, ("error", f"the state disk cannot be written: {exc.strerror or exc}"))
    return None


class StorageMonitor:
    """Probes `directory` every PROBE_INTERVAL_S (and whenever check() is called, e.g. right after a
    record was refused). `on_change` gets the new alarm, or None when it clears; `on_writable` is
    called after every probe that worked (the recorder catches up on what the outbox missed)."""

    def __init__(self, directory: Path, on_change: Callable[[StorageAlarm | None], None] | None = None,
                 on_writable: Callable[[], None] | None = None, interval_s: float = PROBE_INTERVAL_S):
        self.directory = directory
        self._on_change = on_change
        self._on_writable = on_writable
        self._interval_s = interval_s
        self._lock = threading.Lock()
        self._alarm: StorageAlarm | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="storage-probe", daemon=True)

    @property
    def alarm(self) -> StorageAlarm | None:
        return self._alarm

    def check(self) -> str | None:
        """Probe now; raise or clear the alarm; returns the problem in words, None when writes work."""
        found = probe(self.directory)
        with self._lock:
            before = self._alarm
            if found is None:
                self._alarm = None
            elif before is None or before.reason != found[0]:
                self._alarm = StorageAlarm(found[0], found[1], time.time())
            after = self._alarm
        if after != before:
            self._announce(after)
        return after.problem if after is not None else None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _announce(self, alarm: StorageAlarm | None) -> None:
        if alarm is not None:
            log.error("storage alarm: %s (%s); whatever must be recorded first is refused until it clears",
                      alarm.problem, self.directory, extra={"device": "state disk"})
        else:
            log.warning("storage alarm cleared: %s takes writes again", self.directory, extra={"device": "state disk"})
        if self._on_change is not None:
            self._on_change(alarm)

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                if self.check() is None and self._on_writable is not None:
                    self._on_writable()
            except Exception:
                # A probe that fails in an unexpected way must not end the probing.
                log.exception("storage probe failed")
