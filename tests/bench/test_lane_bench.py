"""`edge bench lane` runs the real demo service and watches it from the kiosk's websocket, logged in
like a kiosk (the feed refuses anyone without a session). Its figures are not asserted here."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.live]  # real processes and waits: seconds per test


def test_the_lane_bench_watches_the_demo_through_the_logged_in_feed():
    result = subprocess.run([sys.executable, "-m", "edge", "bench", "lane", "--seconds", "8"],
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(result.stdout.splitlines()[-1])
    assert figures["seconds"] == 8.0
    assert figures["fps"] > 0, "camera states arrived over the feed"
    assert {"crossings", "decision_p50_ms", "decision_p95_ms", "revisions"} <= set(figures)
