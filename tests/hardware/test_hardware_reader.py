"""The document reader driver against the simulated reader, over TCP and a pty, in every framing."""

from __future__ import annotations

import pytest

from hardware.health import DeviceState
from hardware.reader import DocumentRead, RescanRequired
from hardware.sim.client import SimProcess
from hardware.sim.reader_sim import PORTRAIT
from tests.support.hardware_helpers import TD3, HealthLog, make_reader, next_events, wait_until

pytestmark = pytest.mark.slow  # real processes and waits: seconds per test

FRAMINGS = ("lines", "stx", "length")
TD3_OCR = (TD3[0], TD3[1].replace("7408122", "74O8122"))  # the reader's OCR took a 0 for an O


@pytest.fixture(params=FRAMINGS)
def framing(request):
    return request.param


@pytest.fixture
def sim(framing):
    with SimProcess("reader", "--tcp", "0", "--framing", framing) as process:
        yield process


def _ready(reader):
    """Poll until the reader is online (its link is open and quiet)."""
    return wait_until(lambda: (reader.poll(0.02), reader.health)[1], lambda h: h.state is DeviceState.ONLINE,
                      "reader online")


def _present(sim, lines):
    sim.command("present " + " ".join(lines))


def test_a_document_is_read_and_verified(sim, framing):
    reader = make_reader(sim.url, framing)
    _ready(reader)
    _present(sim, TD3_OCR)
    (event,) = next_events(reader)
    assert isinstance(event, DocumentRead)
    assert (event.mrz.surname, event.mrz.document_number) == ("ERIKSSON", "L898902C3")
    assert [(c.found, c.corrected) for c in event.mrz.corrections] == [("O", "0")]
    assert event.portrait is None
    reader.close()


@pytest.mark.parametrize("framing", ["stx", "length"])
def test_the_portrait_arrives_with_the_document(sim, framing):
    reader = make_reader(sim.url, framing)
    _ready(reader)
    sim.command("portrait on")
    _present(sim, TD3)
    (event,) = next_events(reader)
    assert event.portrait == PORTRAIT
    reader.close()


def test_failed_check_digits_ask_for_a_rescan(sim, framing):
    reader = make_reader(sim.url, framing)
    _ready(reader)
    _present(sim, (TD3[0], TD3[1].replace("7408122", "7408123")))
    (event,) = next_events(reader)
    assert isinstance(event, RescanRequired)
    assert event.reason.startswith("MRZ failed verification: birth_date check digit is '3', computed '2'")
    assert reader.health.state is DeviceState.ONLINE  # a smudged document is not a reader fault
    reader.close()


def _recovers(sim, reader):
    """The reader comes back online and the next document reads cleanly."""
    _ready(reader)
    _present(sim, TD3)
    (event,) = next_events(reader)
    assert isinstance(event, DocumentRead) and event.mrz.valid


@pytest.mark.parametrize("fault", ["garbage 200", "fault truncate"])
def test_noise_or_a_cut_frame_asks_for_a_rescan_degrades_and_recovers(sim, framing, fault):
    health = HealthLog()
    reader = make_reader(sim.url, framing, health)
    _ready(reader)
    sim.command(fault)
    if fault.startswith("fault"):
        _present(sim, TD3)
    events = next_events(reader)
    assert events and all(isinstance(e, RescanRequired) for e in events)
    assert health.changes[-1].state is DeviceState.DEGRADED
    assert health.changes[-1].last_error.startswith("reader frame error:")
    _recovers(sim, reader)
    reader.close()


@pytest.mark.parametrize("framing", ["stx", "length"])
def test_a_frame_failing_its_checksum_is_never_delivered(sim, framing):
    health = HealthLog()
    reader = make_reader(sim.url, framing, health)
    _ready(reader)
    sim.command("fault badframe 3")
    for _ in range(3):
        _present(sim, TD3)
    events = wait_until(lambda: reader.poll(0.05), bool, "events", 5)
    events += [e for _ in range(10) for e in reader.poll(0.05)]
    assert events and not [e for e in events if isinstance(e, DocumentRead)]
    assert DeviceState.DEGRADED in health.states()
    _recovers(sim, reader)
    reader.close()


@pytest.mark.parametrize("framing", ["stx"])
def test_a_flooding_reader_is_a_standing_fault_until_it_stops(sim, framing):
    health = HealthLog()
    reader = make_reader(sim.url, framing, health, flood_bytes_per_s=20_000)
    _ready(reader)
    sim.command("flood 1.0")
    # The first bytes of a flood are just noise; then the rate gives it away.
    events = wait_until(lambda: reader.poll(0.05), lambda ev: any("flooding" in e.reason for e in ev), "flood")
    assert all(isinstance(e, RescanRequired) for e in events)
    assert reader.health.state is DeviceState.DEGRADED
    # Documents are not trusted while the line floods, and the reader recovers once it stops.
    status = wait_until(lambda: (reader.poll(0.05), reader.health)[1], lambda h: h.state is DeviceState.ONLINE,
                        "online after the flood")
    assert "flooding" in status.last_error
    _present(sim, TD3)
    assert isinstance(next_events(reader)[0], DocumentRead)
    reader.close()


def test_unplug_and_replug(sim, framing):
    health = HealthLog()
    reader = make_reader(sim.url, framing, health)
    _ready(reader)
    sim.command("unplug 0.3")
    wait_until(lambda: (reader.poll(0.02), reader.health)[1], lambda h: h.state is DeviceState.OFFLINE, "offline")
    _ready(reader)
    _present(sim, TD3)
    assert isinstance(next_events(reader)[0], DocumentRead)
    assert health.states()[-3:] == [DeviceState.OFFLINE, DeviceState.DEGRADED, DeviceState.ONLINE]
    reader.close()


def test_over_a_pty(tmp_path):
    link = tmp_path / "lane1-reader"
    with SimProcess("reader", "--pty", "--link", str(link), "--framing", "stx") as sim:
        reader = make_reader(str(link), "stx")
        _ready(reader)
        sim.command("portrait on")
        _present(sim, TD3)
        (event,) = next_events(reader)
        assert isinstance(event, DocumentRead) and event.portrait == PORTRAIT
        reader.close()
