"""What the kiosk needs of the running service: the small interface its routes are written against,
so the service, the tests and a future remote backend serve the same app."""

import asyncio
from collections.abc import Collection
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from edge.kiosk.supervisor_routes import SupervisorBackend
from edge.kiosk.technician_routes import TechnicianBackend
from edge.lane.crossing import ActionKind, ActionResult, OfficerAction
from edge.lane.view import LaneView, Preview
from edge.recording.history import PastCrossing


class ActionRequest(BaseModel):
    """An officer's action on the decision revision they were shown."""

    model_config = ConfigDict(extra="forbid")
    kind: ActionKind
    revision: int = Field(ge=1)
    reason: str | None = Field(default=None, max_length=500)


class KioskBackend(TechnicianBackend, SupervisorBackend, Protocol):
    def lane_views(self) -> list[LaneView]: ...
    def act(self, action: OfficerAction) -> ActionResult: ...
    def crossing_image(self, lane_id: str, crossing_id: str, kind: str) -> bytes | None: ...
    def status(self) -> dict: ...
    def history(self, text: str, limit: int, lanes: Collection[str] | None = None) -> list[PastCrossing]: ...
    def preview(self, lane_id: str, role: str) -> Preview | None: ...
    def subscribe(self) -> asyncio.Queue[dict]: ...
    def unsubscribe(self, queue: asyncio.Queue[dict]) -> None: ...
    def readiness(self) -> tuple[bool, str]: ...
    def metrics(self) -> str: ...
