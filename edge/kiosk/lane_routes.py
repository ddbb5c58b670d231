"""The officer's routes: the lanes an account may see, actions on their crossings, the crossing's
pictures, the checkpoint's status and the history search."""

# No `from __future__ import annotations`: FastAPI evaluates the route signatures, which refer to
# this function's local `auth` dependencies.
import asyncio
import time
from collections.abc import Collection
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response

from edge.kiosk.auth.model import Role, User
from edge.kiosk.auth.web import Auth
from edge.kiosk.backend import ActionRequest, KioskBackend
from edge.kiosk.hardening import NO_STORE
from edge.kiosk.schemas import ActionDone, CheckpointStatus, LaneViewOut
from edge.lane.crossing import ActionRefused, OfficerAction
from edge.lane.view import CROSSING_IMAGES
from edge.recording.history import PastCrossing


def lane_router(backend: KioskBackend, auth: Auth, lane_ids: Collection[str]) -> APIRouter:
    # Lanes, cameras and the feed show travellers' faces, names and document numbers: they need a
    # session like everything else except health and metrics, and an account restricted to some
    # lanes sees those lanes only (least privilege: a lane's officer has no business with another's
    # travellers; supervisors and all-lane accounts see every lane).
    router = APIRouter()
    Viewer = Annotated[User, Depends(auth.current_user)]
    LaneViewer = Annotated[User, Depends(auth.require_lane)]

    @router.get("/api/lanes", summary="the lanes the account may see, with their state and camera states",
                response_model=list[LaneViewOut])
    def lanes(user: Viewer) -> list[dict]:
        return [view.to_json() for view in backend.lane_views() if user.may_act_on(view.lane_id)]

    @router.post("/api/lanes/{lane_id}/crossings/{crossing_id}/actions", response_model=ActionDone,
                 summary="confirm, refer, deny or override the current crossing (officers and supervisors of the lane)")
    async def act(lane_id: str, crossing_id: str, request: ActionRequest, user: LaneViewer) -> dict:
        if user.role not in (Role.OFFICER, Role.SUPERVISOR):
            raise HTTPException(403, f"a {user.role.value} may not act on crossings")
        action = OfficerAction(crossing_id=crossing_id, lane_id=lane_id, kind=request.kind, revision=request.revision,
                               actor=user.username, role=user.role.value, at=time.time(), reason=request.reason)
        try:
            result = await asyncio.to_thread(backend.act, action)
        except ActionRefused as exc:
            raise HTTPException(409, str(exc)) from None
        return {"action": result.action.to_json(), "barrier_opened": result.open_barrier}

    @router.get("/api/lanes/{lane_id}/crossings/{crossing_id}/{kind}.jpg", response_class=Response,
                summary="the current crossing's plate crop, document portrait or best live face")
    def crossing_image(lane_id: str, crossing_id: str, kind: str, _user: LaneViewer) -> Response:
        if kind not in CROSSING_IMAGES:
            raise HTTPException(404, f"no image {kind!r}; a crossing has {', '.join(CROSSING_IMAGES)}")
        image = backend.crossing_image(lane_id, crossing_id, kind)
        if image is None:
            raise HTTPException(404, f"no {kind} image for this crossing (yet)")
        return Response(image, media_type="image/jpeg", headers=NO_STORE)

    @router.get("/api/status", summary="checkpoint-wide state: watchlist freshness, storage and audit alarms",
                response_model=CheckpointStatus)
    def status(_user: Viewer) -> dict:
        return backend.status()

    # The dataclass itself as the response model: its JSON is asdict().
    @router.get("/api/history", summary="recent crossings, newest first, searchable by plate or document number",
                response_model=list[PastCrossing])
    def history(user: Viewer, q: Annotated[str, Query(max_length=40)] = "",
                limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[dict]:
        lanes = None if user.may_act_on_every_lane() else [lane for lane in lane_ids if user.may_act_on(lane)]
        return [past.to_json() for past in backend.history(q, limit, lanes)]

    return router
