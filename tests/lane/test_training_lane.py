"""A training lane on the real service, worked in Debian's chromium: marked on the officer's screen,
given simulated devices though the checkpoint is not the demo, and recorded apart: none of its
decisions or actions reach the live audit log, the history search, or the outbox for the centre."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.support.kiosk_browser import demo_config, log_in

pytestmark = pytest.mark.slow  # a real service and a browser

LANE_WAIT_S = 90


def _training_config(tmp_path: Path) -> Path:
    """The demo checkpoint with lane-2 as a training lane, and no demo simulators: only the training
    lane gets a simulated barrier and reader (lane-1 runs without devices)."""
    config = demo_config(tmp_path)
    text = config.read_text()
    assert 'id = "lane-2"\n' in text and "simulators = true" in text
    text = text.replace('id = "lane-2"\n', 'id = "lane-2"\ntraining = true\n')
    config.write_text(text.replace("simulators = true", "simulators = false"))
    return config


def _records(path: Path) -> list[dict]:
    if not path.exists():
        return []
    text = path.read_text()
    return [json.loads(line) for line in text[: text.rfind("\n") + 1].splitlines()]


def test_a_training_lane_is_marked_and_recorded_apart(tmp_path, start_service, page: Page):
    running = start_service(_training_config(tmp_path))
    running.wait_until("/healthz")
    state = tmp_path / "state"
    log_in(page, running.url, "officer", "officer")

    training_lane = page.locator('section.lane[data-lane="lane-2"]')
    expect(training_lane).to_have_class("lane training", timeout=20000)
    expect(training_lane.locator(".training-banner")).to_be_visible()
    expect(page.locator('section.lane[data-lane="lane-1"] .training-banner')).to_be_hidden()

    # The officer works the training lane as usual: the car is read with its simulated devices, and
    # the officer refers it (again with the next car, should this one have driven off first).
    audit = state / "training" / "audit" / "audit.jsonl"
    deadline = time.monotonic() + LANE_WAIT_S
    while not any(r["kind"] == "officer_action" for r in _records(audit)):
        assert time.monotonic() < deadline, "no officer action on the training lane was recorded"
        expect(training_lane.locator(".lane-state")).to_have_attribute("data-state", "decision_pending",
                                                                       timeout=LANE_WAIT_S * 1000)
        training_lane.locator(".actions button[data-kind=refer]").click()
        time.sleep(2)
    while "crossing_closed" not in {r["kind"] for r in _records(audit)}:
        assert time.monotonic() < deadline + LANE_WAIT_S, "the referred training crossing never closed"
        time.sleep(0.5)

    training = _records(audit)
    assert {"decision", "officer_action", "crossing_closed"} <= {r["kind"] for r in training}
    assert {r["lane"] for r in training if r["kind"] == "decision"} == {"lane-2"}
    with sqlite3.connect(state / "training" / "history.sqlite") as kept_apart:
        assert kept_apart.execute("SELECT COUNT(*) FROM crossings WHERE lane_id = 'lane-2'").fetchone()[0] >= 1
    lanes = {lane["lane_id"]: lane for lane in page.request.get(running.url + "/api/lanes").json()}
    assert (lanes["lane-1"]["training"], lanes["lane-2"]["training"]) == (False, True)
    assert {d["device"] for d in lanes["lane-2"]["devices"]} == {"lane-2/barrier", "lane-2/reader"}
    assert lanes["lane-1"]["devices"] == []  # no demo simulators: the live lane has none

    live = _records(state / "audit" / "audit.jsonl")
    assert [r for r in live if r["lane"] == "lane-2"] == []
    with sqlite3.connect(state / "outbox.sqlite") as outbox:
        events = [json.loads(row[0]) for row in outbox.execute("SELECT event FROM events")]
    assert [e for e in events if e.get("lane") == "lane-2"] == []
    history = page.request.get(running.url + "/api/history?limit=500").json()
    assert [c for c in history if c["lane_id"] == "lane-2"] == []
