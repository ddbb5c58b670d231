"""The kiosk's outer wall: what every request meets before any route sees it.

- `BodyLimit`: a request body over the limit is refused with 413, by its Content-Length before a
  byte is read, or once a chunked body passes the limit; the kiosk's own requests are a few kB.
- `SecurityHeaders`: every response says the pages run only their own scripts and styles, may not
  be framed or sniffed, and send no referrer; under TLS the browser is told to stay on https.
- `allowed_hosts`: the Host names the kiosk answers to (Starlette's TrustedHostMiddleware refuses the
  rest): a page on another name that resolves here (DNS rebinding) gets nothing.
- `validation_error`: a refused body is described by where and why, never echoed back (an echo
  costs memory for a huge body and fails outright on NaN or a lone surrogate).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The largest request body: a login, an action with its reason, a camera setting. Far below
# anything that costs the service memory.
MAX_BODY_BYTES = 64 * 1024

# Pages and pictures of travellers are never kept by the browser or a proxy.
NO_STORE = {"Cache-Control": "no-store"}
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]
_HSTS = (b"strict-transport-security", b"max-age=31536000")

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")


def allowed_hosts(bind_host: str, extra: Iterable[str]) -> list[str]:
    """Host names (without port) the kiosk answers to: loopback, the address it binds, and the
    names in config. A wildcard bind (0.0.0.0) is no name a browser uses, so it adds nothing."""
    names = [*LOOPBACK_NAMES, *extra]
    if bind_host not in ("0.0.0.0", "::"):
        names.append(bind_host)
    return list(dict.fromkeys(names))


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self._app = app
        self._limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self._limit):
            await self._refuse(scope, receive, send)
            return
        seen = 0
        started = refused = False

        async def counted() -> Message:
            # Past the limit the app is told the client left (so it stops reading), and whatever
            # it answers is dropped: the refusal has been sent instead.
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self._limit:
                    refused = True
                    if not started:
                        await self._refuse(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self._app(scope, counted, watched)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"request body over {self._limit // 1024} kB"
        await JSONResponse({"detail": detail}, 413, headers={"Connection": "close"})(scope, receive, send)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        extra = _HEADERS + ([_HSTS] if scope.get("scheme") == "https" else [])

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in extra if h[0] not in present)]
            await send(message)

        await self._app(scope, receive, with_headers)


async def validation_error(_request: Request, exc: Exception) -> Response:
    """422 with each problem's place and message; the input itself is never sent back."""
    assert isinstance(exc, RequestValidationError)  # registered for that exception only
    problems = [{"loc": [str(part) for part in error.get("loc", ())], "msg": str(error.get("msg", "invalid")),
                 "type": str(error.get("type", "value_error"))} for error in exc.errors()]
    # ASCII with escapes: a message quoting a lone surrogate still encodes.
    return Response(json.dumps({"detail": problems}, ensure_ascii=True), 422, media_type="application/json")
