"""Events from the real service reach a real MQTT broker (Debian's mosquitto) across a broker outage
and a kill -9 of the service: every audited decision arrives at the centre, duplicates allowed."""

from __future__ import annotations

import json
import signal
import time

import pytest

from edge.bench.broker import Mosquitto
from edge.bench.centre import CentreSubscriber
from edge.synthetic.scratch import demo_config_text, free_loopback_port

pytestmark = pytest.mark.slow  # a real service, or a browser: seconds per test


def _audited_decisions(state) -> set[tuple[str, int]]:
    path = state / "audit" / "audit.jsonl"
    if not path.exists():
        return set()
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {(r["crossing_id"], r["payload"]["revision"]) for r in records if r["kind"] == "decision"}


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)


def test_every_decision_reaches_the_centre_across_an_outage_and_a_kill_9(tmp_path, start_service):
    broker = Mosquitto(tmp_path / "broker")
    broker.start()
    centre = CentreSubscriber("127.0.0.1", broker.port, "checkpoint/#", client_id="test-centre")
    centre.start()
    state = tmp_path / "state"
    text = demo_config_text(state, free_loopback_port())
    text += f'\n[central]\nhost = "127.0.0.1"\nport = {broker.port}\nbackoff_max_s = 1.0\n'
    config = tmp_path / "edge.toml"
    config.write_text(text)
    try:
        first = start_service(config)
        first.wait_until("/healthz", timeout=90)
        _wait(lambda: len(_audited_decisions(state)) >= 2, 90, "decisions with the broker up")
        broker.stop()
        before = len(_audited_decisions(state))
        _wait(lambda: len(_audited_decisions(state)) >= before + 2, 90, "decisions while the broker is down")
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=10)
        broker.start()
        second = start_service(config)
        second.wait_until("/healthz", timeout=90)
        audited = _audited_decisions(state)

        def arrived() -> set[tuple[str, int]]:
            return {(m.envelope["event"]["crossing_id"], m.envelope["event"]["revision"])
                    for m in centre.received() if m.topic.endswith("/decision")}

        _wait(lambda: audited <= arrived(), 90, f"all {len(audited)} audited decisions at the centre")
        assert second.stop() == 0
    finally:
        centre.stop()
        broker.stop()
