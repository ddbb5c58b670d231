"""The login page in Debian's chromium, driven by the keyboard only, as at a lane without a mouse."""

from __future__ import annotations

import json
import time

import pytest
from playwright.sync_api import expect

from tests.support.kiosk_auth_server import PASSWORD, serving

pytestmark = pytest.mark.slow  # a real service, or a browser: seconds per test


@pytest.fixture
def server(tmp_path):
    with serving(tmp_path / "state", throttle_after=3, throttle_s=3, pin_length=4) as running:
        running.add("alice", lanes=("lane-1", "lane-2"))
        running.auth.accounts.admin.set_badge("alice", "B-0042", "4711")
        yield running


def test_log_in_with_the_keyboard_then_log_out(server, page):
    page.goto(f"{server.url}/login?next=/login")
    expect(page.locator("#username")).to_be_focused()
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    page.keyboard.type("not-the-password")
    page.keyboard.press("Enter")
    expect(page.locator("#error")).to_have_text("wrong user name or password")
    expect(page.locator("#password")).to_be_focused()
    expect(page.locator("#password")).to_have_value("")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")

    # Logged in: the page says who, from /api/me, and Continue has the focus.
    expect(page.locator("#who")).to_have_text("alice")
    expect(page.locator("#lanes")).to_have_text("lanes lane-1, lane-2")
    expect(page.locator("#continue")).to_be_focused()
    me = json.loads(page.goto(f"{server.url}/api/me").text())
    assert me["username"] == "alice" and me["role"] == "officer" and me["lanes"] == ["lane-1", "lane-2"]
    assert page.context.cookies()[0]["httpOnly"] is True

    page.goto(f"{server.url}/login")
    expect(page.locator("#continue")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#logout")).to_be_focused()
    page.keyboard.press("Enter")  # a change: sent with the session's CSRF token by auth.js
    expect(page.locator("#username")).to_be_focused()
    assert page.goto(f"{server.url}/api/me").status == 401


def test_badge_and_pin_and_the_throttle_words(server, page):
    page.goto(f"{server.url}/login?next=/api/me")
    expect(page.locator("#username")).to_be_focused()
    page.keyboard.press("Shift+Tab")  # back to the mode buttons: badge and PIN
    expect(page.locator("#mode-badge")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#badge")).to_be_focused()
    page.keyboard.type("B-0042")  # as a badge reader types it
    page.keyboard.press("Tab")
    for attempt in range(4):
        page.keyboard.type("1234")
        page.keyboard.press("Enter")
        if attempt < 3:
            expect(page.locator("#error")).to_have_text("wrong badge or PIN", timeout=20000)  # hashing: slow under load
            expect(page.locator("#pin")).to_be_focused()  # the badge stays, the wrong PIN is gone
            expect(page.locator("#pin")).to_have_value("")
    expect(page.locator("#error")).to_contain_text("too many failed logins: try again in", timeout=20000)
    time.sleep(3)  # the configured wait (throttle_s); nothing is locked
    page.keyboard.type("4711")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}/api/me")
    assert json.loads(page.locator("body").inner_text())["username"] == "alice"
