"""`edge mrz`, `edge device ...` and `edge bench faults`, run as commands against the simulators."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from edge.recording.audit import AuditLog
from edge.recording.outbox.queue import Outbox
from edge.recording.recorder import missing_from_outbox
from hardware.sim.client import SimProcess
from tests.support.hardware_helpers import DEADLINE_S, FAST_BARRIER_SIM, TD3
from tests.support.kiosk_browser import audit_records

pytestmark = pytest.mark.slow  # real processes and waits: seconds per test

TD3_BAD = (TD3[0], TD3[1].replace("7408122", "7408123"))


def edge(*args: str, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edge", *args], input=stdin, capture_output=True, text=True,
                          timeout=timeout)


def lane_config(tmp_path: Path, barrier_url: str | None = None, reader_url: str | None = None) -> Path:
    text = f"""
state_dir = "{tmp_path / 'state'}"
[checkpoint]
id = "test"
name = "Test crossing"
country = "UTO"
[[lanes]]
id = "lane-1"
name = "Lane 1"
cameras.plate = {{ url = "synthetic://lane-1/plate?seed=1" }}
cameras.face = {{ url = "synthetic://lane-1/face?seed=1" }}
"""
    if barrier_url:
        text += f"""[lanes.barrier]
pulse_s = 0.1
travel_timeout_s = 3.0
link = {{ url = "{barrier_url}", reconnect_initial_s = 0.05 }}
"""
    if reader_url:
        text += f"""[lanes.reader]
framing = "stx"
link = {{ url = "{reader_url}" }}
"""
    path = tmp_path / "edge.toml"
    path.write_text(text)
    return path


def test_mrz_prints_fields_checks_and_corrections():
    result = edge("mrz", TD3[0], TD3[1].replace("7408122", "74O8122"))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout.splitlines()[-1])
    assert (data["format"], data["surname"], data["given_names"], data["valid"]) == ("TD3", "ERIKSSON", "ANNA MARIA",
                                                                                      True)
    assert data["checks"]["composite"] is True
    assert data["corrections"] == [{"field": "birth_date", "line": 2, "column": 16, "found": "O", "corrected": "0"}]


def test_mrz_failing_a_check_exits_1_and_says_which():
    result = edge("mrz", stdin="\n".join(TD3_BAD) + "\n")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["valid"] is False
    assert data["checks"]["birth_date"] is False


def test_mrz_refuses_what_is_not_an_mrz():
    result = edge("mrz", "HELLO")
    assert result.returncode == 2
    assert json.loads(result.stdout)["error"].startswith("not an MRZ: 1 line(s) of length 5")


def test_technician_opens_the_barrier_with_a_record(tmp_path):
    with SimProcess("barrier", "--tcp", "0", *FAST_BARRIER_SIM) as sim:
        config = lane_config(tmp_path, barrier_url=sim.url)
        result = edge("device", "barrier", "open", "--lane", "1", "--config", str(config),
                      "--reason", "commissioning", "--actor", "technician:kim")
        assert result.returncode == 0, result.stdout + result.stderr
        report = json.loads(result.stdout.splitlines()[-1])
        assert (report["lane"], report["result"], report["status"]["arm"]) == ("lane-1", "up", "up")
        assert sim.command("stats")["open_pulses"] == 1
    audit = tmp_path / "state" / "audit"
    assert report["record"] == str(audit)
    (command,) = [r for r in audit_records(tmp_path / "state") if r["kind"] == "barrier_command"]
    assert (command["lane"], command["actor"]) == ("lane-1", "technician:kim")
    assert (command["payload"]["action"], command["payload"]["reason"]) == ("open", "commissioning")
    assert edge("audit", "verify", "--config", str(config)).returncode == 0
    # The centre hears of it too: queued in the outbox under the barrier topic, with its audit seq.
    with Outbox(tmp_path / "state" / "outbox.sqlite", source="test") as outbox:
        assert missing_from_outbox(audit / "audit.jsonl", outbox) == []


def test_open_with_the_barrier_unreachable_is_refused_and_not_recorded(tmp_path):
    with SimProcess("barrier", "--tcp", "0") as sim:
        url = sim.url
    result = edge("device", "barrier", "open", "--lane", "lane-1", "--config", str(lane_config(tmp_path, url)))
    assert result.returncode == 1
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["result"] == "refused"
    assert report["status"]["health"]["state"] == "offline"
    assert not [r for r in audit_records(tmp_path / "state") if r["kind"] == "barrier_command"]


def test_open_while_the_service_holds_the_audit_log_is_refused_and_says_where_to_do_it(tmp_path):
    with SimProcess("barrier", "--tcp", "0", *FAST_BARRIER_SIM) as sim:
        config = lane_config(tmp_path, barrier_url=sim.url)
        with AuditLog(tmp_path / "state" / "audit"):  # as the running service holds it
            result = edge("device", "barrier", "open", "--lane", "1", "--config", str(config))
        assert sim.command("stats")["open_pulses"] == 0
    assert result.returncode == 1
    assert "The service is running and drives this barrier" in result.stderr
    assert "technician page" in result.stderr


def test_barrier_status(tmp_path):
    with SimProcess("barrier", "--tcp", "0") as sim:
        sim.command("loop on")
        result = edge("device", "barrier", "status", "--lane", "1", "--config", str(lane_config(tmp_path, sim.url)))
    assert result.returncode == 0, result.stdout + result.stderr
    status = json.loads(result.stdout)["status"]
    assert (status["arm"], status["loop_occupied"], status["health"]["state"]) == ("down", True, "online")


@pytest.mark.parametrize(
    ("lane", "message"), [("7", "no lane '7'; lanes are 1 (lane-1)"), ("1", "lane lane-1 has no barrier configured")]
)
def test_a_lane_without_that_device_is_a_clear_error(tmp_path, lane, message):
    result = edge("device", "barrier", "open", "--lane", lane, "--config", str(lane_config(tmp_path)))
    assert result.returncode == 2
    assert message in result.stderr


def test_reader_listen_prints_documents_and_rescans(tmp_path):
    with SimProcess("reader", "--tcp", "0", "--framing", "stx") as sim:
        config = lane_config(tmp_path, reader_url=sim.url)
        listen = subprocess.Popen(
            [sys.executable, "-m", "edge", "device", "reader", "listen", "--lane", "1", "--config", str(config),
             "--count", "1", "--seconds", str(DEADLINE_S * 2)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        try:
            assert json.loads(listen.stdout.readline())["event"] == "health"  # the link is open
            sim.command("present " + " ".join(TD3_BAD))
            sim.command("present " + " ".join(TD3))
            out, err = listen.communicate(timeout=DEADLINE_S * 3)
        finally:
            listen.kill()
    assert listen.returncode == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    kinds = [e["event"] for e in events if e["event"] != "health"]
    assert kinds == ["rescan", "document"]
    assert events[-1]["mrz"]["document_number"] == "L898902C3"


def test_fault_bench_reports_one_json_line(tmp_path):
    result = edge("bench", "faults", "--iterations", "15", "--seed", "3", timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["iterations"] == 15
    assert (report["unintended_opens"], report["crashes"], report["unsurfaced_faults"], report["unrecovered"]) == (
        0, 0, 0, 0)
    assert set(report) >= {"recovery_p99_s", "faults"}  # its speed is the bench's business, not this test's
