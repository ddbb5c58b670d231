"""Shared by the hardware tests: fast device configs, simulators, and polling with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from hardware.barrier import BarrierCommand, ModbusBarrier
from hardware.health import DeviceHealth, DeviceState
from hardware.link import SerialLink
from hardware.reader import DocumentReader, ReaderEvent
from hardware.settings import BarrierSettings, ReaderSettings, SerialLinkSettings
from hardware.sim.client import SimProcess

T = TypeVar("T")

DEADLINE_S = 15.0  # generous: the machine is shared; tests never measure speed
TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10")

# A quick barrier: the motor and travel take tenths of a second, so a test sees a whole cycle.
FAST_BARRIER_SIM = ("--motor-delay", "0.05", "--travel", "0.3", "--close-after", "0.3")


def link_config(url: str, **overrides) -> SerialLinkSettings:
    return SerialLinkSettings(url=url, reconnect_initial_s=0.05, reconnect_max_s=0.5, recover_after=2, **overrides)


def barrier_config(url: str, **overrides) -> BarrierSettings:
    settings = {"pulse_s": 0.05, "travel_timeout_s": 2.0, "response_timeout_s": 0.2, "retries": 1}
    return BarrierSettings(link=link_config(url), **(settings | overrides))


def reader_config(url: str, framing: str, **overrides) -> ReaderSettings:
    return ReaderSettings(link=link_config(url), framing=framing, **({"frame_timeout_s": 0.3} | overrides))


def wait_until(probe: Callable[[], T], done: Callable[[T], bool], what: str, timeout: float = DEADLINE_S) -> T:
    """Call `probe` until `done(result)`; the last result, or an AssertionError naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if done(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s; last: {result!r}")
        time.sleep(0.02)


class HealthLog:
    """Every health change a device reports, in order."""

    def __init__(self) -> None:
        self.changes: list[DeviceHealth] = []

    def __call__(self, health: DeviceHealth) -> None:
        self.changes.append(health)

    def states(self) -> list[DeviceState]:
        return [h.state for h in self.changes]


class AuditedCommands:
    """A barrier command sink that records commands with the simulator's pulse count at that moment."""

    def __init__(self, sim: SimProcess | None = None) -> None:
        self.sim = sim
        self.records: list[tuple[BarrierCommand, int | None]] = []

    def __call__(self, command: BarrierCommand) -> None:
        pulses = self.sim.command("stats")["open_pulses"] if self.sim else None
        self.records.append((command, pulses))


def make_barrier(sim_url: str, audit: Callable[[BarrierCommand], None], health: HealthLog | None = None,
                 **overrides) -> ModbusBarrier:
    config = barrier_config(sim_url, **overrides)
    return ModbusBarrier("lane-1 barrier", config, SerialLink.for_device("barrier", config.link, health), audit)


def make_reader(sim_url: str, framing: str, health: HealthLog | None = None, **overrides) -> DocumentReader:
    config = reader_config(sim_url, framing, **overrides)
    return DocumentReader("lane-1 reader", config, SerialLink.for_device("reader", config.link, health))


def next_events(reader: DocumentReader, timeout: float = DEADLINE_S) -> list[ReaderEvent]:
    """The first non-empty batch of events the reader reports."""
    return wait_until(lambda: reader.poll(0.05), bool, "reader events", timeout)
