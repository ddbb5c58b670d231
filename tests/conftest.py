"""Fixtures shared by the tests that run the real service."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.synthetic.scratch import demo_config_text, free_loopback_port
from edge.watchlist.store import WatchlistStore
from tests.support.running_service import RunningService
from tests.support.watchlist_authority import Authority


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # `make test` spreads the tests over several workers (pytest-xdist, --dist loadgroup). The live ones
    # watch the demo in real time, or flood the service: they share one worker and run one at a time, so
    # that two of them never compete for the CPU the demo's cameras run on.
    for item in items:
        if item.get_closest_marker("live") is not None:
            item.add_marker(pytest.mark.xdist_group("live"))


def service_config(tmp_path: Path, camera_url: Callable[[str, str], str]) -> Path:
    """The demo config on a free port with its own state dir, each camera's URL from `camera_url(lane, role)`."""
    text = demo_config_text(tmp_path / "state", free_loopback_port())
    for lane, seed in (("lane-1", 1), ("lane-2", 2)):
        for role in ("plate", "face"):
            text = text.replace(f"synthetic://{lane}/{role}?seed={seed}", camera_url(lane, role))
    path = tmp_path / "edge.toml"
    path.write_text(text)
    return path


def _port_of(config: Path) -> int:
    for line in config.read_text().splitlines():
        if line.startswith("port = "):
            return int(line.split("=")[1])
    raise AssertionError("no kiosk port in config")


@pytest.fixture
def start_service(tmp_path) -> Iterator[Callable[[Path], RunningService]]:
    started: list[RunningService] = []

    def start(config: Path) -> RunningService:
        running = RunningService(config, _port_of(config), tmp_path / f"service-{len(started)}.log")
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def folder_cameras(tmp_path) -> Path:
    """An image folder camera: four flat grey frames."""
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(4):
        cv2.imwrite(str(frames / f"{i:03d}.jpg"), np.full((720, 1280, 3), 40 + 40 * i, np.uint8))
    return frames


@pytest.fixture
def service(tmp_path, start_service, folder_cameras) -> RunningService:
    return start_service(service_config(tmp_path, lambda lane, role: str(folder_cameras)))


# Debian's chromium, driven by Playwright (which cannot download its own browsers here). Without the
# background-networking flags chromium keeps trying hosts this machine cannot reach.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1600, "height": 900})
    yield context.new_page()
    context.close()


@pytest.fixture
def authority(tmp_path) -> Iterator[Authority]:
    """The central authority: signs and publishes real watchlist bundles into tmp_path/authority."""
    authority = Authority(tmp_path / "authority")
    yield authority
    authority.close()


@pytest.fixture
def store(tmp_path) -> Iterator[WatchlistStore]:
    """An empty watchlist cache, as a crossing starts with."""
    store = WatchlistStore(tmp_path / "edge" / "watchlist.sqlite")
    yield store
    store.close()
