"""A training drill of ten scenarios, played in Debian's chromium on the real service: the supervisor
starts it on the training lane, an officer answers each car (two of them wrongly, on purpose), and
the debrief scores it as expected. The training lane is marked as one, gets simulated devices at a
checkpoint that is not the demo, and none of it reaches the live audit log, history or outbox."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.kiosk_browser import demo_config, keep_screenshot, log_in

pytestmark = [pytest.mark.slow, pytest.mark.live]  # a real service, two browsers, ten cars

REPO = Path(__file__).resolve().parents[2]
# The officer's answer to each scenario of config/drills/first-week.toml; two are wrong on purpose.
ANSWERS = {"clean-1": "let_through", "stolen-car": "deny", "lost-passport": "deny", "borrowed-passport": "refer",
           "clean-2": "refer", "expired": "refer", "muddy-plate": "refer", "misread-plate": "refer",
           "clean-3": "let_through", "stolen-car-2": "refer"}
CAR_WAIT_S = 90
# What the officer waits to see before answering these cases, as a trained officer would: the read that
# makes the case (a loaded machine may show a first decision before the plate or passport is read).
SEEN_BEFORE_ANSWERING = {
    "stolen-car": lambda c: bool(c["hits"]), "stolen-car-2": lambda c: bool(c["hits"]),
    "lost-passport": lambda c: bool(c["hits"]), "misread-plate": lambda c: c["plate"] is not None,
}


def _config(tmp_path: Path) -> Path:
    """The demo checkpoint with lane-2 as a training lane, no demo simulators (so only the training lane
    gets a simulated barrier and reader), and the shipped drills beside the config."""
    config = demo_config(tmp_path)
    text = config.read_text().replace('id = "lane-2"\n', 'id = "lane-2"\ntraining = true\n')
    assert "training = true" in text and "simulators = true" in text
    config.write_text(text.replace("simulators = true", "simulators = false"))
    shutil.copytree(REPO / "config" / "drills", tmp_path / "drills")
    return config


def _lane(page: Page, url: str) -> dict:
    return next(lane for lane in page.request.get(url + "/api/lanes").json() if lane["lane_id"] == "lane-2")


def _next_car(page: Page, url: str, answered: set[str], started_at: float, state: Path, scenario: str) -> dict:
    """The training lane's next crossing waiting for an answer, once it shows what its case needs seen; a car
    that came before the drill is sent away."""
    deadline = time.monotonic() + CAR_WAIT_S
    while time.monotonic() < deadline:
        lane = _lane(page, url)
        crossing = lane["crossing"]
        if (lane["snapshot"]["state"] == "decision_pending" and crossing and crossing["decision"]
                and crossing["crossing_id"] not in answered):
            if crossing["opened_at"] >= started_at:
                if SEEN_BEFORE_ANSWERING.get(scenario, lambda c: True)(crossing):
                    return crossing
                time.sleep(0.3)
                continue
            _answer(page, "refer", crossing, state)
            answered.add(crossing["crossing_id"])
        time.sleep(0.3)
    raise AssertionError("no car waited for an answer on the training lane")


def _training_records(state: Path) -> list[dict]:
    text = (state / "training" / "audit" / "audit.jsonl").read_text()
    return [json.loads(line) for line in text[: text.rfind("\n") + 1].splitlines()]


def _answer(page: Page, answer: str, crossing: dict, state: Path) -> None:
    lane = page.locator('section.lane[data-lane="lane-2"]')
    if answer == "let_through" and crossing["decision"]["outcome"] != "CLEAR":
        lane.locator(".actions button[data-kind=override]").click()
        page.locator("#override-reason").fill("checked by eye: let through")
        page.locator("#override-submit").click()
    else:
        kind = "confirm" if answer == "let_through" else answer
        lane.locator(f".actions button[data-kind={kind}]").click()
    deadline = time.monotonic() + 10
    while not any(r["kind"] == "officer_action" and r["crossing_id"] == crossing["crossing_id"]
                  for r in _training_records(state)):
        assert time.monotonic() < deadline, f"the answer to {crossing['crossing_id']} was not recorded"
        time.sleep(0.2)


@pytest.mark.timeout(900)  # ten cars, each answered as it comes
def test_a_drill_of_ten_scenarios_is_scored_as_answered(tmp_path, start_service, browser: Browser):
    running = start_service(_config(tmp_path))
    running.wait_until("/healthz")
    supervisor = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    officer = browser.new_context(viewport={"width": 1600, "height": 900}).new_page()

    log_in(supervisor, running.url, "super", "super", path="/supervisor")
    supervisor.select_option("#drill-start select[name=lane]", "lane-2")
    supervisor.select_option("#drill-start select[name=drill]", "first-week")
    supervisor.click("#drill-start button")
    expect(supervisor).to_have_url(f"{running.url}/supervisor/drills/lane-2-1", timeout=20000)
    run = supervisor.request.get(running.url + "/api/drills").json()["runs"][0]
    cars = {car["scenario"]: car for car in run["cars"]}
    assert [car["scenario"] for car in run["cars"]] == list(ANSWERS)

    state = tmp_path / "state"
    log_in(officer, running.url, "officer", "officer")
    expect(officer.locator('section.lane[data-lane="lane-2"]')).to_have_class("lane training", timeout=20000)
    expect(officer.locator('section.lane[data-lane="lane-2"] .training-banner')).to_be_visible()
    expect(officer.locator('section.lane[data-lane="lane-1"] .training-banner')).to_be_hidden()
    lanes = {lane["lane_id"]: lane for lane in officer.request.get(running.url + "/api/lanes").json()}
    assert (lanes["lane-1"]["training"], lanes["lane-2"]["training"]) == (False, True)
    assert {d["device"] for d in lanes["lane-2"]["devices"]} == {"lane-2/barrier", "lane-2/reader"}
    assert lanes["lane-1"]["devices"] == []  # no demo simulators: the live lane has none
    answered: set[str] = set()
    shown = {}
    for scenario, answer in ANSWERS.items():
        crossing = _next_car(officer, running.url, answered, run["started_at"], state, scenario)
        shown[scenario] = crossing
        override = officer.locator('section.lane[data-lane="lane-2"] .action-override')
        # An officer is not offered what only a supervisor may do: let a DENY through.
        if crossing["decision"]["outcome"] == "DENY":
            expect(override).to_be_hidden()
        else:
            expect(override).to_be_visible()
        _answer(officer, answer, crossing, state)
        answered.add(crossing["crossing_id"])

    # The staged cases reached the lane as staged.
    assert {hit["list"] for hit in shown["stolen-car"]["hits"]} == {"drill-lane-2-1"}
    assert shown["stolen-car"]["decision"]["outcome"] == "DENY"
    assert shown["lost-passport"]["decision"]["outcome"] == "DENY"
    assert shown["misread-plate"]["plate"]["text"] != cars["misread-plate"]["plate"]
    assert shown["clean-1"]["hits"] == [] and shown["clean-3"]["hits"] == []

    deadline = time.monotonic() + CAR_WAIT_S
    while not supervisor.request.get(running.url + "/api/drills").json()["runs"][0]["finished"]:
        assert time.monotonic() < deadline, "the drill's last car never left"
        time.sleep(1)
    result = supervisor.request.get(running.url + "/api/drills").json()["runs"][0]["result"]
    assert (result["right"], result["too_lenient"], result["too_strict"], result["missed"]) == (8, 1, 1, 0)
    verdicts = {score["scenario"]: score["verdict"] for score in result["scores"]}
    assert verdicts["clean-2"] == "too_strict" and verdicts["stolen-car-2"] == "too_lenient"

    supervisor.reload()
    expect(supervisor.locator(".debrief")).to_have_attribute("data-finished", "true")
    expect(supervisor.locator(".summary")).to_contain_text("8 of 10 right")
    expect(supervisor.locator('tr[data-scenario="stolen-car-2"]')).to_contain_text("wrong: too lenient")
    keep_screenshot(supervisor, tmp_path / "debrief.png", str(REPO / "docs" / "drill-debrief.png"))

    # Kept apart: the drill is in the training audit log, and nowhere the live records or the centre look.
    training = _training_records(state)
    assert "drill_started" in {r["kind"] for r in training}
    assert sum(r["kind"] == "officer_action" for r in training) >= len(ANSWERS)
    live = [json.loads(line) for line in (state / "audit" / "audit.jsonl").read_text().splitlines()]
    assert [r for r in live if r["lane"] == "lane-2"] == []
    with sqlite3.connect(state / "outbox.sqlite") as outbox:
        events = [json.loads(row[0]) for row in outbox.execute("SELECT event FROM events")]
    assert [e for e in events if e.get("lane") == "lane-2"] == []
    with sqlite3.connect(state / "training" / "history.sqlite") as kept_apart:
        assert kept_apart.execute("SELECT COUNT(*) FROM crossings WHERE lane_id = 'lane-2'").fetchone()[0] >= 9
    history = officer.request.get(running.url + "/api/history?limit=500").json()
    assert [c for c in history if c["lane_id"] == "lane-2"] == []
