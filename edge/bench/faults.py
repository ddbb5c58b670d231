"""A randomised fault campaign: thousands of mixed serial-line faults through the simulators.

Each iteration injects one fault into the simulated barrier board or one of the simulated
document readers (one per framing), exercises the real drivers through it the way a lane
would (polls, and sometimes an allowed OPEN), then checks four things:
- the barrier board saw no OPEN pulse the campaign did not ask for (it counts rising edges);
- no driver call raised anything but the documented OpenRefused/OpenFailed;
- the fault showed as a health change (degraded/offline) or, for the reader, a re-scan event;
- the device came back online, and how long that took after a replug.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from hardware.barrier import ArmState, BarrierCommand, ModbusBarrier, OpenFailed, OpenRefused
from hardware.health import DeviceHealth, DeviceState
from hardware.link import SerialLink
from hardware.mrz import TravelDocument, compose_td3
from hardware.reader import DocumentRead, DocumentReader, ReaderEvent, RescanRequired
from hardware.reader_framing import FRAMINGS
from hardware.settings import BarrierSettings, ReaderSettings, SerialLinkSettings
from hardware.sim.client import SimProcess

# Faults and how often each is drawn. Floods and stuck arms take a second or so each; keep them rarer.
WEIGHTS = {
    "barrier-garbage": 8, "barrier-noise": 8, "barrier-badcrc": 8, "barrier-truncate": 8,
    "barrier-noanswer": 6, "barrier-slow": 6, "barrier-unplug": 6, "barrier-unplug-mid-open": 6,
    "barrier-stuck": 2,
    "reader-garbage": 8, "reader-badframe": 8, "reader-truncate": 8, "reader-badcheck": 6,
    "reader-unplug": 6, "reader-flood": 1,
}
DEADLINE_S = 10.0  # a device not back online by then counts as unrecovered
DOCUMENT = compose_td3(
    TravelDocument("P", "UTO", "Eriksson", "Anna Maria", "L898902C3", "UTO", date(1974, 8, 12), "F", date(2036, 4, 15))
)


@dataclass
class CampaignReport:
    iterations: int = 0
    unintended_opens: int = 0
    crashes: int = 0
    unsurfaced_faults: int = 0
    unrecovered: int = 0
    intended_opens: int = 0
    recoveries_s: list[float] = field(default_factory=list)
    faults: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)  # the first few failures, for a person to read

    def note(self, problem: str) -> None:
        if len(self.problems) < 20:
            self.problems.append(problem)

    def to_json(self, seconds: float) -> dict:
        recoveries = sorted(self.recoveries_s)
        p99 = recoveries[min(len(recoveries) - 1, int(0.99 * len(recoveries)))] if recoveries else 0.0
        return {
            "iterations": self.iterations,
            "unintended_opens": self.unintended_opens,
            "crashes": self.crashes,
            "unsurfaced_faults": self.unsurfaced_faults,
            "recovery_p99_s": round(p99, 3),
            "recovery_max_s": round(recoveries[-1], 3) if recoveries else 0.0,
            "replugs": len(recoveries),
            "unrecovered": self.unrecovered,
            "intended_opens": self.intended_opens,
            "faults": dict(sorted(self.faults.items())),
            "seconds": round(seconds, 1),
        }


class _HealthLog:
    def __init__(self) -> None:
        self.changes: list[DeviceHealth] = []

    def __call__(self, health: DeviceHealth) -> None:
        self.changes.append(health)

    def bad_since(self, mark: int) -> bool:
        return any(h.state is not DeviceState.ONLINE for h in self.changes[mark:])


def _link(url: str) -> SerialLinkSettings:
    # Product defaults for reconnect back-off, so the recovery figure is the shipped one.
    return SerialLinkSettings(url=url, recover_after=2)


class _Rig:
    """The simulators and the real drivers the campaign runs against."""

    def __init__(self) -> None:
        self.sims: list[SimProcess] = []
        # Quick motion, but the arm stays up long enough for a poll slowed by a fault to see it.
        self.barrier_sim = self._start("barrier", "--motor-delay", "0.02", "--travel", "0.1", "--close-after", "1.0")
        self.barrier_health = _HealthLog()
        config = BarrierSettings(link=_link(self.barrier_sim.url), pulse_s=0.01, travel_timeout_s=0.4,
                               response_timeout_s=0.03, retries=1)
        link = SerialLink.for_device("barrier", config.link, self.barrier_health)
        self.barrier = ModbusBarrier("bench barrier", config, link, self._record)
        self.readers: dict[str, tuple[SimProcess, DocumentReader, _HealthLog]] = {}
        for framing in FRAMINGS:
            sim = self._start("reader", "--framing", framing)
            health = _HealthLog()
            rconfig = ReaderSettings(link=_link(sim.url), framing=framing, frame_timeout_s=0.1,
                                     flood_bytes_per_s=50_000)
            reader = DocumentReader(f"bench reader ({framing})", rconfig,
                                    SerialLink.for_device(f"reader-{framing}", rconfig.link, health))
            self.readers[framing] = (sim, reader, health)
        self.audit: list[BarrierCommand] = []
        # Like the service, something watches the barrier all the time, whatever the campaign is doing.
        self.poller_errors: list[BaseException] = []
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._watch_barrier, name="barrier poller", daemon=True)
        self._poller.start()

    def _watch_barrier(self) -> None:
        while not self._stop.wait(0.02):
            try:
                self.barrier.poll()
            except Exception as exc:  # a crash to count, not to end the campaign with
                self.poller_errors.append(exc)

    def _start(self, *args: str) -> SimProcess:
        sim = SimProcess(args[0], "--tcp", "0", *args[1:])
        self.sims.append(sim)
        return sim

    def _record(self, command: BarrierCommand) -> None:
        self.audit.append(command)

    def pulses(self) -> int:
        return self.barrier_sim.command("stats")["open_pulses"]

    def close(self) -> None:
        self._stop.set()
        self._poller.join(DEADLINE_S)
        self.barrier.close()
        for _, reader, _ in self.readers.values():
            reader.close()
        for sim in self.sims:
            sim.close()


def _until(probe: Callable[[], object], done: Callable[[], bool], timeout: float = DEADLINE_S) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        probe()
        if done():
            return True
    return False


@dataclass
class _Outcome:
    surfaced: bool
    intended_opens: int = 0
    recovered: bool = True
    recovery_s: float | None = None
    detail: str = ""  # the device's status when it did not recover


def _try_open(rig: _Rig) -> int:
    """One allowed OPEN, as the lane would send it; 1 if the command went out (even unconfirmed)."""
    try:
        rig.barrier.open("fault campaign", "bench")
    except OpenRefused:
        return 0
    except OpenFailed:
        return 1
    return 1


def _unplugged_for(rng: random.Random) -> float:
    """Mostly short unplugs; one in ten long enough for the reconnect back-off to reach its cap."""
    return rng.uniform(1.0, 3.0) if rng.random() < 0.1 else rng.uniform(0.0, 0.3)


def _barrier_online(rig: _Rig) -> bool:
    def settled() -> bool:
        s = rig.barrier.status
        return s.health.state is DeviceState.ONLINE and s.arm in (ArmState.DOWN, ArmState.UP)

    return _until(rig.barrier.poll, settled)


def _barrier_outcome(rig: _Rig, surfaced: bool, opens: int, replugged: float | None = None) -> _Outcome:
    """Wait for the barrier to be back online; with `replugged`, how long that took after the replug."""
    recovered = _barrier_online(rig)
    recovery = time.monotonic() - replugged if recovered and replugged is not None else None
    return _Outcome(surfaced, opens, recovered, recovery, "" if recovered else repr(rig.barrier.status))


def _barrier_spoiled(rig: _Rig, rng: random.Random, kind: str) -> _Outcome:
    mark = len(rig.barrier_health.changes)
    arg = f"slow {rng.uniform(0.05, 0.12):.3f}" if kind == "slow" else kind
    rig.barrier_sim.command(f"fault {arg} {rng.randint(1, 3)}")
    opens = _try_open(rig) if rng.random() < 0.3 else 0
    surfaced = _until(rig.barrier.poll, lambda: rig.barrier_health.bad_since(mark), 2.0)
    rig.barrier_sim.command("fault clear")
    return _barrier_outcome(rig, surfaced, opens)


def _barrier_stuck(rig: _Rig, rng: random.Random) -> _Outcome:
    # From down, so the arm passes half-way (where it sticks) right after the pulse.
    _until(rig.barrier.poll, lambda: rig.barrier.status.arm is ArmState.DOWN)
    mark = len(rig.barrier_health.changes)
    rig.barrier_sim.command("fault stuck")
    opens = _try_open(rig)
    surfaced = _until(rig.barrier.poll, lambda: rig.barrier_health.bad_since(mark), 3.0)
    rig.barrier_sim.command("fault clear")
    return _barrier_outcome(rig, surfaced, opens)


def _barrier_unplug(rig: _Rig, rng: random.Random, mid_open: bool) -> _Outcome:
    mark = len(rig.barrier_health.changes)
    opens: list[int] = []
    opener = threading.Thread(target=lambda: opens.append(_try_open(rig)))
    if mid_open:
        opener.start()
        time.sleep(rng.uniform(0.0, 0.03))
    rig.barrier_sim.command("unplug")
    if mid_open:
        opener.join(DEADLINE_S)
    surfaced = _until(rig.barrier.poll, lambda: rig.barrier_health.bad_since(mark), 2.0)
    _until(rig.barrier.poll, lambda: False, _unplugged_for(rng))  # stay unplugged a while, polling
    rig.barrier_sim.command("replug")
    return _barrier_outcome(rig, surfaced, sum(opens), replugged=time.monotonic())


def _reader_fault(rig: _Rig, rng: random.Random, kind: str) -> _Outcome:
    framing = rng.choice(FRAMINGS)
    sim, reader, health = rig.readers[framing]
    _until(lambda: reader.poll(0.02), lambda: reader.health.state is DeviceState.ONLINE)
    mark = len(health.changes)
    events: list[ReaderEvent] = []
    replugged = None
    if kind == "garbage":
        sim.command(f"garbage {rng.randint(1, 400)}")
    elif kind in ("badframe", "truncate"):
        sim.command(f"fault {kind}")
        sim.command("present " + " ".join(DOCUMENT))
    elif kind == "badcheck":
        line2 = DOCUMENT[1][:13] + str((int(DOCUMENT[1][13]) + 1) % 10) + DOCUMENT[1][14:]
        sim.command(f"present {DOCUMENT[0]} {line2}")
    elif kind == "flood":
        sim.command("flood 0.3")
    elif kind == "unplug":
        sim.command("unplug")

    def rescan_or_degraded() -> bool:
        return health.bad_since(mark) or any(isinstance(e, RescanRequired) for e in events)

    surfaced = _until(lambda: events.extend(reader.poll(0.02)), rescan_or_degraded, 3.0)
    if kind == "unplug":
        _until(lambda: reader.poll(0.02), lambda: False, _unplugged_for(rng))
        sim.command("replug")
        replugged = time.monotonic()
    online = _until(lambda: reader.poll(0.02), lambda: reader.health.state is DeviceState.ONLINE)
    recovery = time.monotonic() - replugged if online and replugged is not None else None
    # Recovered means working: the next document must read cleanly.
    sim.command("present " + " ".join(DOCUMENT))
    after: list[ReaderEvent] = []
    read = _until(lambda: after.extend(reader.poll(0.02)), lambda: any(isinstance(e, DocumentRead) for e in after))
    return _Outcome(surfaced, 0, online and read, recovery, f"{reader.health!r}; events after: {after!r}")


def _run_one(rig: _Rig, rng: random.Random, fault: str) -> _Outcome:
    device, kind = fault.split("-", 1)
    # Each fault starts from a device that is online: a fault must show as a change, and a device
    # still degraded by an earlier hiccup (a late answer on a busy machine) would hide it.
    if device == "reader":
        return _reader_fault(rig, rng, kind)
    _barrier_online(rig)
    if kind == "stuck":
        return _barrier_stuck(rig, rng)
    if kind.startswith("unplug"):
        return _barrier_unplug(rig, rng, mid_open=kind == "unplug-mid-open")
    return _barrier_spoiled(rig, rng, kind)


def run_campaign(iterations: int, seed: int, progress: Callable[[str], None] | None = None) -> tuple[dict, list[str]]:
    """Run the campaign: its report as a JSON-ready dict, and the first few failures in words."""
    # pymodbus logs every undecodable frame; here those are the point, and the drivers report them.
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    rng = random.Random(seed)
    report = CampaignReport()
    started = time.monotonic()
    rig = _Rig()
    try:
        if not _barrier_online(rig):
            raise RuntimeError(f"the simulated barrier did not come online: {rig.barrier.status}")
        names, weights = zip(*WEIGHTS.items(), strict=True)
        for i in range(iterations):
            fault = rng.choices(names, weights)[0]
            report.faults[fault] += 1
            before = rig.pulses()
            try:
                outcome = _run_one(rig, rng, fault)
            except Exception as exc:
                report.crashes += 1
                report.note(f"iteration {i} ({fault}): crash: {''.join(traceback.format_exception(exc))}")
                continue
            pulses = rig.pulses() - before
            report.iterations += 1
            report.intended_opens += outcome.intended_opens
            if pulses > outcome.intended_opens:
                report.unintended_opens += pulses - outcome.intended_opens
                report.note(f"iteration {i} ({fault}): {pulses} pulses for {outcome.intended_opens} intended opens")
            if not outcome.surfaced:
                report.unsurfaced_faults += 1
                report.note(f"iteration {i} ({fault}): fault not surfaced")
            if not outcome.recovered:
                report.unrecovered += 1
                report.note(f"iteration {i} ({fault}): not recovered within {DEADLINE_S:g} s: {outcome.detail}")
            if outcome.recovery_s is not None:
                report.recoveries_s.append(outcome.recovery_s)
            if progress and (i + 1) % 250 == 0:
                progress(f"{i + 1}/{iterations} iterations, {time.monotonic() - started:.0f} s")
        report.crashes += len(rig.poller_errors)
        for error in rig.poller_errors[:3]:
            report.note(f"barrier poller crash: {''.join(traceback.format_exception(error))}")
        dead = [sim.url for sim in rig.sims if not sim.alive()]
        if dead:
            report.crashes += len(dead)
            report.note(f"simulators died: {dead}")
    finally:
        rig.close()
    return report.to_json(time.monotonic() - started), report.problems
