"""A service started on an edited audit log says so: /readyz, /metrics, the kiosk and an ERROR line.

Issue 13, finding 18: started on a log with a record edited, the service was ready, warned of
nothing and kept appending.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest
from playwright.sync_api import expect

from tests.conftest import service_config
from tests.support.kiosk_browser import log_in

pytestmark = pytest.mark.slow  # a real service, or a browser: seconds per test


def _chain_metric(client: httpx.Client) -> float | None:
    lines = [line for line in client.get("/metrics").text.splitlines() if line.startswith("edge_audit_chain_broken")]
    return float(lines[0].split()[-1]) if lines else None


def _until(condition, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_an_edited_audit_log_raises_the_alarm_at_start(tmp_path, start_service, folder_cameras, page):
    config = service_config(tmp_path, lambda lane, role: str(folder_cameras))
    first = start_service(config)
    first.wait_until("/readyz", 200)
    with httpx.Client(base_url=first.url, timeout=20) as client:
        assert _until(lambda: _chain_metric(client) is not None, "the start check") and _chain_metric(client) == 0.0
        assert client.post("/api/login", json={"username": "officer", "password": "officer"}).status_code == 200
        assert client.get("/api/status").json()["audit"]["state"] == "ok"
    assert first.stop() == 0

    # Edit the first record (the first start's config) while the service is stopped.
    log_path = tmp_path / "state" / "audit" / "audit.jsonl"
    lines = log_path.read_bytes().splitlines(keepends=True)
    record = json.loads(lines[0])
    record["actor"] = "someone-else"
    lines[0] = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
    log_path.write_bytes(b"".join(lines))

    second = start_service(config)
    second.wait_until("/healthz")
    with httpx.Client(base_url=second.url, timeout=20) as client:
        readyz = _until(lambda: (r := client.get("/readyz")).status_code == 503 and "audit chain broken" in r.text
                        and r, "/readyz to report the broken chain")
        assert "line 1 (seq 1): content does not match its hash" in readyz.text
        assert _chain_metric(client) == 1.0
        assert client.post("/api/login", json={"username": "officer", "password": "officer"}).status_code == 200
        audit = client.get("/api/status").json()["audit"]
        assert audit["state"] == "broken" and "seq 1" in audit["problem"]
    assert "AUDIT CHAIN BROKEN" in second.log()
    log_in(page, second.url, "officer", "officer")
    expect(page.locator("#audit-alarm")).to_contain_text("AUDIT LOG ALTERED")
    expect(page.locator("#audit-alarm")).to_contain_text("seq 1")
