"""The technician's page in Debian's chromium on the real demo checkpoint: camera numbers measured
on live frames, a plate ROI drawn with the mouse (recorded, with the command that writes it),
and device tests that reach the simulated devices, each on the audit record with the user's name."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest
from playwright.sync_api import Page, expect

from tests.support.kiosk_browser import audit_records, demo_config, keep_screenshot, log_in

pytestmark = [pytest.mark.slow, pytest.mark.live]  # a real service, or a browser: seconds per test

DEMO_WAIT_S = 40


def _until_done(page: Page, button: str, done: str, wait_for: str | None = None) -> str:
    """Press `button` until the result says `done` (a refusal, e.g. a car at the lane, means: later)."""
    result = page.locator("#device-result")
    deadline = time.monotonic() + DEMO_WAIT_S
    while time.monotonic() < deadline:
        if wait_for is not None:
            expect(page.locator("#lane-state")).to_have_text(wait_for, timeout=DEMO_WAIT_S * 1000)
        page.locator(button).click()
        expect(result).not_to_have_text("testing…", timeout=20000)
        text = result.inner_text()
        if done in text:
            return text
        assert text.startswith("Not done: "), text  # refused in words, and tried again later
        time.sleep(1)
    raise AssertionError(f"{button} never did {done!r} within {DEMO_WAIT_S} s")


def test_technician_measures_draws_an_roi_and_tests_the_devices(tmp_path, start_service, page):
    config = demo_config(tmp_path)
    running = start_service(config)
    running.wait_until("/healthz")
    log_in(page, running.url, "tech", "tech", path="/technician")
    plate = page.locator(".tech-camera[data-role=plate]")
    face = page.locator(".tech-camera[data-role=face]")

    # Numbers from the newest frames: focus and exposure on both cameras, sizes in pixels.
    expect(plate.locator(".focus")).to_have_text(re.compile(r"^\d+\.\d \(higher is sharper"), timeout=30000)
    expect(plate.locator(".exposure")).to_contain_text("mean grey")
    expect(face.locator(".focus")).to_have_text(re.compile(r"^\d+\.\d "), timeout=30000)
    expect(face.locator(".size")).to_have_text(re.compile(r"px \(need 90|no face in view"))
    expect(plate.locator(".size")).to_have_text(re.compile(r"px high \(need 15|no plate characters in view"))

    # Draw the ROI over the middle of the plate camera: a 640-px preview of a 1280x720 frame.
    canvas = plate.locator("canvas.overlay")
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.5)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.9, steps=5)
    page.mouse.up()
    page.locator("#roi-save").click()
    command = page.locator("#roi-command")
    expect(command).to_contain_text("edge calibrate roi --lane lane-1 --corners")
    line = next(text for text in command.inner_text().splitlines() if text.startswith("edge calibrate roi"))
    x0, y0, x1, _, _, y1, _, _ = (int(v) for v in re.findall(r"\d+", line.split("--corners")[1])[:8])
    assert abs(x0 - 320) <= 4 and abs(y0 - 360) <= 4 and abs(x1 - 960) <= 4 and abs(y1 - 648) <= 4, line
    # The command is real: as a dry run against this crossing's config it says what it would write.
    dry = subprocess.run([sys.executable, "-m", "edge", *line.split()[1:], "--config", str(config), "--dry-run"],
                         capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    assert f"roi = {{ x = {x0}, y = {y0}, width = {x1 - x0}, height = {y1 - y0} }}" in dry.stdout, dry.stdout

    # Device tests: the barrier pulses open while the lane is idle, and the reader presents the
    # last passport again (once the first car has brought one); refusals in between are in words.
    page.evaluate("""() => {
        const strip = document.getElementById('barrier-state');
        window.arms = new Set();
        new MutationObserver(() => window.arms.add(strip.dataset.arm)).observe(strip, {attributes: true});
    }""")
    _until_done(page, "#test-barrier", "the barrier was pulsed open", wait_for="idle")
    # The page polls every 2 s and the arm of an empty lane drops again at once: it must have left "down".
    page.wait_for_function("() => window.arms.has('up') || window.arms.has('moving')", timeout=15000)
    _until_done(page, "#test-reader", "presented to the reader again")
    keep_screenshot(page, tmp_path / "technician.png", "/tmp/kiosk-technician.png")

    records = audit_records(tmp_path / "state")
    roi = [r for r in records if r["kind"] == "config_change" and r["payload"].get("event") == "plate roi proposed"]
    assert roi and roi[0]["actor"] == "tech (technician)" and roi[0]["payload"]["command"] == line
    pulses = [r for r in records
              if r["kind"] == "barrier_command" and r["payload"]["reason"] == "technician test pulse"]
    assert pulses and pulses[0]["actor"] == "tech (technician)"
    tests = {(r["payload"]["device"], r["payload"]["event"]) for r in records if r["kind"] == "device_test"}
    assert {("reader", "requested"), ("barrier", "requested")} <= tests


def test_an_officer_may_not_use_the_technician_routes(service, page):
    service.wait_until("/healthz")
    log_in(page, service.url, "officer", "officer")
    answers = page.evaluate("""async () => {
        const pulse = await window.edgeAuth.send('/api/lanes/lane-1/devices/barrier/test');
        const roi = await window.edgeAuth.send('/api/lanes/lane-1/roi', {body: {x: 0, y: 0, width: 64, height: 64}});
        const check = await fetch('/api/lanes/lane-1/cameras/plate/check');
        return [pulse.status, (await pulse.json()).detail, roi.status, check.status];
    }""")
    assert answers == [403, "officer (officer) may not do this: it needs a technician", 403, 403]


def test_bad_requests_and_missing_devices_are_refused_in_words(service, page, tmp_path):
    service.wait_until("/readyz", 200)  # still-image cameras, no barrier or reader wired
    log_in(page, service.url, "tech", "tech", path="/technician")
    answers = page.evaluate("""async () => {
        const send = async (url, body) => {
            const r = await window.edgeAuth.send(url, body === undefined ? {} : {body});
            const detail = (await r.json()).detail;
            return [r.status, typeof detail === 'string' ? detail : detail[0].loc.at(-1)];
        };
        return [
            await send('/api/lanes/lane-1/devices/barrier/test'),
            await send('/api/lanes/lane-1/devices/reader/test'),
            await send('/api/lanes/lane-1/devices/door/test'),
            await send('/api/lanes/lane-9/devices/barrier/test'),
            await send('/api/lanes/lane-1/roi', {x: 10, y: 10, width: 5, height: 50}),
        ];
    }""")
    assert answers == [
        [409, "this lane has no barrier wired to the service"],
        [409, "this lane has no document reader wired to the service"],
        [422, "device"],
        [404, "no lane 'lane-9'"],
        [422, "width"],
    ]
    # The page shows what it measured on the still frames (no plate, no face in a grey image).
    expect(page.locator(".tech-camera[data-role=plate] .size")).to_have_text("no plate characters in view",
                                                                             timeout=30000)
    records = audit_records(tmp_path / "state")
    refused = [r for r in records if r["kind"] == "device_test" and r["payload"]["event"] == "refused"]
    assert [(r["payload"]["device"], r["actor"]) for r in refused] == [("barrier", "tech (technician)"),
                                                                        ("reader", "tech (technician)")]
