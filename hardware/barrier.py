"""The lane barrier, driven through a Modbus RTU relay/IO board.

Safety rules as code:
- the software only pulses the OPEN relay; closing belongs to the barrier controller, so the
  optional CLOSE relay is only ever switched off (on connect, to undo a previous crash);
- `open` refuses unless a fresh read shows the arm at a limit (up or down) over a working link;
- the command's audit record is written (the sink returns) before any byte goes to the relay;
- an arm that does not reach "up" in time after a pulse, or stops between its limits, is a fault.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from hardware.health import DeviceHealth
from hardware.link import LinkDown, SerialLink
from hardware.modbus_rtu import ModbusError, ModbusRtuMaster
from hardware.settings import BarrierSettings


class ArmState(StrEnum):
    DOWN = "down"
    UP = "up"
    MOVING = "moving"  # between the limits
    UNKNOWN = "unknown"  # link down, inputs unreadable, or both limits active at once


@dataclass(frozen=True)
class BarrierStatus:
    health: DeviceHealth
    arm: ArmState
    loop_occupied: bool | None  # None when unknown or no loop is wired
    faults: tuple[str, ...]  # standing faults: stuck arm, failed open, contradictory limits, relay

    def to_json(self) -> dict:
        return {
            "health": self.health.to_json(),
            "arm": self.arm.value,
            "loop_occupied": self.loop_occupied,
            "faults": list(self.faults),
        }


@dataclass(frozen=True)
class BarrierCommand:
    """What is about to be sent to the barrier, and on whose behalf; recorded before it is sent."""

    device: str
    action: str  # "open" is the only action the software takes
    reason: str
    actor: str
    at: datetime

    def to_json(self) -> dict:
        return {
            "device": self.device,
            "action": self.action,
            "reason": self.reason,
            "actor": self.actor,
            "at": self.at.isoformat(),
        }


# Called with every command before it is sent; it must return only once the record is durable.
# If it raises, the command is not sent.
BarrierCommandSink = Callable[[BarrierCommand], None]


class OpenRefused(Exception):
    """The barrier was not opened, and nothing was sent; the message says why."""


class OpenFailed(Exception):
    """The OPEN pulse was attempted but the relay board did not confirm it; the barrier is degraded."""


# Standing-fault keys in the health tracker.
_STUCK = "arm-stuck"
_NOT_UP = "arm-not-up"
_LIMITS = "arm-limits"
_RELAY = "open-relay"


class ModbusBarrier:
    """One barrier. Thread-safe: a poller thread and an officer's open may call it at once."""

    def __init__(self, name: str, settings: BarrierSettings, link: SerialLink, sink: BarrierCommandSink):
        self.name = name
        self._s = settings
        self._link = link
        self._health = link.health
        self._sink = sink
        self._master = ModbusRtuMaster(link, settings.unit_id, settings.response_timeout_s, settings.retries)
        self._lock = threading.Lock()
        wired = (settings.loop_input, settings.arm_up_input, settings.arm_down_input)
        self._inputs = [a for a in wired if a is not None]
        self._safe_since_open = False  # relays forced off since the link last opened
        self._moving_since: float | None = None
        self._up_deadline: float | None = None
        self._last = BarrierStatus(self._health.health, ArmState.UNKNOWN, None, ())

    @property
    def status(self) -> BarrierStatus:
        """The status of the last poll (no I/O)."""
        return self._last

    def poll(self) -> BarrierStatus:
        """Read the inputs once, supervise the arm, and return the status."""
        with self._lock:
            return self._poll()

    def open(self, reason: str, actor: str) -> BarrierStatus:
        """Pulse OPEN once, after a fresh read allows it and the sink has recorded the command.

        Raises OpenRefused (nothing sent) or OpenFailed (pulse not confirmed). Returns the
        status right after the pulse; `poll` then watches the arm reach "up".
        """
        with self._lock:
            status = self._poll()
            if status.arm not in (ArmState.DOWN, ArmState.UP):
                why = "between its limits" if status.arm is ArmState.MOVING else status.health.last_error
                raise OpenRefused(f"{self.name}: arm state is {status.arm.value} ({why})")
            if _STUCK in self._health.conditions() or _LIMITS in self._health.conditions():
                raise OpenRefused(f"{self.name}: standing fault: {'; '.join(status.faults)}")
            command = BarrierCommand(self.name, "open", reason, actor, datetime.now(UTC))
            try:
                self._sink(command)
            except Exception as exc:
                raise OpenRefused(f"{self.name}: the command could not be recorded, so it was not sent: {exc}") from exc
            self._pulse()
            self._up_deadline = time.monotonic() + self._s.travel_timeout_s
            self._health.clear_condition(_NOT_UP)
            return self._status(status.arm, status.loop_occupied)

    def close(self) -> None:
        with self._lock:
            self._link.close()

    def _pulse(self) -> None:
        try:
            self._master.write_coil(self._s.open_coil, True)
            time.sleep(self._s.pulse_s)
        except (ModbusError, LinkDown) as exc:
            self._release_open_relay()
            raise OpenFailed(f"{self.name}: OPEN relay not confirmed: {exc}") from exc
        if not self._release_open_relay():
            raise OpenFailed(f"{self.name}: OPEN relay may still be energised")

    def _release_open_relay(self) -> bool:
        """Switch OPEN off; on failure, keep it a standing fault until a reconnect forces it off."""
        try:
            self._master.write_coil(self._s.open_coil, False)
        except (ModbusError, LinkDown) as exc:
            self._safe_since_open = False
            self._health.set_condition(_RELAY, f"OPEN relay may still be energised: {exc}")
            return False
        self._health.clear_condition(_RELAY)
        return True

    def _make_safe(self) -> None:
        """After (re)connecting, switch both relays off: a crash mid-pulse must not hold the arm open."""
        self._master.write_coil(self._s.open_coil, False)
        if self._s.close_coil is not None:
            self._master.write_coil(self._s.close_coil, False)
        self._health.clear_condition(_RELAY)
        self._safe_since_open = True

    def _poll(self) -> BarrierStatus:
        if not self._link.ensure_open():
            self._safe_since_open = False
            self._moving_since = None
            self._up_deadline = None
            return self._status(ArmState.UNKNOWN, None)
        first = min(self._inputs)
        try:
            if not self._safe_since_open:
                self._make_safe()
            bits = self._master.read_discrete_inputs(first, max(self._inputs) - first + 1)
        except (LinkDown, ModbusError):
            # Time spent unable to see the arm says nothing about whether it is stuck, or whether it
            # went up after a pulse (it may have gone up and down unseen); the outage is the fault shown.
            self._moving_since = None
            self._up_deadline = None
            self._safe_since_open = self._safe_since_open and self._link.is_open
            return self._status(ArmState.UNKNOWN, None)
        up, down = bits[self._s.arm_up_input - first], bits[self._s.arm_down_input - first]
        loop = bits[self._s.loop_input - first] if self._s.loop_input is not None else None
        arm = self._supervise(up, down)
        return self._status(arm, loop)

    def _supervise(self, up: bool, down: bool) -> ArmState:
        now = time.monotonic()
        if up and down:
            self._health.set_condition(_LIMITS, "both arm limits are active: limit switch or wiring fault")
            return ArmState.UNKNOWN
        self._health.clear_condition(_LIMITS)
        arm = ArmState.UP if up else ArmState.DOWN if down else ArmState.MOVING
        if arm is ArmState.MOVING:
            if self._moving_since is None:
                self._moving_since = now
            if now - self._moving_since > self._s.travel_timeout_s:
                self._health.set_condition(
                    _STUCK, f"arm stuck between its limits for more than {self._s.travel_timeout_s:g} s"
                )
        else:
            self._moving_since = None
            self._health.clear_condition(_STUCK)
        if arm is ArmState.UP:
            self._up_deadline = None
            self._health.clear_condition(_NOT_UP)
        elif self._up_deadline is not None and now > self._up_deadline:
            self._up_deadline = None
            self._health.set_condition(
                _NOT_UP, f"arm did not reach up within {self._s.travel_timeout_s:g} s of the OPEN pulse"
            )
        return arm

    def _status(self, arm: ArmState, loop: bool | None) -> BarrierStatus:
        self._last = BarrierStatus(self._health.health, arm, loop, tuple(self._health.conditions().values()))
        return self._last
