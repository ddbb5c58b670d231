"""The kiosk API's documented schema: the committed docs/kiosk-api.json is what the routes answer,
and every JSON route names its payload, so a field the page relies on cannot change unnoticed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from edge.kiosk.openapi import schema

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "docs" / "kiosk-api.json"


def test_the_committed_schema_is_the_routes_schema() -> None:
    # When this fails after a route or model change: python -m edge.kiosk.openapi > docs/kiosk-api.json
    assert json.loads(COMMITTED.read_text()) == schema()


def test_every_json_route_documents_its_payload() -> None:
    paths = schema()["paths"]
    undocumented = []
    documented = 0
    for path, operations in paths.items():
        for method, operation in operations.items():
            content = operation["responses"].get("200", {}).get("content", {})
            if "application/json" not in content:
                continue
            if content["application/json"]["schema"] in ({}, {"type": "object"}):
                undocumented.append(f"{method.upper()} {path}")
            else:
                documented += 1
    assert not undocumented, f"routes answering JSON without a response model: {undocumented}"
    assert documented >= 11
    lane_view = schema()["components"]["schemas"]["LaneViewOut"]
    assert {"lane_id", "snapshot", "cameras", "crossing"} <= set(lane_view["properties"])


def test_the_schema_command_prints_it() -> None:
    run = subprocess.run([sys.executable, "-m", "edge.kiosk.openapi"], capture_output=True, text=True, timeout=120,
                         cwd=REPO, check=True)
    assert json.loads(run.stdout)["info"]["title"] == "Checkpoint Edge kiosk"
