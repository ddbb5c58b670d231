"""Device health: online, degraded or offline, with the last error, and who is told when it changes.

Every fault a device driver sees lands here, so "every fault is visible" is one rule in one place:
a fault moves the device to DEGRADED (or OFFLINE when the link itself is gone) and calls the
listener; only a run of good exchanges, with no standing condition, brings it back to ONLINE.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

log = logging.getLogger(__name__)


class DeviceState(StrEnum):
    ONLINE = "online"
    DEGRADED = "degraded"  # answering, but something went wrong recently or is still wrong
    OFFLINE = "offline"  # cannot be reached


@dataclass(frozen=True)
class DeviceHealth:
    device: str
    state: DeviceState
    last_error: str | None
    changed_at: float  # wall-clock seconds, for people and logs

    def to_json(self) -> dict:
        return {
            "device": self.device,
            "state": self.state.value,
            "last_error": self.last_error,
            "changed_at": self.changed_at,
        }


HealthListener = Callable[[DeviceHealth], None]


class HealthTracker:
    """The health of one device, updated by its link and driver, reported to one listener."""

    def __init__(self, device: str, recover_after: int, listener: HealthListener | None = None):
        self._device = device
        self._recover_after = recover_after
        self._listener = listener
        self._lock = threading.Lock()
        self._good_in_a_row = 0
        self._conditions: dict[str, str] = {}
        self._health = DeviceHealth(device, DeviceState.OFFLINE, None, time.time())  # never opened yet

    @property
    def health(self) -> DeviceHealth:
        return self._health

    def offline(self, error: str) -> None:
        """The link is gone (unplugged, refused, I/O error, or the device stopped answering)."""
        self._change(DeviceState.OFFLINE, error, reset_good=True, leaves_offline=True)

    def connected(self) -> None:
        """The link opened (again); the device still has to prove itself with good exchanges."""
        self._change(DeviceState.DEGRADED, self._health.last_error, reset_good=True, leaves_offline=True)

    def fault(self, error: str) -> None:
        """A recoverable fault on a working link: bad frame, timeout, wrong checksum, noise."""
        self._change(DeviceState.DEGRADED, error, reset_good=True)

    def set_condition(self, key: str, error: str) -> None:
        """A fault that stands until cleared (an arm stuck half-way, a flooded line)."""
        with self._lock:
            new = self._conditions.get(key) != error
            self._conditions[key] = error
        if new:
            self._change(DeviceState.DEGRADED, error, reset_good=True)

    def clear_condition(self, key: str) -> None:
        with self._lock:
            self._conditions.pop(key, None)

    def conditions(self) -> dict[str, str]:
        with self._lock:
            return dict(self._conditions)

    def good(self) -> None:
        """One exchange that went right."""
        with self._lock:
            self._good_in_a_row += 1
            recovered = (
                self._health.state is not DeviceState.ONLINE
                and self._good_in_a_row >= self._recover_after
                and not self._conditions
            )
        if recovered:
            self._change(DeviceState.ONLINE, self._health.last_error, reset_good=False)

    def _change(self, state: DeviceState, error: str | None, reset_good: bool, leaves_offline: bool = False) -> None:
        with self._lock:
            if reset_good:
                self._good_in_a_row = 0
            old = self._health
            if old.state is DeviceState.OFFLINE and not leaves_offline:
                # Only reopening the link ends OFFLINE; a late fault from a half-finished exchange
                # (or a good one racing an unplug) must not make a lost device look reachable.
                return
            if old.state is state and old.last_error == error:
                return
            self._health = DeviceHealth(self._device, state, error, time.time())
            health = self._health
        if self._listener is not None:
            try:
                self._listener(health)
            except Exception:
                # A broken listener must not take the device driver (and the barrier) down with it.
                log.exception("health listener failed for %s", self._device)
