"""The cameras on the kiosk: the newest frame as a small JPEG, and an MJPEG stream that ends with the session."""

# No `from __future__ import annotations`: FastAPI evaluates the route signatures.
import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response, StreamingResponse

from edge.kiosk.auth.model import User
from edge.kiosk.auth.web import Auth
from edge.kiosk.backend import KioskBackend
from edge.kiosk.hardening import NO_STORE

# How often a camera stream or the websocket checks that its session is still live, whatever the
# traffic (a session that ends takes the live pictures and lane data with it within this time).
SESSION_RECHECK_S = 2.0
_STREAM_POLL_S = 0.04  # how often an MJPEG stream looks for a newer frame (faster than any camera here)
_BOUNDARY = "frame"


def camera_router(backend: KioskBackend, auth: Auth, closing: asyncio.Event,
                  known_camera: Callable[[str, str], None]) -> APIRouter:
    router = APIRouter()
    LaneViewer = Annotated[User, Depends(auth.require_lane)]

    @router.get("/api/lanes/{lane_id}/cameras/{role}.jpg", summary="the newest frame of a camera, as a small JPEG",
                response_class=Response)
    async def camera_snapshot(lane_id: str, role: str, _user: LaneViewer) -> Response:
        known_camera(lane_id, role)
        preview = await asyncio.to_thread(backend.preview, lane_id, role)
        if preview is None:
            raise HTTPException(503, "no frame from this camera yet")
        return Response(preview.jpeg, media_type="image/jpeg", headers=NO_STORE)

    @router.get("/api/lanes/{lane_id}/cameras/{role}/stream", summary="the camera as an MJPEG stream",
                response_class=StreamingResponse)
    async def camera_stream(lane_id: str, role: str, request: Request, _user: LaneViewer) -> StreamingResponse:
        known_camera(lane_id, role)
        media_type = f"multipart/x-mixed-replace; boundary={_BOUNDARY}"
        return StreamingResponse(_parts(backend, auth, closing, request, lane_id, role), media_type=media_type,
                                 headers=NO_STORE)

    return router


async def _parts(backend: KioskBackend, auth: Auth, closing: asyncio.Event, request: Request, lane_id: str,
                 role: str) -> AsyncIterator[bytes]:
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
