"""`edge bench outbox`: events through broker outages and publisher kill -9s, counted at the centre.

A real mosquitto on a loopback port, a centre subscriber with a persistent QoS 1 session, and the
publisher as a separate process. The bench queues events in steps; between the two halves of a
step it either stops the broker (SIGTERM) and starts it again, or kills the publisher (SIGKILL)
and starts a new one, each time just after the publisher was seen delivering, so events are in
flight. At the end it waits for the centre to hold every event and counts what arrived.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from edge.bench.broker import Mosquitto
from edge.bench.centre import CentreSubscriber, tally
from edge.recording.outbox.queue import Outbox

SOURCE = "soak"
PROGRESS_TIMEOUT_S = 20.0  # the publisher must deliver something within this after a disruption


@dataclass(frozen=True)
class SoakResult:
    events: int  # events queued (each put() that returned)
    delivered: int  # distinct events the centre received
    lost: int
    duplicates: int  # extra copies the centre received (and drops by id)
    out_of_order: int  # first copies that arrived after a later event
    outages: int
    restarts: int
    disrupted_in_flight: int  # disruptions that hit with events still queued or unacknowledged
    seconds: float

    def to_json(self) -> dict[str, object]:
        return asdict(self)


class _PublisherProcess:
    def __init__(self, outbox: Path, port: int, log: Path):
        self._args = [sys.executable, "-m", "edge.bench.outbox_soak_publisher", str(outbox), SOURCE, str(port)]
        self._log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self._log.open("ab") as log:
            self.process = subprocess.Popen(self._args, stdout=log, stderr=log)

    def kill9(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill9()


def run_soak(workdir: Path, events: int, outages: int, restarts: int, seed: int = 1,
             deliver_timeout_s: float = 120.0) -> SoakResult:
    rng = random.Random(seed)
    disruptions = ["outage"] * outages + ["restart"] * restarts
    rng.shuffle(disruptions)
    steps = len(disruptions) + 1
    started = time.monotonic()
    broker = Mosquitto(workdir / "broker")
    broker.start()
    centre = CentreSubscriber("127.0.0.1", broker.port, f"checkpoint/{SOURCE}/#", client_id="soak-centre")
    outbox = Outbox(workdir / "outbox.sqlite", SOURCE)
    publisher = _PublisherProcess(outbox.path, broker.port, workdir / "publisher.log")
    in_flight = 0
    try:
        centre.start()
        publisher.start()
        queued = 0
        for step, disruption in enumerate([*disruptions, None]):
            share = events * (step + 1) // steps - events * step // steps
            _put(outbox, queued, share // 2)
            queued += share // 2
            if disruption is None:
                _put(outbox, queued, share - share // 2)
                queued += share - share // 2
                break
            _wait_for_progress(outbox, broker, publisher)
            in_flight += outbox.depth() > 0
            if disruption == "outage":
                broker.stop()
            else:
                publisher.kill9()
            _put(outbox, queued, share - share // 2)  # these wait: no broker, or no publisher
            queued += share - share // 2
            time.sleep(rng.uniform(0.0, 0.1))
            if disruption == "outage":
                broker.start()
            else:
                publisher.start()
        expected = {(SOURCE, seq) for seq in range(1, outbox.last_seq() + 1)}
        centre.wait_until(lambda got: expected <= {(m.source, m.seq) for m in got}, deliver_timeout_s)
        received = centre.received()
        counts = tally(received)
        delivered = len(expected & {(m.source, m.seq) for m in received})
        return SoakResult(len(expected), delivered, len(expected) - delivered, counts.duplicates,
                          counts.out_of_order, outages, restarts, in_flight, round(time.monotonic() - started, 1))
    finally:
        publisher.stop()
        centre.stop()
        broker.stop()
        outbox.close()


def _put(outbox: Outbox, start: int, count: int) -> None:
    for n in range(start, start + count):
        outbox.put(f"lane-{n % 2 + 1}/decision", {"n": n, "outcome": "CLEAR"})


def _wait_for_progress(outbox: Outbox, broker: Mosquitto, publisher: _PublisherProcess) -> None:
    """Until the publisher delivers again (so the next disruption lands mid-publish)."""
    before = outbox.last_delivery()
    deadline = time.monotonic() + PROGRESS_TIMEOUT_S
    while outbox.depth() > 0 and outbox.last_delivery() == before:
        if publisher.process is not None and publisher.process.poll() is not None:
            raise RuntimeError(f"the publisher exited with {publisher.process.returncode}; see its log")
        if time.monotonic() > deadline:
            raise RuntimeError(f"no delivery in {PROGRESS_TIMEOUT_S} s; broker log:\n{broker.log_tail()}")
        time.sleep(0.002)
