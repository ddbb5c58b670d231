"""The lane feed over a websocket: every lane's state on (re)connect, then each change as it happens,
to the lanes the account may see, for as long as its session lasts."""

# No `from __future__ import annotations`: FastAPI evaluates the route signatures.
import asyncio
import time

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from edge.kiosk.auth.model import User
from edge.kiosk.auth.web import Auth, same_origin
from edge.kiosk.backend import KioskBackend
from edge.kiosk.camera_routes import SESSION_RECHECK_S


def feed_router(backend: KioskBackend, auth: Auth, closing: asyncio.Event) -> APIRouter:
    router = APIRouter()

    @router.websocket("/ws")
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
        try:
            views = [v.to_json() for v in backend.lane_views() if user.may_act_on(v.lane_id)]
            await socket.send_json({"type": "hello", "lanes": views})
            await _forward(socket, user, queue, auth, closing)
        except WebSocketDisconnect:
            pass
        finally:
            backend.unsubscribe(queue)

    return router


async def _forward(socket: WebSocket, user: User, queue: asyncio.Queue[dict], auth: Auth,
                   closing: asyncio.Event) -> None:
    """Each message for this user until the service stops or the session ends."""
    closed = asyncio.ensure_future(closing.wait())
    try:
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
    finally:
        closed.cancel()


def _shown_to(user: User, message: dict) -> bool:
    """Whether a feed message may go to this user: a lane's news only to those who may see the lane."""
    return message.get("type") != "lane" or user.may_act_on(message["lane"]["lane_id"])
