"""The officer's screen in Debian's chromium on the real demo checkpoint: a crossing arrives, the
officer acts on it with the keyboard, and the simulated barrier opens; without a login nothing can."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from tests.support.kiosk_browser import audit_records, demo_config, keep_screenshot, log_in

pytestmark = [pytest.mark.slow, pytest.mark.live]  # a real service, or a browser: seconds per test

SELECTED = re.compile(r"\bselected\b")  # the lane the keys act on (it may be degraded too)
DEMO_WAIT_S = 150  # a demo car arrives every ~20 s per lane; on a loaded machine many leave before a decision


@dataclass(frozen=True)
class Acted:
    lane_id: str
    crossing_id: str
    outcome: str
    document_number: str  # "—" when no document was read


# Every lane state and barrier arm position each lane's panel shows, however briefly (a car may
# pass in a second or two): recorded by watching the page's DOM, reset per lane before acting.
_WATCH = """() => {
    window.seen = {};
    for (const lane of document.querySelectorAll('section.lane')) {
        const id = lane.dataset.lane;
        window.seen[id] = {states: new Set(), arms: new Set()};
        const record = () => {
            window.seen[id].states.add(lane.querySelector('.lane-state').dataset.state);
            window.seen[id].arms.add(lane.querySelector('.device[data-device=barrier]').dataset.arm);
        };
        new MutationObserver(record).observe(lane, {subtree: true, attributes: true, childList: true,
                                                    characterData: true});
    }
}"""


def _act_on_the_first_decision(page: Page) -> Acted:
    """Wait for a decision the officer may act on and act on it by keyboard: Enter confirms a CLEAR;
    anything else is overridden with a reason (O, the dialog). Returns what the card showed.
    A decision that changes under the officer (409) or a car that leaves first means: next car."""
    deadline = time.monotonic() + DEMO_WAIT_S
    lanes = page.locator("section.lane")
    while time.monotonic() < deadline:
        ready = page.locator("section.lane:has(.action-confirm:enabled)")
        ready.first.wait_for(timeout=max(1.0, deadline - time.monotonic()) * 1000)
        lane_id = ready.first.get_attribute("data-lane")
        index = [lanes.nth(i).get_attribute("data-lane") for i in range(lanes.count())].index(lane_id)
        lane = lanes.nth(index)
        outcome = lane.locator(".outcome").get_attribute("data-outcome")
        acted = Acted(lane_id, lane.locator(".card").get_attribute("data-crossing") or "", outcome or "",
                      lane.locator(".doc-number").inner_text())
        page.keyboard.press(str(index + 1))  # select the lane
        expect(lane).to_have_class(SELECTED)
        page.evaluate("id => { window.seen[id].states.clear(); window.seen[id].arms.clear(); }", lane_id)
        if outcome == "CLEAR":
            page.keyboard.press("Enter")
        else:
            page.keyboard.press("o")
            if not page.locator("#override-dialog").is_visible():
                continue  # the car left between seeing the button and pressing O: the next one
            expect(page.locator("#override-reason")).to_be_focused()
            page.keyboard.type("known regular traveller; checked by eye")
            page.locator("#override-submit").click()
        message = lane.locator(".action-message")
        try:
            expect(message).to_have_text(re.compile(r"recorded|^Not done: |^Refused: "), timeout=10000)
        except AssertionError:
            continue  # the key came after the decision was gone: nothing was sent
        if "recorded" in message.inner_text():
            return acted
        # Refused (the decision changed, or the car left): the words are on screen; try the next one.
    raise AssertionError(f"no crossing could be acted on within {DEMO_WAIT_S} s")


def test_officer_acts_on_a_demo_crossing_and_the_barrier_opens(tmp_path, start_service, page):
    running = start_service(demo_config(tmp_path))
    running.wait_until("/healthz")
    log_in(page, running.url, "officer", "officer")
    expect(page.locator("#connection")).to_have_text("live")
    expect(page.locator("#user")).to_have_text("officer (officer)")
    expect(page.locator("section.lane")).to_have_count(2)

    page.evaluate(_WATCH)
    acted = _act_on_the_first_decision(page)
    # The barrier simulator opened: the lane went to passing and the barrier reported its arm up.
    page.wait_for_function("id => window.seen[id].states.has('passing') && window.seen[id].arms.has('up')",
                           arg=acted.lane_id, timeout=15000)
    # On record with the officer's name: the action, then the barrier command it caused.
    records = [r for r in audit_records(tmp_path / "state") if r["crossing_id"] == acted.crossing_id]
    action = next(r for r in records if r["kind"] == "officer_action")
    assert action["actor"] == "officer (officer)"
    assert action["payload"]["kind"] == ("confirm" if acted.outcome == "CLEAR" else "override")
    command = next(r for r in records if r["kind"] == "barrier_command")
    assert command["actor"] == "officer (officer)" and records.index(action) < records.index(command)
    keep_screenshot(page, tmp_path / "officer.png", "/tmp/kiosk-officer.png")

    # Reported, not asserted (same machine, same clock): from the decision's evidence time, and from
    # the moment the lane pushed it, to the card on screen.
    timings = page.evaluate("window.kioskTimings")
    report = {}
    for start in ("made_at", "pushed_at"):
        delays = sorted(round((t["shown_at"] - t[start]) * 1000) for t in timings if t[start] is not None)
        if delays:
            report[f"{start[:-3]}_to_card_ms"] = {"count": len(delays), "median": delays[len(delays) // 2],
                                                  "max": delays[-1]}
    print(json.dumps(report))

    # The crossing goes into the history once the car has gone; "/" searches it by document number.
    number = acted.document_number
    if number != "—":
        page.keyboard.press("/")
        expect(page.locator("#history-search")).to_be_focused()
        page.keyboard.type(number)
        rows = page.locator("#history-rows tr")
        expect(rows).to_have_count(1, timeout=30000)  # one passport, one crossing: only that one
        expect(rows).to_contain_text(number)


def test_without_a_login_the_page_goes_to_login_and_nothing_can_be_done(service, browser):
    service.wait_until("/healthz")
    stranger = browser.new_context()
    try:
        page = stranger.new_page()
        page.goto(service.url)
        expect(page).to_have_url(f"{service.url}/login?next=%2F")
        action = stranger.request.post(
            f"{service.url}/api/lanes/lane-1/crossings/lane-1-x/actions",
            data={"kind": "override", "revision": 1, "reason": "let me through"})
        assert action.status == 401
        for path in ("/api/history", "/api/status", "/api/lanes/lane-1/crossings/lane-1-x/plate.jpg",
                     "/api/lanes/lane-1/devices/barrier/test"):
            response = stranger.request.get(service.url + path) if not path.endswith("test") else \
                stranger.request.post(service.url + path)
            assert response.status == 401, (path, response.status)
    finally:
        stranger.close()


def test_lane_keys_and_a_technician_who_may_not_decide(service, page):
    service.wait_until("/readyz", 200)
    log_in(page, service.url, "tech", "tech")
    lanes = page.locator("section.lane")
    expect(lanes).to_have_count(2)
    page.keyboard.press("2")
    expect(lanes.nth(1)).to_have_class(SELECTED)
    expect(lanes.nth(0)).not_to_have_class(SELECTED)
    page.keyboard.press("1")
    expect(lanes.nth(0)).to_have_class(SELECTED)
    # No crossing at these lanes (a still image): no card, and the history says so.
    expect(lanes.nth(0).locator(".card")).to_be_hidden()
    expect(page.locator("#history-note")).to_have_text("last 0")
    expect(page.locator("#watchlist")).to_contain_text("Watchlist")
    # A technician is not an officer: the API refuses a decision even with the session's CSRF token.
    refused = page.evaluate("""async () => {
        const r = await window.edgeAuth.send('/api/lanes/lane-1/crossings/c/actions',
                                             {body: {kind: 'confirm', revision: 1}});
        return [r.status, (await r.json()).detail];
    }""")
    assert refused == [403, "a technician may not act on crossings"]
