"""The kiosk API's OpenAPI schema, for docs/kiosk-api.json: `python -m edge.kiosk.openapi > docs/kiosk-api.json`.

A running kiosk never serves its schema (see create_app), so the document is built here, from the same
routes and response models, on an app with no lanes and a throwaway accounts database.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Collection
from pathlib import Path

from edge.config import KioskConfig
from edge.drills.desk import DrillDesk
from edge.kiosk.app import create_app
from edge.kiosk.auth.accounts import open_accounts
from edge.kiosk.auth.web import Auth
from edge.lane.crossing import ActionRefused, ActionResult, OfficerAction
from edge.lane.view import LaneView, Preview
from edge.recording.history import PastCrossing
from edge.report.figures import Report


class _NoLanes:
    """A KioskBackend with nothing behind it: the schema needs the routes, never their answers."""

    drill_desk = DrillDesk(None, Path("drills"), lambda kind, actor, lane, payload: None)

    def lane_views(self) -> list[LaneView]:
        return []

    def act(self, action: OfficerAction) -> ActionResult:
        raise ActionRefused("no lanes")

    def crossing_image(self, lane_id: str, crossing_id: str, kind: str) -> bytes | None:
        return None

    def status(self) -> dict:
        return {}

    def history(self, text: str, limit: int, lanes: Collection[str] | None = None) -> list[PastCrossing]:
        return []

    def preview(self, lane_id: str, role: str) -> Preview | None:
        return None

    def subscribe(self) -> asyncio.Queue[dict]:
        return asyncio.Queue()

    def unsubscribe(self, queue: asyncio.Queue[dict]) -> None:
        pass

    def readiness(self) -> tuple[bool, str]:
        return False, "no lanes"

    def metrics(self) -> str:
        return ""

    def camera_check(self, lane_id: str, role: str) -> dict | None:
        return None

    def device_test(self, lane_id: str, device: str, actor: str) -> str:
        raise ActionRefused("no lanes")

    def propose_roi(self, lane_id: str, roi: dict, command: str, actor: str) -> None:
        raise ActionRefused("no lanes")

    def report(self, start: float, end: float, lane: str | None, bucket: str) -> Report:
        raise ActionRefused("no lanes")


def schema() -> dict:
    kiosk = KioskConfig()
    with tempfile.TemporaryDirectory(prefix="edge-openapi-") as state:
        accounts = open_accounts(Path(state), kiosk.auth)
        try:
            return create_app(_NoLanes(), asyncio.Event(), Auth(accounts), kiosk, openapi=True).openapi()
        finally:
            accounts.close()


if __name__ == "__main__":
    print(json.dumps(schema(), indent=1, sort_keys=True))
