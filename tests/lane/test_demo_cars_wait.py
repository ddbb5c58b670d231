"""The demo a newcomer can act in: a car waits at the barrier for the officer's answer, well past the
fixed schedule, and goes once the officer has answered on the kiosk (in Debian's chromium)."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from edge.synthetic.scratch import demo_config_text, free_loopback_port
from edge.synthetic.timeline import LEAVE_S, STOP_MAX_S
from tests.support.kiosk_browser import audit_records, log_in

pytestmark = [pytest.mark.slow, pytest.mark.live]  # a real service and a browser

LANE_WAIT_S = 90


def _crossing(page: Page, url: str, lane_id: str) -> dict | None:
    lanes = {lane["lane_id"]: lane for lane in page.request.get(url + "/api/lanes").json()}
    return lanes[lane_id]["crossing"]


def test_a_car_waits_for_the_officer_and_goes_when_answered(tmp_path, start_service, page: Page):
    config = tmp_path / "edge.toml"
    config.write_text(demo_config_text(tmp_path / "state", free_loopback_port(), cars_wait=True))
    running = start_service(config)
    running.wait_until("/healthz")
    log_in(page, running.url, "officer", "officer")
    lane = page.locator('section.lane[data-lane="lane-1"]')
    expect(lane.locator(".lane-state")).to_have_attribute("data-state", "decision_pending", timeout=LANE_WAIT_S * 1000)
    waiting = _crossing(page, running.url, "lane-1")
    assert waiting is not None

    # On the fixed schedule this car would be gone by now; it still waits for an answer.
    time.sleep(STOP_MAX_S + LEAVE_S + 5)
    expect(lane.locator(".lane-state")).to_have_attribute("data-state", "decision_pending")
    still = _crossing(page, running.url, "lane-1")
    assert still is not None and still["crossing_id"] == waiting["crossing_id"] and still["action"] is None

    # Answered, it goes: through the barrier if the answer opened it, away if not.
    lane.locator(".actions button[data-kind=confirm]").click()
    deadline = time.monotonic() + 30
    while not any(r["kind"] == "crossing_closed" and r["crossing_id"] == waiting["crossing_id"]
                  for r in audit_records(tmp_path / "state")):
        assert time.monotonic() < deadline, "the answered car never left the lane"
        time.sleep(0.5)
    closed = next(r for r in audit_records(tmp_path / "state") if r["kind"] == "crossing_closed"
              and r["crossing_id"] == waiting["crossing_id"])
    opened = any(r["kind"] == "barrier_command" and r["crossing_id"] == waiting["crossing_id"]
                 for r in audit_records(tmp_path / "state"))
    assert closed["payload"]["barrier_opened"] == opened
