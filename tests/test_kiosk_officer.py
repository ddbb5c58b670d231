"""The officer's screen in Debian's chromium on the real demo crossing: a crossing arrives, the
officer acts on it with the keyboard, and the simulated barrier opens; without a login nothing can."""

from __future__ import annotations

import json
import re
import time

from playwright.sync_api import Page, expect

from tests.kiosk_browser import demo_config, keep_screenshot, log_in

DEMO_WAIT_S = 45  # a demo car arrives every ~20 s per lane; two lanes give several chances


def _lanes(page: Page, url: str) -> dict[str, dict]:
    response = page.request.get(f"{url}/api/lanes")
    assert response.ok, response.text()
    return {lane["lane_id"]: lane for lane in response.json()}


def _act_on_the_first_decision(page: Page, url: str) -> tuple[str, dict]:
    """Wait for a decision the officer may act on and act on it by keyboard: Enter confirms a CLEAR;
    anything else is overridden with a reason (O, the dialog). Returns the lane and its crossing.
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
        page.keyboard.press(str(index + 1))  # select the lane
        expect(lane).to_have_class("lane selected")
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
            return lane_id, _lanes(page, url)[lane_id]["crossing"] or {}
        # Refused (the decision changed, or the car left): the words are on screen; try the next one.
    raise AssertionError(f"no crossing could be acted on within {DEMO_WAIT_S} s")


def test_officer_acts_on_a_demo_crossing_and_the_barrier_opens(tmp_path, start_service, page):
    running = start_service(demo_config(tmp_path))
    running.wait_until("/healthz")
    log_in(page, running.url, "officer", "officer")
    expect(page.locator("#connection")).to_have_text("live")
    expect(page.locator("#user")).to_have_text("officer (officer)")
    expect(page.locator("section.lane")).to_have_count(2)

    lane_id, crossing = _act_on_the_first_decision(page, running.url)
    lane = page.locator(f"section.lane[data-lane='{lane_id}']")
    # The barrier simulator opened: the lane passes and the barrier reports its arm up.
    expect(lane.locator(".lane-state")).to_have_text("Passing", timeout=10000)
    expect(lane.locator(".device[data-device=barrier]")).to_have_attribute("data-arm", "up", timeout=10000)
    assert crossing["barrier_opened"] is True
    assert crossing["action"]["actor"] == "officer" and crossing["action"]["role"] == "officer"
    assert crossing["action"]["kind"] == ("confirm" if crossing["decision"]["outcome"] == "CLEAR" else "override")
    expect(lane.locator(".action-message")).to_contain_text("by officer")
    expect(lane.locator(".actions button:enabled")).to_have_count(0)  # acted on: nothing more to press
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
    number = (crossing.get("document") or {}).get("document_number")
    if number:
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
    expect(lanes.nth(1)).to_have_class("lane selected")
    expect(lanes.nth(0)).to_have_class("lane")
    page.keyboard.press("1")
    expect(lanes.nth(0)).to_have_class("lane selected")
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
