"""The kiosk web app: the lane officer's screen, served by the service itself.

The app knows the lanes only through the small `KioskBackend` interface, so the service, the
tests and a future remote backend can serve it the same way.
"""

# No `from __future__ import annotations`: FastAPI must evaluate the route signatures, which
# refer to this module's local `auth` dependencies.
import asyncio
import time
from collections.abc import AsyncIterator, Collection
from pathlib import Path
from typing import Annotated, Protocol

from fastapi import Depends, FastAPI, HTTPException, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, PlainTextResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.middleware.trustedhost import TrustedHostMiddleware

from edge.config import KioskConfig
from edge.kiosk.auth.model import Role, User
from edge.kiosk.auth.web import Auth, same_origin
from edge.kiosk.hardening import BodyLimit, SecurityHeaders, allowed_hosts, validation_error
from edge.kiosk.technician_routes import TechnicianBackend, technician_router
from edge.lane.crossing import ActionKind, ActionRefused, ActionResult, OfficerAction
from edge.lane.view import CAMERA_ROLES, CROSSING_IMAGES, LaneView, Preview
from edge.recording.history import PastCrossing

STATIC = Path(__file__).resolve().parent / "static"
# How often a camera stream or the websocket checks that its session is still live, whatever the
# traffic (a session that ends takes the live pictures and lane data with it within this time).
SESSION_RECHECK_S = 2.0
_STREAM_POLL_S = 0.04  # how often an MJPEG stream looks for a newer frame (faster than any camera here)
_BOUNDARY = "frame"
_NO_STORE = {"Cache-Control": "no-store"}


class ActionRequest(BaseModel):
    """An officer's action on the decision revision they were shown."""

    model_config = ConfigDict(extra="forbid")
    kind: ActionKind
    revision: int = Field(ge=1)
    reason: str | None = Field(default=None, max_length=500)


class KioskBackend(TechnicianBackend, Protocol):
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


def create_app(backend: KioskBackend, closing: asyncio.Event, auth: Auth, kiosk: KioskConfig) -> FastAPI:
    """The kiosk app. Setting `closing` ends every camera stream and websocket, so that a stop
    never waits on a browser that keeps its connections open."""
    # No /docs, /redoc or /openapi.json: they load scripts from a CDN and map the API for anyone
    # on the network; the routes are documented in docs/architecture.md.
    app = FastAPI(title="Checkpoint Edge kiosk", version="0.1.0", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(RequestValidationError, validation_error)
    auth.install(app)  # login/logout/me, and every change needs a session and its CSRF token
    # The last added is the outermost: every answer, refusals included, carries the headers.
    app.add_middleware(BodyLimit)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts(kiosk.host, kiosk.allowed_hosts))
    app.add_middleware(SecurityHeaders)
    lane_ids = {view.lane_id for view in backend.lane_views()}

    def _known_camera(lane_id: str, role: str) -> None:
        if lane_id not in lane_ids:
            raise HTTPException(404, f"no lane {lane_id!r}")
        if role not in CAMERA_ROLES:
            raise HTTPException(404, f"no camera {role!r}; cameras are {', '.join(CAMERA_ROLES)}")

    app.include_router(technician_router(backend, auth, _known_camera))

    @app.get("/", include_in_schema=False)
    def officer_page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers=_NO_STORE)

    @app.get("/technician", include_in_schema=False)
    def technician_page() -> FileResponse:
        return FileResponse(STATIC / "technician.html", headers=_NO_STORE)

    @app.get("/healthz", summary="the process is alive and serving")
    def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz", summary="every lane's cameras are up and the state disk takes writes")
    def readyz() -> Response:
        ready, detail = backend.readiness()
        return PlainTextResponse(detail, status_code=200 if ready else 503)

    @app.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
    def metrics() -> str:
        return backend.metrics()

    # Lanes, cameras and the feed show travellers' faces, names and document numbers: they need a
    # session like everything else except health and metrics, and an account restricted to some
    # lanes sees those lanes only (least privilege: a lane's officer has no business with another's
    # travellers; supervisors and all-lane accounts see every lane).
    Viewer = Annotated[User, Depends(auth.current_user)]
    LaneViewer = Annotated[User, Depends(auth.require_lane)]

    @app.get("/api/lanes", summary="the lanes the account may see, with their state and camera states")
    def lanes(user: Viewer) -> list[dict]:
        return [view.to_json() for view in backend.lane_views() if user.may_act_on(view.lane_id)]

    @app.post("/api/lanes/{lane_id}/crossings/{crossing_id}/actions",
              summary="confirm, refer, deny or override the current crossing (officers and supervisors of the lane)")
    async def act(lane_id: str, crossing_id: str, request: ActionRequest,
                  user: Annotated[User, Depends(auth.require_lane)]) -> dict:
        if user.role not in (Role.OFFICER, Role.SUPERVISOR):
            raise HTTPException(403, f"a {user.role.value} may not act on crossings")
        action = OfficerAction(crossing_id=crossing_id, lane_id=lane_id, kind=request.kind, revision=request.revision,
                               actor=user.username, role=user.role.value, at=time.time(), reason=request.reason)
        try:
            result = await asyncio.to_thread(backend.act, action)
        except ActionRefused as exc:
            raise HTTPException(409, str(exc)) from None
        return {"action": result.action.to_json(), "barrier_opened": result.open_barrier}

    @app.get("/api/lanes/{lane_id}/crossings/{crossing_id}/{kind}.jpg",
             summary="the current crossing's plate crop, document portrait or best live face")
    def crossing_image(lane_id: str, crossing_id: str, kind: str, _user: LaneViewer) -> Response:
        if kind not in CROSSING_IMAGES:
            raise HTTPException(404, f"no image {kind!r}; a crossing has {', '.join(CROSSING_IMAGES)}")
        image = backend.crossing_image(lane_id, crossing_id, kind)
        if image is None:
            raise HTTPException(404, f"no {kind} image for this crossing (yet)")
        return Response(image, media_type="image/jpeg", headers=_NO_STORE)

    @app.get("/api/status", summary="crossing-wide state: the watchlist copy's freshness")
    def status(_user: Annotated[User, Depends(auth.current_user)]) -> dict:
        return backend.status()

    @app.get("/api/history", summary="recent crossings, newest first, searchable by plate or document number")
    def history(user: Viewer, q: Annotated[str, Query(max_length=40)] = "",
                limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[dict]:
        lanes = None if user.may_act_on_every_lane() else [lane for lane in lane_ids if user.may_act_on(lane)]
        return [past.to_json() for past in backend.history(q, limit, lanes)]

    @app.get("/api/lanes/{lane_id}/cameras/{role}.jpg", summary="the newest frame of a camera, as a small JPEG")
    async def camera_snapshot(lane_id: str, role: str, _user: LaneViewer) -> Response:
        _known_camera(lane_id, role)
        preview = await asyncio.to_thread(backend.preview, lane_id, role)
        if preview is None:
            raise HTTPException(503, "no frame from this camera yet")
        return Response(preview.jpeg, media_type="image/jpeg", headers=_NO_STORE)

    @app.get("/api/lanes/{lane_id}/cameras/{role}/stream", summary="the camera as an MJPEG stream")
    async def camera_stream(lane_id: str, role: str, request: Request, _user: LaneViewer) -> StreamingResponse:
        _known_camera(lane_id, role)

        async def parts() -> AsyncIterator[bytes]:
            last = -1
            checked = time.monotonic()
            while not closing.is_set():
                if time.monotonic() - checked > SESSION_RECHECK_S:
                    if not auth.still_logged_in(request):
                        return  # the session ended: the picture stops with it
                    checked = time.monotonic()
                preview = await asyncio.to_thread(backend.preview, lane_id, role)
                if preview is not None and preview.seq != last:
                    last = preview.seq
                    header = f"--{_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(preview.jpeg)}\r\n\r\n"
                    yield header.encode() + preview.jpeg + b"\r\n"
                await asyncio.sleep(_STREAM_POLL_S)

        media_type = f"multipart/x-mixed-replace; boundary={_BOUNDARY}"
        return StreamingResponse(parts(), media_type=media_type, headers=_NO_STORE)

    @app.websocket("/ws")
    async def feed(socket: WebSocket) -> None:
        """Lane updates as they happen. A (re)connecting page first gets every lane's current state,
        so nothing is lost across a reconnect or a server restart."""
        if not same_origin(socket):
            await socket.close(code=1008, reason="connection from another site refused")  # before the handshake: 403
            return
        await socket.accept()
        user = auth.user_of(socket)
        if user is None:
            await socket.close(code=1008, reason="log in first")  # policy violation: no session
            return
        queue = backend.subscribe()
        closed = asyncio.ensure_future(closing.wait())
        try:
            views = [v.to_json() for v in backend.lane_views() if user.may_act_on(v.lane_id)]
            await socket.send_json({"type": "hello", "lanes": views})
            check_at = time.monotonic() + SESSION_RECHECK_S
            while True:
                message = asyncio.ensure_future(queue.get())
                await asyncio.wait({message, closed}, timeout=max(0.0, check_at - time.monotonic()),
                                   return_when=asyncio.FIRST_COMPLETED)
                if closed.done():
                    message.cancel()
                    await socket.close(code=1012)  # "service restart": the page reconnects
                    return
                if time.monotonic() >= check_at:
                    # Checked on the clock, not only when the lane is quiet: a busy lane must not
                    # keep feeding a logged-out screen.
                    if not auth.still_logged_in(socket):
                        message.cancel()
                        await socket.close(code=1008, reason="session ended")  # the page goes to login
                        return
                    check_at = time.monotonic() + SESSION_RECHECK_S
                if message.done():
                    if _shown_to(user, message.result()):
                        await socket.send_json(message.result())
                else:
                    message.cancel()
        except WebSocketDisconnect:
            pass
        finally:
            closed.cancel()
            backend.unsubscribe(queue)

    return app


def _shown_to(user: User, message: dict) -> bool:
    """Whether a feed message may go to this user: a lane's news only to those who may see the lane."""
    return message.get("type") != "lane" or user.may_act_on(message["lane"]["lane_id"])
