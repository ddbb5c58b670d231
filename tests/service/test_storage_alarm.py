"""The state disk full or read-only under the running service: it keeps running, refuses what it cannot
record and says why, raises an alarm (kiosk status, /readyz, /metrics, an ERROR log line) that clears by
itself once writes work again, and nothing it kept is damaged. Real filesystems: a size-limited tmpfs,
and an ext4 image the kernel turns read-only."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from edge.recording.outbox.queue import Outbox
from edge.recording.recorder import missing_from_outbox
from edge.service.storage import StorageMonitor, probe
from tests.support.kiosk_browser import log_in as browser_log_in
from tests.support.sim_lane import LANE, SimLane, kiosk_client, log_in, pending_crossing
from tests.support.small_filesystem import ext4_that_fails, fill, small_tmpfs

pytestmark = pytest.mark.slow  # a real service, or a browser: seconds per test


def test_probe_names_a_full_disk_and_the_monitor_clears_once_space_is_back(tmp_path):
    changes = []
    with small_tmpfs(tmp_path / "state", size="64k") as state:
        monitor = StorageMonitor(state, on_change=changes.append)
        assert probe(state) is None and monitor.check() is None
        fill(state / "filler")
        assert probe(state) == ("full", "the state disk is full")
        assert monitor.check() == "the state disk is full" and monitor.alarm.reason == "full"
        assert monitor.check() == "the state disk is full" and len(changes) == 1, "raised once, not per probe"
        (state / "filler").unlink()
        assert monitor.check() is None and monitor.alarm is None
        assert [change.reason if change else None for change in changes] == ["full", None]
        assert sorted(p.name for p in state.iterdir()) == [], "the probe leaves nothing behind"


def _wait(condition, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _alarm_metric(client: httpx.Client, reason: str) -> float:
    line = next(line for line in client.get("/metrics").text.splitlines()
                if line.startswith(f'edge_storage_alarm{{reason="{reason}"}}'))
    return float(line.split()[-1])


def _assert_alarm_shown(service, client: httpx.Client, reason: str, problem: str) -> None:
    readyz = _wait(lambda: (r := client.get("/readyz")).status_code == 503 and problem in r.text and r,
                   f"/readyz to report {problem!r}")
    assert f"storage alarm: {problem}" in readyz.text
    assert _alarm_metric(client, reason) == 1.0
    assert client.get("/api/status").json()["storage"]["problem"] == problem
    errors = [json.loads(line) for line in service.log().splitlines() if '"level": "error"' in line]
    assert any(e["msg"].startswith(f"storage alarm: {problem}") and e["device"] == "state disk" for e in errors)


def _assert_intact(state: Path) -> None:
    verify = subprocess.run([sys.executable, "-m", "edge", "audit", "verify", "--state-dir", str(state)],
                            capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    with sqlite3.connect(state / "outbox.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_full_state_disk_refuses_actions_raises_the_alarm_and_recovers(tmp_path, start_service, folder_cameras,
                                                                         page: Page):
    with small_tmpfs(tmp_path / "state", size="24m") as state, SimLane(tmp_path, state, folder_cameras) as lane:
        with pending_crossing(start_service, lane) as at:
            client = at.client
            assert _alarm_metric(client, "full") == 0.0 and client.get("/api/status").json()["storage"] is None
            browser_log_in(page, at.service.url, "officer", "officer")  # the officer's screen, logged in before
            banner = page.locator("#storage-alarm")
            expect(banner).to_be_hidden()

            fill(state / "filler")
            _assert_alarm_shown(at.service, client, "full", "the state disk is full")
            expect(banner).to_be_visible(timeout=20000)
            expect(banner).to_contain_text("STORAGE ALARM — the state disk is full")
            # Refused even if the audit file's last page could still take the record: an action is
            # never started on a disk that may stop it halfway.
            refused = at.act("refer")
            assert refused.status_code == 409, refused.text
            assert refused.json()["detail"] == "not recorded: the state disk is full, so the action was not taken"

            (state / "filler").unlink()
            _wait(lambda: client.get("/readyz").status_code == 200, "the alarm to clear")
            assert _alarm_metric(client, "full") == 0.0 and client.get("/api/status").json()["storage"] is None
            expect(banner).to_be_hidden(timeout=20000)
            assert "storage alarm cleared" in at.service.log()
            acted = at.act("refer")
            assert acted.status_code == 200, acted.text
        assert at.service.stop() == 0
        _assert_intact(state)
        with Outbox(state / "outbox.sqlite", source="test") as outbox:
            assert missing_from_outbox(state / "audit" / "audit.jsonl", outbox) == []


def test_a_state_disk_turned_read_only_refuses_actions_and_raises_the_alarm(tmp_path, start_service,
                                                                             folder_cameras):
    state = tmp_path / "state"
    with ext4_that_fails(state) as disk, SimLane(tmp_path, state, folder_cameras) as lane:
        with pending_crossing(start_service, lane) as at, kiosk_client(at.service) as technician:
            technician_csrf = log_in(technician, "tech")
            disk.fail()
            refused = at.act("refer")
            assert refused.status_code == 409, refused.text
            assert refused.json()["detail"] == "not recorded: the state disk is read-only, so the action was not taken"
            _assert_alarm_shown(at.service, at.client, "read_only", "the state disk is read-only")
            roi = technician.post(f"/api/lanes/{LANE}/roi", json={"x": 0, "y": 0, "width": 64, "height": 64},
                                  headers={"X-CSRF-Token": technician_csrf})
            assert roi.status_code == 409 and roi.json()["detail"] == "not recorded: the state disk is read-only"
            audited = (state / "audit" / "audit.jsonl").read_bytes()
        assert at.service.stop() == 0, "a read-only state disk does not keep the service from stopping cleanly"
        disk.repair()
        assert (state / "audit" / "audit.jsonl").read_bytes() == audited, "every acknowledged record kept"
        records = [json.loads(line) for line in audited.splitlines()]
        assert not any(r["kind"] == "officer_action" for r in records), "the refused action left no trace"
        _assert_intact(state)


def test_a_restart_onto_a_full_state_disk(tmp_path, start_service, folder_cameras):
    with small_tmpfs(tmp_path / "state", size="24m") as state, SimLane(tmp_path, state, folder_cameras) as lane:
        first = start_service(lane.config)
        first.wait_until("/readyz", timeout=90)
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=10)
        fill(state / "filler")
        # After a crash its databases' files are still there: it starts, with the alarm raised.
        second = start_service(lane.config)
        assert "storage alarm: the state disk is full" in second.wait_until("/readyz", status=503, timeout=90).decode()
        (state / "filler").unlink()
        second.wait_until("/readyz", timeout=30)
        assert second.stop() == 0

        # After a clean stop SQLite must create them again: it cannot start, and says why.
        fill(state / "filler")
        third = start_service(lane.config)
        assert third.process.wait(timeout=90) == 2
        assert "cannot start the crossing: " in third.log() and "(the state disk is full)" in third.log()
        (state / "filler").unlink()
        _assert_intact(state)
        with Outbox(state / "outbox.sqlite", source="test") as outbox:
            assert missing_from_outbox(state / "audit" / "audit.jsonl", outbox) == []
