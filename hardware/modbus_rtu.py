"""Modbus RTU master over a SerialLink: pymodbus builds and checks the frames, we own the line.

pymodbus's own clients hide retries, reconnects and timeouts behind their transport; a barrier
needs each of those decided explicitly, so this master uses pymodbus only for what it does
well (PDU encoding, the RTU framer and its CRC) and runs each transaction itself:
discard stale input, send, collect the answer until the deadline, check it matches the request.
Every failed attempt is reported to the device's health before it is retried.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pymodbus.exceptions import ModbusException
from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU, ModbusPDU
from pymodbus.pdu.bit_message import ReadCoilsRequest, ReadDiscreteInputsRequest, WriteSingleCoilRequest

from hardware.link import SerialLink

ResponseCheck = Callable[[ModbusPDU], str | None]


# Transactions failing in a row before the link is closed and reopened: a device server whose TCP
# connection died without a reset, or an adapter in a bad state, only recovers that way.
_REOPEN_AFTER = 3


class ModbusError(Exception):
    """A transaction that failed after every retry; the message says how the last attempt failed."""


def rtu_frame(request: ModbusPDU) -> bytes:
    """The bytes of `request` on the wire: unit id, PDU, CRC-16 (low byte first)."""
    return FramerRTU(DecodePDU(is_server=False)).buildFrame(request)


class ModbusRtuMaster:
    def __init__(self, link: SerialLink, unit_id: int, response_timeout_s: float, retries: int):
        self._link = link
        self._unit = unit_id
        self._timeout = response_timeout_s
        self._retries = retries
        self._framer = FramerRTU(DecodePDU(is_server=False))
        self._failed_in_a_row = 0

    def read_discrete_inputs(self, address: int, count: int) -> list[bool]:
        request = ReadDiscreteInputsRequest(address=address, count=count, dev_id=self._unit)
        return list(self._transact(request, _bits_check(count)).bits[:count])

    def read_coils(self, address: int, count: int) -> list[bool]:
        request = ReadCoilsRequest(address=address, count=count, dev_id=self._unit)
        return list(self._transact(request, _bits_check(count)).bits[:count])

    def write_coil(self, address: int, on: bool) -> None:
        """Set one coil. Safe to retry: writing the same value twice makes no second edge."""
        request = WriteSingleCoilRequest(address=address, bits=[on], dev_id=self._unit)

        def echoed(response: ModbusPDU) -> str | None:
            if response.address != address or bool(response.bits and response.bits[0]) != on:
                return f"write echo is coil {response.address}={response.bits}, not coil {address}={on}"
            return None

        self._transact(request, echoed)

    def _transact(self, request: ModbusPDU, check: ResponseCheck) -> ModbusPDU:
        frame = rtu_frame(request)
        what = f"{type(request).__name__.removesuffix('Request')} at {request.address}"
        problem: str | None = "not attempted"
        for _attempt in range(self._retries + 1):
            self._link.discard_input()
            self._link.write(frame)
            response, problem = self._receive(request.function_code)
            if response is not None:
                noise, problem = problem, check(response)
                if problem is None:
                    # A good answer wrapped in noise is used, but the noise is still a fault to show.
                    if noise:
                        self._link.health.fault(f"{what}: {noise}")
                    else:
                        self._link.health.good()
                    self._failed_in_a_row = 0
                    return response
            self._link.health.fault(f"{what}: {problem}")
            # Wait out a late answer; one later than this could still be taken for the next answer.
            self._link.drain(quiet_s=self._timeout, max_s=2 * self._timeout)
        error = f"{what}: {problem} (after {self._retries + 1} attempts)"
        self._failed_in_a_row += 1
        if self._failed_in_a_row >= _REOPEN_AFTER:
            self._failed_in_a_row = 0
            self._link.drop(f"no valid answer in {_REOPEN_AFTER} transactions, reopening the link; last: {error}")
        raise ModbusError(error)

    def _receive(self, function_code: int) -> tuple[ModbusPDU | None, str]:
        """The answer and "" (or a note about noise around it), or None and what went wrong."""
        deadline = time.monotonic() + self._timeout
        buffer = b""
        discarded = 0
        while time.monotonic() < deadline:
            buffer += self._link.read_some(256)
            if not buffer:
                continue
            try:
                used, pdu = self._framer.handleFrame(buffer, self._unit, 0)
            except (ModbusException, ValueError, IndexError) as exc:
                return None, f"undecodable response ({exc})"
            if pdu is not None:
                if pdu.function_code == function_code | 0x80:
                    return None, f"device answered with Modbus exception {pdu.exception_code}"
                if pdu.function_code != function_code:
                    return None, f"answer has function code {pdu.function_code}, expected {function_code}"
                extra = discarded + used - len(self._framer.buildFrame(pdu))
                return pdu, f"{extra} bytes of noise around the answer" if extra else ""
            discarded += used
            buffer = buffer[used:]
        if discarded:
            return None, f"{discarded} bytes of noise or bad CRC, no valid answer within {self._timeout:g} s"
        if buffer:
            return None, f"truncated answer ({len(buffer)} bytes) within {self._timeout:g} s"
        return None, f"no answer within {self._timeout:g} s"


def _bits_check(count: int) -> ResponseCheck:
    expected = 8 * ((count + 7) // 8)  # bits come packed in whole bytes

    def check(response: ModbusPDU) -> str | None:
        if len(response.bits) != expected:
            return f"answer has {len(response.bits)} bits, expected {expected}"
        return None

    return check

