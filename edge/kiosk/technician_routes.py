"""The technician page's routes: camera numbers, device tests and the plate ROI, per lane.

Only technicians and supervisors of the lane may use them; every device test and ROI is audited
by the backend, with the user's name on it.
"""

# No `from __future__ import annotations`: FastAPI evaluates the route signatures, which refer
# to the local dependencies built in technician_router().
import asyncio
from collections.abc import Callable
from typing import Annotated, Literal, Protocol

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from edge.kiosk.auth.model import Role, User
from edge.kiosk.auth.web import Auth
from edge.kiosk.schemas import CameraCheckOut, DeviceTestDone, RoiProposed
from edge.lane.crossing import ActionRefused


class RoiRequest(BaseModel):
    """A rectangle drawn on the plate camera, in the camera frame's pixels."""

    model_config = ConfigDict(extra="forbid")
    x: int = Field(ge=0, le=20000)
    y: int = Field(ge=0, le=20000)
    width: int = Field(ge=16, le=20000)
    height: int = Field(ge=16, le=20000)


class TechnicianBackend(Protocol):
    def camera_check(self, lane_id: str, role: str) -> dict | None: ...
    def device_test(self, lane_id: str, device: str, actor: str) -> str: ...
    def propose_roi(self, lane_id: str, roi: dict, command: str, actor: str) -> None: ...


def roi_command(lane_id: str, roi: RoiRequest) -> str:
    """The `edge calibrate roi` line that writes exactly this rectangle (margin 0 around its corners)."""
    x0, y0, x1, y1 = roi.x, roi.y, roi.x + roi.width, roi.y + roi.height
    return f"edge calibrate roi --lane {lane_id} --corners {x0},{y0} {x1},{y0} {x1},{y1} {x0},{y1} --margin 0"


def technician_router(backend: TechnicianBackend, auth: Auth,
                      known_camera: Callable[[str, str], None]) -> APIRouter:
    router = APIRouter()

    def technician(user: Annotated[User, Depends(auth.require_lane)]) -> User:
        if user.role not in (Role.TECHNICIAN, Role.SUPERVISOR):
            raise HTTPException(403, f"{user.username} ({user.role.value}) may not do this: it needs a technician")
        return user

    Technician = Annotated[User, Depends(technician)]

    @router.get("/api/lanes/{lane_id}/cameras/{role}/check", response_model=CameraCheckOut,
                response_model_exclude_unset=True,
                summary="focus, exposure histogram, plate character height or inter-eye distance on the newest frame")
    async def camera_check(lane_id: str, role: str, _user: Technician) -> dict:
        known_camera(lane_id, role)
        result = await asyncio.to_thread(backend.camera_check, lane_id, role)
        if result is None:
            raise HTTPException(503, "no frame from this camera yet")
        return result

    @router.post("/api/lanes/{lane_id}/devices/{device}/test", response_model=DeviceTestDone,
                 summary="pulse the barrier (lane idle only) or present the document to the reader again")
    async def device_test(lane_id: str, device: Literal["barrier", "reader"], user: Technician) -> dict:
        known_camera(lane_id, "plate")  # the lane exists
        actor = f"{user.username} ({user.role.value})"
        try:
            done = await asyncio.to_thread(backend.device_test, lane_id, device, actor)
        except ActionRefused as exc:
            raise HTTPException(409, str(exc)) from None
        return {"done": done}

    @router.post("/api/lanes/{lane_id}/roi", response_model=RoiProposed,
                 summary="record a plate ROI drawn on the page; answers the command that writes it to the config")
    async def propose_roi(lane_id: str, roi: RoiRequest, user: Technician) -> dict:
        known_camera(lane_id, "plate")
        command = roi_command(lane_id, roi)
        actor = f"{user.username} ({user.role.value})"
        try:
            await asyncio.to_thread(backend.propose_roi, lane_id, roi.model_dump(), command, actor)
        except ActionRefused as exc:  # not recorded (the state disk refuses writes)
            raise HTTPException(409, str(exc)) from None
        return {"roi": roi.model_dump(), "command": command}

    return router
