"""The barrier driver against the simulated relay board and barrier: safety rules and faults."""

from __future__ import annotations

import threading

import pytest

from hardware.barrier import ArmState, OpenFailed, OpenRefused
from hardware.health import DeviceState
from hardware.sim.client import SimProcess
from tests.support.hardware_helpers import FAST_BARRIER_SIM, AuditedCommands, HealthLog, make_barrier, wait_until

pytestmark = pytest.mark.slow  # real processes and waits: seconds per test


@pytest.fixture
def sim():
    with SimProcess("barrier", "--tcp", "0", *FAST_BARRIER_SIM) as process:
        yield process


def _online(barrier):
    return wait_until(barrier.poll, lambda s: s.health.state is DeviceState.ONLINE, "barrier online")


def test_open_records_first_then_pulses_once_and_the_arm_goes_up_and_back_down(sim):
    audit = AuditedCommands(sim)
    barrier = make_barrier(sim.url, audit)
    assert _online(barrier).arm is ArmState.DOWN
    barrier.open("crossing 17 cleared", "officer-3")
    (command, pulses_when_recorded), = audit.records
    assert (command.action, command.reason, command.actor) == ("open", "crossing 17 cleared", "officer-3")
    assert pulses_when_recorded == 0  # the record was complete before the relay moved
    wait_until(barrier.poll, lambda s: s.arm is ArmState.UP, "arm up")
    wait_until(barrier.poll, lambda s: s.arm is ArmState.DOWN, "arm back down (controller closes by itself)")
    stats = sim.command("stats")
    assert stats["open_pulses"] == 1
    assert stats["coils"] == []  # OPEN released after the pulse
    assert barrier.status.faults == ()
    barrier.close()


def test_loop_input_is_reported(sim):
    barrier = make_barrier(sim.url, AuditedCommands())
    assert _online(barrier).loop_occupied is False
    sim.command("loop on")
    assert barrier.poll().loop_occupied is True
    barrier.close()


def test_open_is_refused_and_nothing_sent_when_the_link_is_down():
    with SimProcess("barrier", "--tcp", "0") as sim:
        url = sim.url
    audit = AuditedCommands()
    barrier = make_barrier(url, audit)  # nothing listens there any more
    with pytest.raises(OpenRefused, match="arm state is unknown"):
        barrier.open("test", "technician")
    assert audit.records == []
    assert barrier.status.health.state is DeviceState.OFFLINE
    assert "cannot open socket://" in barrier.status.health.last_error


def test_open_is_refused_while_the_arm_is_between_its_limits(sim):
    audit = AuditedCommands()
    barrier = make_barrier(sim.url, audit)
    _online(barrier)
    barrier.open("first", "officer")
    wait_until(barrier.poll, lambda s: s.arm is ArmState.MOVING, "arm moving")
    with pytest.raises(OpenRefused, match="arm state is moving"):
        barrier.open("second", "officer")
    assert [command.reason for command, _ in audit.records] == ["first"]
    assert sim.command("stats")["open_pulses"] == 1
    barrier.close()


def test_a_failing_audit_record_stops_the_command(sim):
    def broken_sink(command):
        raise OSError("disk full")

    barrier = make_barrier(sim.url, broken_sink)
    _online(barrier)
    with pytest.raises(OpenRefused, match="could not be recorded, so it was not sent: disk full"):
        barrier.open("test", "officer")
    assert sim.command("stats")["open_pulses"] == 0
    barrier.close()


def test_contradictory_limits_make_the_arm_unknown_and_refuse_open():
    # Wire "arm up" to the loop input: with a car on the loop and the arm down, both limits read active.
    with SimProcess("barrier", "--tcp", "0") as sim:
        barrier = make_barrier(sim.url, AuditedCommands(), loop_input=None, arm_up_input=0, arm_down_input=2)
        _online(barrier)
        sim.command("loop on")
        status = barrier.poll()
        assert status.arm is ArmState.UNKNOWN
        assert status.health.state is DeviceState.DEGRADED
        assert "both arm limits are active" in status.faults[0]
        with pytest.raises(OpenRefused):
            barrier.open("test", "officer")
        assert sim.command("stats")["open_pulses"] == 0
        barrier.close()


def test_a_barrier_stuck_half_way_is_a_fault_and_open_is_refused(sim):
    health = HealthLog()
    barrier = make_barrier(sim.url, AuditedCommands(), health, travel_timeout_s=0.6)
    _online(barrier)
    sim.command("fault stuck")
    barrier.open("test", "officer")
    status = wait_until(barrier.poll, lambda s: len(s.faults) == 2, "stuck and not-up faults")
    assert status.arm is ArmState.MOVING
    assert sorted(status.faults) == [
        "arm did not reach up within 0.6 s of the OPEN pulse",
        "arm stuck between its limits for more than 0.6 s",
    ]
    assert status.health.state is DeviceState.DEGRADED
    with pytest.raises(OpenRefused, match="arm state is moving"):
        barrier.open("again", "officer")
    assert sim.command("stats")["position"] == 0.5
    # Freed, the arm finishes its travel; the faults clear and the barrier comes back online.
    sim.command("fault clear")
    status = wait_until(barrier.poll, lambda s: s.health.state is DeviceState.ONLINE, "online after release")
    assert status.faults == ()
    assert sim.command("stats")["open_pulses"] == 1
    barrier.close()


def test_unplug_mid_pulse_leaves_no_relay_energised_after_replug(sim):
    health = HealthLog()
    barrier = make_barrier(sim.url, AuditedCommands(), health, pulse_s=1.0)
    _online(barrier)
    outcome: list[BaseException | None] = []

    def officer_opens():
        try:
            barrier.open("test", "officer")
            outcome.append(None)
        except (OpenFailed, OpenRefused) as exc:
            outcome.append(exc)

    thread = threading.Thread(target=officer_opens)
    thread.start()
    wait_until(lambda: sim.command("stats")["coils"], lambda coils: coils == [0], "OPEN relay on")
    sim.command("unplug")
    thread.join(15)
    assert isinstance(outcome[0], OpenFailed)  # the pulse could not be ended: said so, not hidden
    assert sim.command("stats")["coils"] == [0]  # the relay board kept its state while unplugged
    status = barrier.poll()
    assert status.health.state is DeviceState.OFFLINE
    assert status.arm is ArmState.UNKNOWN
    sim.command("replug")
    _online(barrier)
    assert sim.command("stats")["coils"] == []  # forced off on reconnect
    assert sim.command("stats")["open_pulses"] == 1
    assert DeviceState.OFFLINE in health.states()
    barrier.close()


def test_replug_is_recovered_by_the_link_alone(sim):
    health = HealthLog()
    barrier = make_barrier(sim.url, AuditedCommands(), health)
    _online(barrier)
    sim.command("unplug 0.3")
    wait_until(barrier.poll, lambda s: s.health.state is DeviceState.OFFLINE, "offline after unplug")
    _online(barrier)
    assert health.states()[-3:] == [DeviceState.OFFLINE, DeviceState.DEGRADED, DeviceState.ONLINE]
    barrier.close()


def test_over_a_pty_with_a_stable_name(tmp_path):
    link = tmp_path / "lane1-barrier"
    with SimProcess("barrier", "--pty", "--link", str(link), *FAST_BARRIER_SIM) as sim:
        assert sim.url == str(link)
        barrier = make_barrier(str(link), AuditedCommands(sim))
        _online(barrier)
        barrier.open("test", "technician")
        wait_until(barrier.poll, lambda s: s.arm is ArmState.UP, "arm up over the pty")
        # Unplugging removes the device node; replugging makes a new pty behind the same name.
        sim.command("unplug")
        wait_until(barrier.poll, lambda s: s.health.state is DeviceState.OFFLINE, "offline")
        sim.command("replug")
        _online(barrier)
        assert sim.command("stats")["open_pulses"] == 1
        barrier.close()


def test_a_board_that_stops_answering_goes_offline_and_comes_back(sim):
    health = HealthLog()
    barrier = make_barrier(sim.url, AuditedCommands(), health)
    _online(barrier)
    sim.command("fault noanswer 0")
    status = wait_until(barrier.poll, lambda s: s.health.state is DeviceState.OFFLINE, "offline")
    assert status.health.last_error.startswith("no valid answer in 3 transactions, reopening the link")
    assert status.arm is ArmState.UNKNOWN
    sim.command("fault clear")
    _online(barrier)
    barrier.close()
