"""The serial link and device health: open by URL, back-off, state changes and their listener."""

from __future__ import annotations

import pytest

from hardware.health import DeviceState, HealthTracker
from hardware.link import LinkDown, SerialLink
from hardware.settings import SerialLinkSettings
from hardware.sim.client import SimProcess
from tests.support.hardware_helpers import HealthLog, link_config, wait_until


def test_loop_url_round_trip():
    link = SerialLink.for_device("loop", link_config("loop://"))
    assert link.ensure_open()
    link.write(b"\x01\x05hello")
    assert wait_until(lambda: link.read_some(64), bool, "looped bytes") == b"\x01\x05hello"
    link.close()


def test_an_unreachable_device_is_offline_with_the_error_and_not_retried_before_the_back_off():
    with SimProcess("reader", "--tcp", "0") as sim:
        url = sim.url  # a port that was just free: nothing listens there now
    health = HealthLog()
    settings = SerialLinkSettings(url=url, reconnect_initial_s=60, reconnect_max_s=60)
    link = SerialLink.for_device("reader", settings, health)
    assert not link.ensure_open()
    assert [h.state for h in health.changes] == [DeviceState.OFFLINE]
    assert health.changes[0].last_error.startswith(f"cannot open {url}:")
    health.changes.clear()
    assert not link.ensure_open()  # within the back-off: no attempt, no new report
    assert health.changes == []
    with pytest.raises(LinkDown, match="is not open"):
        link.read_some(1)


def test_a_bad_url_is_reported_not_raised():
    health = HealthLog()
    link = SerialLink.for_device("barrier", link_config("nosuchscheme://x"), health)
    assert not link.ensure_open()
    assert health.changes[-1].state is DeviceState.OFFLINE
    assert "nosuchscheme" in health.changes[-1].last_error


def test_health_needs_good_exchanges_and_no_standing_condition_to_be_online():
    log = HealthLog()
    tracker = HealthTracker("barrier", recover_after=2, listener=log)
    tracker.connected()
    tracker.good()
    assert tracker.health.state is DeviceState.DEGRADED
    tracker.good()
    assert tracker.health.state is DeviceState.ONLINE
    tracker.set_condition("arm", "arm stuck")
    tracker.good()
    tracker.good()
    assert tracker.health.state is DeviceState.DEGRADED
    tracker.clear_condition("arm")
    tracker.good()
    tracker.good()
    assert tracker.health.state is DeviceState.ONLINE
    assert tracker.health.last_error == "arm stuck"  # the last error stays visible after recovery
    assert log.states() == [DeviceState.DEGRADED, DeviceState.ONLINE, DeviceState.DEGRADED, DeviceState.ONLINE]


def test_only_reconnecting_ends_offline():
    tracker = HealthTracker("reader", recover_after=1)
    tracker.offline("unplugged")
    tracker.fault("late frame error")
    tracker.good()
    assert (tracker.health.state, tracker.health.last_error) == (DeviceState.OFFLINE, "unplugged")
    tracker.connected()
    tracker.good()
    assert tracker.health.state is DeviceState.ONLINE


def test_a_failing_listener_does_not_break_the_device(caplog):
    def listener(health):
        raise RuntimeError("kiosk gone")

    tracker = HealthTracker("barrier", recover_after=1, listener=listener)
    tracker.connected()
    tracker.fault("bad CRC")
    assert tracker.health.state is DeviceState.DEGRADED
    assert "health listener failed for barrier" in caplog.text
