"""A whole crossing through the real service: the demo's synthetic cameras, simulated barrier and
reader over their real protocols, a signed watchlist, an officer acting over the kiosk API, and the
audit log that must show it all, in order, before it took effect."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import httpx
import pytest

from edge.synthetic.scratch import demo_config_text, free_loopback_port

pytestmark = pytest.mark.slow  # a real service, or a browser: seconds per test

DEADLINE_S = 120  # a demo vehicle arrives every ~20 s per lane; reading it takes a few more


@pytest.fixture
def demo(tmp_path, start_service):
    config = tmp_path / "edge.toml"
    config.write_text(demo_config_text(tmp_path / "state", free_loopback_port()))
    service = start_service(config)
    service.wait_until("/healthz", timeout=90)
    return service, tmp_path / "state"


def _login(client: httpx.Client) -> str:
    response = client.post("/api/login", json={"username": "officer", "password": "officer"})
    assert response.status_code == 200, response.text
    return response.json()["csrf_token"]


def _pending_crossing(client: httpx.Client) -> dict:
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        for lane in client.get("/api/lanes").json():
            crossing = lane["crossing"]
            if lane["snapshot"]["state"] == "decision_pending" and crossing and crossing["decision"]:
                return lane
        time.sleep(0.3)
    raise AssertionError("no crossing reached a decision in time")


def test_officer_acts_on_a_decision_the_barrier_opens_and_the_audit_shows_it_in_order(demo):
    service, state = demo
    with httpx.Client(base_url=service.url, timeout=30) as client, httpx.Client(base_url=service.url) as stranger:
        csrf = _login(client)
        deadline = time.monotonic() + DEADLINE_S
        while True:
            # A demo car leaves on its schedule: if it goes before the action lands, take the next one.
            assert time.monotonic() < deadline, "no crossing could be acted on in time"
            lane = _pending_crossing(client)
            crossing = lane["crossing"]
            decision = crossing["decision"]
            path = f"/api/lanes/{lane['lane_id']}/crossings/{crossing['crossing_id']}/actions"
            body = {"kind": "confirm", "revision": decision["revision"]}
            if decision["outcome"] != "CLEAR":
                body = {"kind": "override", "revision": decision["revision"], "reason": "checked by hand in the test"}
            assert stranger.post(path, json=body).status_code == 401, "no session, no action"
            stale = client.post(path, json={**body, "revision": decision["revision"] + 50},
                                headers={"X-CSRF-Token": csrf})
            assert stale.status_code == 409, stale.text
            if "changed" not in stale.json()["detail"]:
                continue  # gone already ("no longer at the lane")
            acted = client.post(path, json=body, headers={"X-CSRF-Token": csrf})
            if acted.status_code == 409:
                continue  # gone, or a new revision arrived, between the two requests
            break
        assert acted.status_code == 200, acted.text
        assert acted.json()["barrier_opened"] is True
        again = client.post(path, json=body, headers={"X-CSRF-Token": csrf})
        assert again.status_code == 409, "the barrier opens once per crossing"

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            now = next(v for v in client.get("/api/lanes").json() if v["lane_id"] == lane["lane_id"])
            if now["barrier"] and now["barrier"]["arm"] in ("moving", "up"):
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"the simulated barrier never lifted: {now['barrier']}")
        assert now["snapshot"]["state"] in ("passing", "idle")

    counted = f'edge_decisions_total{{lane="{lane["lane_id"]}",outcome="{decision["outcome"]}"}} '
    samples = [line for line in service.get("/metrics")[1].decode().splitlines() if line.startswith(counted)]
    assert samples and float(samples[0].split()[-1]) >= 1, "the decision is counted in the metrics"
    assert service.stop() == 0
    verify = subprocess.run([sys.executable, "-m", "edge", "audit", "verify", "--state-dir", str(state)],
                            capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    records = [json.loads(line) for line in (state / "audit" / "audit.jsonl").read_text().splitlines()]
    mine = [r for r in records if r["crossing_id"] == crossing["crossing_id"]]
    kinds = [r["kind"] for r in mine]
    assert "decision" in kinds and "officer_action" in kinds and "barrier_command" in kinds, kinds
    # Recorded before it took effect: the decision before the action, the action before the command.
    assert kinds.index("decision") < kinds.index("officer_action") < kinds.index("barrier_command")
    action = mine[kinds.index("officer_action")]
    assert action["actor"] == "officer (officer)" and action["payload"]["revision"] == decision["revision"]
    assert records[0]["kind"] == "config_change", "the service records the config it ran with"
