"""The officer's page in a real browser: lanes, live camera tiles, and recovery after a server restart
(the session lives in the state dir, so the officer stays logged in)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import service_config
from tests.support.kiosk_browser import log_in

pytestmark = pytest.mark.slow  # a real service, or a browser: seconds per test


def test_page_shows_every_lane_with_live_cameras(service, page, tmp_path):
    service.wait_until("/readyz", 200)
    # The pages run under the kiosk's Content-Security-Policy: nothing of theirs may be blocked.
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text
            else None)
    log_in(page, service.url, "officer", "officer")
    expect(page.locator("#connection")).to_have_text("live")
    lanes = page.locator("section.lane")
    expect(lanes).to_have_count(2)
    expect(lanes.nth(0).locator(".lane-name")).to_have_text("Lane 1 (cars, entry)")
    expect(lanes.nth(0).locator(".lane-state")).to_have_text("Idle")
    expect(lanes.nth(1).locator(".camera-state").first).to_contain_text("live")
    # The camera tiles really show frames: the MJPEG image has the preview's size.
    page.wait_for_function(
        "() => [...document.querySelectorAll('.camera img')].every(img => img.naturalWidth === 640)", timeout=15000
    )
    expect(lanes.nth(0)).not_to_have_class(re.compile("degraded"))
    expect(lanes.nth(0).locator(".degraded-banner")).to_be_hidden()
    page.screenshot(path=str(tmp_path / "kiosk.png"))
    assert not blocked, blocked


def test_page_survives_a_server_restart(tmp_path, start_service, folder_cameras, page):
    config = service_config(tmp_path, lambda lane, role: str(folder_cameras))
    first = start_service(config)
    first.wait_until("/readyz", 200)
    log_in(page, first.url, "officer", "officer")
    expect(page.locator("#connection")).to_have_text("live")
    first.stop()
    expect(page.locator("#connection")).to_contain_text("lost")
    second = start_service(config)
    second.wait_until("/readyz", 200)
    expect(page.locator("#connection")).to_have_text("live", timeout=20000)
    expect(page.locator("section.lane")).to_have_count(2)  # re-synced, not duplicated
    page.wait_for_function(
        "() => [...document.querySelectorAll('.camera img')].every(img => img.naturalWidth === 640)", timeout=20000
    )


def test_a_dead_camera_makes_its_lane_visibly_degraded(tmp_path, start_service, folder_cameras, page):
    def url(lane: str, role: str) -> str:
        return str(tmp_path / "unplugged") if (lane, role) == ("lane-2", "face") else str(folder_cameras)

    running = start_service(service_config(tmp_path, url))
    running.wait_until("/healthz")
    log_in(page, running.url, "officer", "officer")
    lanes = page.locator("section.lane")
    expect(lanes.nth(1)).to_have_class(re.compile(r"\bdegraded\b"), timeout=15000)
    banner = lanes.nth(1).locator(".degraded-banner")
    expect(banner).to_contain_text("LANE DEGRADED — face camera")
    expect(lanes.nth(1).locator(".camera[data-role=face] .camera-state")).not_to_contain_text("live")
    expect(lanes.nth(0)).not_to_have_class(re.compile("degraded"), timeout=15000)
    assert running.get("/readyz")[0] == 503
