"""The publisher as a real process, killed with SIGKILL mid-publish; and `edge bench outbox`."""

from __future__ import annotations

import contextlib
import io
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edge.bench.broker import Mosquitto
from edge.bench.centre import CentreSubscriber, tally
from edge.cli import main
from edge.recording.outbox import Outbox

pytestmark = pytest.mark.slow  # kills and restarts real processes over and over

TIMEOUT = 30.0


def _publisher(outbox: Path, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "edge.bench.outbox_soak_publisher", str(outbox), "demo", str(port)])


def test_kill_9_mid_publish_loses_nothing(tmp_path):
    with Mosquitto(tmp_path / "broker") as broker, Outbox(tmp_path / "outbox.sqlite", "demo") as outbox:
        centre = CentreSubscriber("127.0.0.1", broker.port, "checkpoint/#")
        centre.start()
        # A backlog the publisher needs a good fraction of a second to send, so the kill lands mid-publish.
        for n in range(600):
            outbox.put("lane-1/decision", {"n": n})
        child = _publisher(outbox.path, broker.port)
        try:
            deadline = time.monotonic() + TIMEOUT
            while outbox.last_delivery() is None:
                assert time.monotonic() < deadline and child.poll() is None, "the publisher never delivered"
                time.sleep(0.002)
            child.send_signal(signal.SIGKILL)
            child.wait()
            assert outbox.depth() > 0, "the kill came too late to be mid-publish"
            for n in range(600, 700):
                outbox.put("lane-1/decision", {"n": n})
            child = _publisher(outbox.path, broker.port)
            assert centre.wait_until(lambda got: set(range(1, 701)) <= {m.seq for m in got}, TIMEOUT)
        finally:
            child.kill()
            child.wait()
            centre.stop()
        received = centre.received()
        first_copies: dict[str, int] = {}
        for message in received:
            first_copies.setdefault(message.id, message.seq)
        assert list(first_copies.values()) == list(range(1, 701))
        assert all(m.envelope["event"] == {"n": m.seq - 1} for m in received)  # copies carry the same event
        assert tally(received).out_of_order == 0


def test_bench_outbox_reports_one_json_line(tmp_path):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["bench", "outbox", "--events", "60", "--outages", "2", "--restarts", "1",
                     "--workdir", str(tmp_path)])
    result = json.loads(out.getvalue().splitlines()[-1])
    assert code == 0
    assert {k: result[k] for k in ("events", "delivered", "lost", "outages", "restarts")} == \
        {"events": 60, "delivered": 60, "lost": 0, "outages": 2, "restarts": 1}
    assert result["duplicates"] >= 0 and result["out_of_order"] == 0
