"""A barrier and its Modbus RTU relay/IO board, with a motor, a vehicle loop and fault modes.

The board answers function codes 1 (read coils), 2 (read discrete inputs) and 5 (write single
coil), framed and checked by pymodbus's RTU framer. The barrier controller behind it behaves
like a real one: a rising edge on the OPEN coil starts the motor after a delay; the arm stays
up while OPEN is held or the loop is occupied, closes a while after the loop clears, and
reverses if the loop is occupied while it closes.

Control commands (one per line):
  loop on|off                     vehicle on the induction loop
  fault noanswer|garbage|noise|badcrc|truncate [COUNT]
                                  spoil the next COUNT answers (default 1; "fault KIND 0": until cleared)
  fault slow SECONDS [COUNT]      answer SECONDS late
  fault stuck                     the arm stops the next time it passes half-way, and stays there
  fault clear                     end every fault
  stats                           pulses seen, arm position, coils, pending faults
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pymodbus.constants import ExcCodes
from pymodbus.exceptions import ModbusException
from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU, ExceptionResponse, ModbusPDU
from pymodbus.pdu.bit_message import ReadCoilsResponse, ReadDiscreteInputsResponse, WriteSingleCoilResponse

from hardware.sim.runtime import Output

_POINTS = 16  # coils and discrete inputs the board has
_SPOILERS = ("noanswer", "garbage", "noise", "badcrc", "truncate", "slow")


@dataclass(frozen=True)
class BarrierWiring:
    unit_id: int = 1
    open_coil: int = 0
    close_coil: int = 1
    loop_input: int = 0
    arm_up_input: int = 1
    arm_down_input: int = 2


@dataclass(frozen=True)
class Motion:
    motor_delay_s: float = 0.3
    travel_s: float = 1.5
    close_after_s: float = 2.0  # arm up, OPEN released and loop clear this long: the controller closes


class Arm:
    """Arm position 0 (down) .. 1 (up), moved by the controller's own logic."""

    def __init__(self, motion: Motion):
        self._m = motion
        self.position = 0.0
        self.direction = 0  # +1 rising, -1 falling, 0 still
        self.stuck = False
        self._start_up_at: float | None = None
        self._quiet_since = 0.0  # up, OPEN released, loop clear since
        self._last: float | None = None

    def open_edge(self, now: float) -> None:
        self._start_up_at = now + self._m.motor_delay_s

    def step(self, now: float, open_held: bool, loop: bool) -> None:
        dt = 0.0 if self._last is None else max(0.0, now - self._last)
        self._last = now
        if self._start_up_at is not None and now >= self._start_up_at:
            self._start_up_at = None
            self.direction = 1
        if self.direction == -1 and loop:
            self.direction = 1  # never onto a vehicle: the controller reverses
        if self.direction and not (self.stuck and self.position == 0.5):
            before = self.position
            self.position = min(1.0, max(0.0, self.position + self.direction * dt / self._m.travel_s))
            if self.stuck and (before - 0.5) * (self.position - 0.5) <= 0:
                self.position = 0.5  # the fault: it stops half-way and stays there
            if self.position in (0.0, 1.0):
                self.direction = 0
                self._quiet_since = now
        if self.position == 1.0 and (open_held or loop):
            self._quiet_since = now
        if self.position == 1.0 and self.direction == 0 and now - self._quiet_since >= self._m.close_after_s:
            self.direction = -1


class BarrierSim:
    def __init__(self, wiring: BarrierWiring, motion: Motion, output: Output, seed: int):
        self._w = wiring
        self._out = output
        self._rng = random.Random(seed)
        self._framer = FramerRTU(DecodePDU(is_server=True))
        self._buffer = b""
        self.arm = Arm(motion)
        self.coils = [False] * _POINTS
        self.loop = False
        self.open_pulses = 0
        self.requests = 0
        self._spoil: tuple[str, int, float] | None = None  # kind, answers left (-1: until cleared), delay
        self._busy_until = 0.0

    # -- serial line ----------------------------------------------------------------------
    def receive(self, data: bytes, now: float) -> None:
        self._buffer += data
        while self._buffer:
            try:
                used, request = self._framer.handleFrame(self._buffer, 0, 0)
            except (ModbusException, ValueError, IndexError):
                self._buffer = b""  # undecodable: wait for the host to send the next request
                return
            if request is None:
                if not used:
                    return  # incomplete: wait for the rest
                self._buffer = self._buffer[used:]
                continue
            self._buffer = self._buffer[used:]
            if request.dev_id == self._w.unit_id:
                self._answer(request, now)

    def _answer(self, request: ModbusPDU, now: float) -> None:
        self.requests += 1
        kind, delay = self._take_spoiler()
        if kind == "noanswer":
            return  # a dead board does not act on the request either
        frame = self._framer.buildFrame(self._execute(request, now))
        if kind == "garbage":
            frame = self._rng.randbytes(self._rng.randint(1, 12))
        elif kind == "noise":
            frame = self._rng.randbytes(self._rng.randint(1, 12)) + frame
        elif kind == "badcrc":
            frame = frame[:-1] + bytes([frame[-1] ^ 0xFF])
        elif kind == "truncate":
            frame = frame[: self._rng.randint(1, len(frame) - 1)]
        # One request at a time, as a real board: a late answer delays every answer after it.
        self._busy_until = max(now + delay, self._busy_until)
        self._out.send(frame, self._busy_until)

    def _take_spoiler(self) -> tuple[str | None, float]:
        if self._spoil is None:
            return None, 0.0
        kind, left, delay = self._spoil
        if left > 0:
            self._spoil = (kind, left - 1, delay) if left > 1 else None
        return kind, delay

    def _execute(self, request: ModbusPDU, now: float) -> ModbusPDU:
        fc = request.function_code
        if fc not in (1, 2, 5):
            return ExceptionResponse(fc, ExcCodes.ILLEGAL_FUNCTION, device_id=self._w.unit_id)
        count = request.count if fc in (1, 2) else 1
        if request.address + count > _POINTS:
            return ExceptionResponse(fc, ExcCodes.ILLEGAL_ADDRESS, device_id=self._w.unit_id)
        if fc == 5:
            on = bool(request.bits[0])
            if request.address == self._w.open_coil and on and not self.coils[request.address]:
                self.open_pulses += 1
                self.arm.open_edge(now)
            self.coils[request.address] = on
            return WriteSingleCoilResponse(address=request.address, bits=[on], dev_id=self._w.unit_id)
        points = self.coils if fc == 1 else self.inputs()
        bits = points[request.address : request.address + count]
        response = ReadCoilsResponse if fc == 1 else ReadDiscreteInputsResponse
        return response(bits=bits, dev_id=self._w.unit_id)

    def inputs(self) -> list[bool]:
        points = [False] * _POINTS
        points[self._w.loop_input] = self.loop
        points[self._w.arm_up_input] = self.arm.position >= 1.0
        points[self._w.arm_down_input] = self.arm.position <= 0.0
        return points

    # -- model and control ------------------------------------------------------------------
    def tick(self, now: float) -> None:
        self.arm.step(now, self.coils[self._w.open_coil], self.loop)

    def command(self, words: list[str], now: float) -> dict:
        verb = words[0]
        if verb == "loop" and len(words) == 2 and words[1] in ("on", "off"):
            self.loop = words[1] == "on"
            return {"loop": self.loop}
        if verb == "fault" and len(words) >= 2:
            return self._fault(words[1:])
        if verb == "stats" and len(words) == 1:
            return self.stats()
        raise ValueError("unknown command; expected loop on|off, fault KIND [ARGS], stats, unplug, replug, quit")

    def _fault(self, args: list[str]) -> dict:
        kind = args[0]
        if kind == "clear":
            self._spoil = None
            self.arm.stuck = False
        elif kind == "stuck":
            self.arm.stuck = True
        elif kind in _SPOILERS:
            delay = float(args.pop(1)) if kind == "slow" else 0.0
            count = int(args[1]) if len(args) > 1 else 1
            self._spoil = (kind, count if count > 0 else -1, delay)
        else:
            raise ValueError(f"unknown fault {kind!r}; expected one of {', '.join((*_SPOILERS, 'stuck', 'clear'))}")
        return self.stats()

    def stats(self) -> dict:
        arm = self.arm
        state = "up" if arm.position >= 1.0 else "down" if arm.position <= 0.0 else "moving"
        return {
            "open_pulses": self.open_pulses,
            "requests": self.requests,
            "arm": state,
            "position": round(arm.position, 3),
            "stuck": arm.stuck,
            "loop": self.loop,
            "coils": [i for i, on in enumerate(self.coils) if on],
            "spoiling": self._spoil[0] if self._spoil else None,
        }
