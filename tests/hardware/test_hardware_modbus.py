"""Modbus RTU: frames on the wire, and a master that survives what a serial line does to answers."""

from __future__ import annotations

import os
import pty
import threading
import tty

import pytest
from pymodbus.pdu.bit_message import ReadCoilsRequest, ReadDiscreteInputsRequest, WriteSingleCoilRequest

from hardware.health import DeviceState
from hardware.link import SerialLink
from hardware.modbus_rtu import ModbusError, ModbusRtuMaster, rtu_frame
from hardware.sim.client import SimProcess
from tests.support.hardware_helpers import DEADLINE_S, HealthLog, link_config

pytestmark = pytest.mark.slow  # real processes and waits: seconds per test


@pytest.mark.parametrize(
    ("request_pdu", "frame"),
    [
        (WriteSingleCoilRequest(address=0, bits=[True], dev_id=1), "01 05 00 00 FF 00 8C 3A"),
        (WriteSingleCoilRequest(address=0, bits=[False], dev_id=1), "01 05 00 00 00 00 CD CA"),
        # The examples of the Modbus specification's function code pages, unit 17.
        (ReadCoilsRequest(address=0x13, count=0x25, dev_id=0x11), "11 01 00 13 00 25 0E 84"),
        (ReadDiscreteInputsRequest(address=0xC4, count=0x16, dev_id=0x11), "11 02 00 C4 00 16 BA A9"),
        (WriteSingleCoilRequest(address=0xAC, bits=[True], dev_id=0x11), "11 05 00 AC FF 00 4E 8B"),
    ],
)
def test_rtu_frames_match_known_bytes(request_pdu, frame):
    assert rtu_frame(request_pdu) == bytes.fromhex(frame)


def test_master_puts_the_known_frame_on_a_real_pty():
    master_fd, slave_fd = pty.openpty()
    tty.setraw(slave_fd)
    seen = bytearray()

    def relay_board():
        # Read the 8-byte request and echo it: a write-single-coil answer is the request itself.
        while len(seen) < 8:
            seen.extend(os.read(master_fd, 8 - len(seen)))
        os.write(master_fd, bytes(seen))

    board = threading.Thread(target=relay_board, daemon=True)
    board.start()
    health = HealthLog()
    link = SerialLink.for_device("relay", link_config(os.ttyname(slave_fd), baudrate=19200), health)
    try:
        assert link.ensure_open()
        ModbusRtuMaster(link, unit_id=1, response_timeout_s=DEADLINE_S, retries=0).write_coil(0, True)
    finally:
        link.close()
        board.join(DEADLINE_S)
        os.close(master_fd)
        os.close(slave_fd)
    assert bytes(seen) == bytes.fromhex("01 05 00 00 FF 00 8C 3A")
    assert health.states()[-1] is DeviceState.DEGRADED  # opened; one good exchange is not yet enough


@pytest.fixture
def board():
    with SimProcess("barrier", "--tcp", "0") as sim:
        yield sim


def _master(url: str, health: HealthLog, retries: int = 1) -> tuple[SerialLink, ModbusRtuMaster]:
    link = SerialLink.for_device("relay", link_config(url), health)
    assert link.ensure_open()
    return link, ModbusRtuMaster(link, unit_id=1, response_timeout_s=0.2, retries=retries)


def test_master_reads_and_writes_the_simulated_board(board):
    link, master = _master(board.url, HealthLog())
    board.command("loop on")
    assert master.read_discrete_inputs(0, 3) == [True, False, True]  # loop, not up, down
    master.write_coil(1, True)
    assert master.read_coils(0, 2) == [False, True]
    assert board.command("stats")["coils"] == [1]
    link.close()


@pytest.mark.parametrize("fault", ["garbage", "noise", "badcrc", "truncate", "noanswer", "slow 0.5"])
def test_a_spoiled_answer_is_a_visible_fault_and_the_retry_recovers(board, fault):
    health = HealthLog()
    link, master = _master(board.url, health)
    for _ in range(2):
        master.read_discrete_inputs(0, 3)
    assert link.health.health.state is DeviceState.ONLINE
    board.command(f"fault {fault}")
    assert master.read_discrete_inputs(0, 3) == [False, False, True]
    assert health.changes[-1].state is DeviceState.DEGRADED
    assert health.changes[-1].last_error.startswith("ReadDiscreteInputs at 0:")
    # Good exchanges bring it back. On a loaded machine a slow answer's late bytes can still spoil
    # the next exchange or two (seen as noise: correct), so allow a few before it must be online.
    for _ in range(8):
        assert master.read_discrete_inputs(0, 3) == [False, False, True]
        if link.health.health.state is DeviceState.ONLINE:
            break
    assert link.health.health.state is DeviceState.ONLINE
    link.close()


def test_a_device_that_never_answers_fails_the_transaction_after_its_retries(board):
    health = HealthLog()
    link, master = _master(board.url, health, retries=2)
    board.command("fault noanswer 0")
    with pytest.raises(ModbusError, match=r"no answer within 0.2 s \(after 3 attempts\)"):
        master.write_coil(0, True)
    assert board.command("stats")["open_pulses"] == 0  # a dead board does not act
    assert link.health.health.state is DeviceState.DEGRADED
    board.command("fault clear")
    master.write_coil(0, False)
    link.close()


def test_a_late_answer_is_not_taken_for_the_next_one(board):
    link, master = _master(board.url, HealthLog(), retries=0)
    board.command("fault slow 0.3")
    with pytest.raises(ModbusError, match="no answer"):
        master.read_discrete_inputs(0, 3)
    # The late answer (loop off) comes before the board answers anything else; the next read,
    # after the loop changed, must not take it for its own.
    board.command("loop on")
    assert master.read_discrete_inputs(0, 3) == [True, False, True]
    link.close()


def test_an_exception_answer_is_reported(board):
    link, master = _master(board.url, HealthLog(), retries=0)
    with pytest.raises(ModbusError, match="Modbus exception 2"):
        master.read_discrete_inputs(15, 4)  # the board has 16 inputs
    link.close()
