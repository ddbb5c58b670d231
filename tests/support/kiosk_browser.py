"""Helpers for the kiosk's browser tests: the real demo checkpoint on a free port, and logging in."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.conftest import service_config


def demo_config(tmp_path: Path) -> Path:
    """The demo checkpoint as shipped (synthetic cameras, `[demo] simulators = true`), on a free port
    with its own state dir."""
    return service_config(tmp_path, lambda lane, role: f"synthetic://{lane}/{role}?seed={lane.rsplit('-', 1)[1]}")


def log_in(page: Page, url: str, username: str, password: str, path: str = "/") -> None:
    """Open `path`, get sent to the login page, log in, and land back on `path`."""
    page.goto(url + path)
    expect(page).to_have_url(f"{url}/login?next={path.replace('/', '%2F')}")
    page.fill("#username", username)
    page.fill("#password", password)
    page.press("#password", "Enter")
    expect(page).to_have_url(url + path, timeout=30000)  # a password hash takes a while on a busy machine


def keep_screenshot(page: Page, path: Path, copy_to: str) -> None:
    """A full-page screenshot in the test's tmp dir, and a copy where a person can look at it."""
    page.screenshot(path=str(path), full_page=True)
    shutil.copyfile(path, copy_to)


def audit_records(state_dir: Path) -> list[dict]:
    """Every record of the service's audit log, oldest first."""
    lines = (state_dir / "audit" / "audit.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line]
