"""One lane of the real service driven by the test: simulated barrier and document reader processes
(`python -m hardware.sim`, real protocols over loopback TCP) that outlive the service they serve, and
still cameras, so a crossing opens, reaches its decision and waits exactly when the test says."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from edge.synthetic.scratch import free_loopback_port
from hardware.sim.client import SimProcess
from tests.support.hardware_helpers import TD3
from tests.support.running_service import RunningService

LANE = "lane-1"


class SimLane:
    """The simulators of one lane and a config for the service that uses them; close() ends them."""

    def __init__(self, folder: Path, state_dir: Path, frames: Path):
        self.barrier = SimProcess("barrier", "--tcp", "0")
        try:
            self.reader = SimProcess("reader", "--tcp", "0", "--framing", "stx")
        except Exception:
            self.barrier.close()
            raise
        self.port = free_loopback_port()
        self.state_dir = state_dir
        self.config = folder / "edge.toml"
        # Still cameras (no presence, no plate), a lane that needs only the document, and short
        # timeouts: the decision waits for the officer a second or two after the document is read.
        self.config.write_text(f"""
state_dir = "{state_dir}"

[checkpoint]
id = "test"
name = "Test crossing"
country = "UTO"

[kiosk]
port = {self.port}
auth.demo_accounts = true

[[lanes]]
id = "{LANE}"
name = "Lane 1"
cameras.plate = {{ url = "{frames}", fps = 5 }}
cameras.face = {{ url = "{frames}", fps = 5 }}
timeouts = {{ settle_s = 0.5, reading_s = 1.0 }}
policy = {{ require_plate = false, require_face_match = false }}
barrier = {{ link = {{ url = "{self.barrier.url}" }} }}
reader = {{ link = {{ url = "{self.reader.url}" }}, framing = "stx" }}
""")

    def vehicle_arrives(self) -> None:
        """A car on the loop whose driver hands over the passport."""
        self.barrier.command("loop on")
        self.reader.command("present " + " ".join(TD3))

    def close(self) -> None:
        self.reader.close()
        self.barrier.close()

    def __enter__(self) -> SimLane:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def kiosk_client(service: RunningService) -> httpx.Client:
    """A client of the service's kiosk API."""
    return httpx.Client(base_url=service.url, timeout=30)


def log_in(client: httpx.Client, username: str = "officer") -> str:
    """Log in as a demo account (officer, tech, super: the password is the name); returns the CSRF token."""
    response = client.post("/api/login", json={"username": username, "password": username})
    assert response.status_code == 200, response.text
    return response.json()["csrf_token"]


def lane_view(client: httpx.Client) -> dict:
    return next(view for view in client.get("/api/lanes").json() if view["lane_id"] == LANE)


def wait_for_lane(client: httpx.Client, condition, what: str, timeout: float = 60.0) -> dict:
    """The lane's view once `condition(view)` holds."""
    deadline = time.monotonic() + timeout
    view = None
    while time.monotonic() < deadline:
        view = lane_view(client)
        if condition(view):
            return view
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}; the lane was {view}")


def pending(view: dict) -> bool:
    crossing = view["crossing"]
    return view["snapshot"]["state"] == "decision_pending" and bool(crossing and crossing["decision"])


@dataclass(frozen=True)
class Pending:
    """The service, an officer's logged-in client, and the crossing waiting for that officer."""

    service: RunningService
    client: httpx.Client
    csrf: str
    crossing: dict

    def act(self, kind: str, crossing: dict | None = None) -> httpx.Response:
        crossing = crossing or self.crossing
        path = f"/api/lanes/{LANE}/crossings/{crossing['crossing_id']}/actions"
        body = {"kind": kind, "revision": crossing["decision"]["revision"]}
        return self.client.post(path, json=body, headers={"X-CSRF-Token": self.csrf})


@contextmanager
def pending_crossing(start_service: Callable[[Path], RunningService], lane: SimLane) -> Iterator[Pending]:
    """Start the service on `lane`'s config, log in, let a car arrive and wait for its decision."""
    service = start_service(lane.config)
    service.wait_until("/readyz", timeout=90)
    with kiosk_client(service) as client:
        csrf = log_in(client)
        lane.vehicle_arrives()
        yield Pending(service, client, csrf, wait_for_lane(client, pending, "a decision waiting for the officer")
                      ["crossing"])
