"""The auth layer's FastAPI side: login/logout/me, the login page, and the dependencies other routes use.

    auth = create_auth(state_dir, config.kiosk.auth)
    auth.install(app)                                   # routes + the guard on every change
    @app.post("/api/lanes/{lane_id}/confirm")
    def confirm(lane_id: str, user: Annotated[User, Depends(auth.require_lane)]): ...

Changes (POST/PUT/PATCH/DELETE) need a live session (cookie) and that session's CSRF token in the
X-CSRF-Token header. Both `current_user` and the guard check it, so a route that forgets the
dependency is still protected, and a route used without the guard still checks it.
"""

from __future__ import annotations

import hmac
import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import anyio
from fastapi import APIRouter, FastAPI, HTTPException, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from edge.config import KioskAuthConfig
from edge.kiosk.auth.accounts import Accounts, open_accounts
from edge.kiosk.auth.dependencies import role_dependency, user_dependencies
from edge.kiosk.auth.devices import DEVICE_COOKIE_MAX_S
from edge.kiosk.auth.login import LoginOutcome
from edge.kiosk.auth.model import Role, User
from edge.kiosk.auth.sessions import Session
from edge.kiosk.schemas import LoggedOut, Me

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent.parent / "static"
SESSION_COOKIE = "edge_session"
CSRF_HEADER = "X-CSRF-Token"
# Sent by the pages' own timers (status polls): such a request is answered but does not count as
# someone at the screen, so an unattended kiosk still logs out after `session_idle_s`.
BACKGROUND_HEADER = "X-Edge-Background"
LOGIN_PATH = "/api/login"
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_NO_STORE = {"Cache-Control": "no-store"}
# Login threads: for known browsers, as many as their password checks at once (see hashing.py); for
# the others, enough that most of a flood waits its 2 s for the one check slot and is answered
# "busy" rather than queueing here (16 waiting: ~8 answers a second, 2 of them checked).
KNOWN_BROWSER_LOGINS = 2
OTHER_LOGINS = 16

DEVICE_COOKIE = "edge_device"
_STATUS = {LoginOutcome.WRONG: 401, LoginOutcome.THROTTLED: 429, LoginOutcome.BUSY: 503, LoginOutcome.DISABLED: 403,
           LoginOutcome.DEMO_OFF: 403}


class LoginRequest(BaseModel):
    """Either username + password or badge + pin."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    username: str | None = Field(default=None, min_length=1, max_length=32)
    password: str | None = Field(default=None, min_length=1, max_length=256)
    badge: str | None = Field(default=None, min_length=1, max_length=64)
    pin: str | None = Field(default=None, min_length=1, max_length=12, pattern=r"^[0-9]+$")

    @field_validator("username", "password", "badge", "pin")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        # JSON may carry control characters or a lone surrogate ("\\ud800"): no name or password
        # holds one, and a surrogate cannot be hashed, stored or logged.
        if value is not None and not value.isprintable():
            raise ValueError("must be printable text")
        return value

    @model_validator(mode="after")
    def _one_way(self) -> LoginRequest:
        given = {name for name in ("username", "password", "badge", "pin") if getattr(self, name) is not None}
        if given not in ({"username", "password"}, {"badge", "pin"}):
            raise ValueError("send either username and password, or badge and pin")
        return self


def same_origin(connection: HTTPConnection) -> bool:
    # Browsers send Origin on every POST and websocket; other clients (curl, edge's own tests)
    # send none and carry no ambient cookie to abuse.
    origin = connection.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == connection.headers.get("host")


class Auth:
    def __init__(self, accounts: Accounts):
        self.accounts = accounts
        self.config = accounts.config
        self._limiters: tuple[anyio.CapacityLimiter, anyio.CapacityLimiter] | None = None
        self.current_user, self.require_lane = user_dependencies(lambda request: self.authorise(request)[0])
        self.router = self._router()

    def _login_limiters(self) -> tuple[anyio.CapacityLimiter, anyio.CapacityLimiter]:
        """Login threads for (browsers an account knows, everyone else); made in the event loop."""
        if self._limiters is None:
            self._limiters = (anyio.CapacityLimiter(KNOWN_BROWSER_LOGINS), anyio.CapacityLimiter(OTHER_LOGINS))
        return self._limiters

    # -- for other routes -----------------------------------------------------------------------

    def install(self, app: FastAPI) -> None:
        app.include_router(self.router)
        app.add_middleware(_ChangeGuard, auth=self)

    def require_role(self, *roles: Role | str) -> Callable[..., User]:
        """A dependency: the current user, if their role is one of `roles` (403 otherwise)."""
        return role_dependency(self.current_user, frozenset(Role(role) for role in roles))

    def user_of(self, connection: HTTPConnection) -> User | None:
        """The logged-in user of a request or websocket, or None; for routes that answer without
        one (a websocket closes with 1008 rather than raising)."""
        found = self._session_of(connection)
        return found[0] if found else None

    def still_logged_in(self, connection: HTTPConnection) -> bool:
        """Whether a long-lived connection's session is still live, without counting as activity."""
        return self._session_of(connection, touch=False) is not None

    # -- the checks -----------------------------------------------------------------------------

    def _session_of(self, connection: HTTPConnection, touch: bool | None = None) -> tuple[User, Session] | None:
        token = connection.cookies.get(SESSION_COOKIE)
        if not token:
            return None
        if touch is None:
            touch = connection.headers.get(BACKGROUND_HEADER) != "1"
        session = self.accounts.sessions.use(token, time.time(), touch=touch)
        if session is None:
            return None
        account = self.accounts.users.get(session.username)
        if account is None or account.disabled or (account.demo and not self.config.demo_accounts):
            return None
        return account.user, session

    def authorise(self, request: Request) -> tuple[User, Session]:
        """The user and session of a request; 401 without a live session, and for a change 403
        without that session's CSRF token or from another origin."""
        found = self._session_of(request)
        if found is None:
            detail = "session expired; log in again" if request.cookies.get(SESSION_COOKIE) else "log in first"
            raise HTTPException(401, detail)
        if request.method in MUTATING:
            if not same_origin(request):
                raise HTTPException(403, "request from another site refused")
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), found[1].csrf_token.encode()):
                raise HTTPException(403, f"missing or wrong CSRF token ({CSRF_HEADER} header)")
        return found

    # -- the routes -----------------------------------------------------------------------------

    def _router(self) -> APIRouter:
        router = APIRouter()

        @router.get("/login", include_in_schema=False)
        def login_page() -> FileResponse:
            return FileResponse(STATIC / "login.html", headers=_NO_STORE)

        @router.post(LOGIN_PATH, response_model=Me,
                     summary="log in with user name + password or badge + PIN; sets the session cookie")
        async def login(body: LoginRequest, request: Request, response: Response) -> dict:
            # Logins run on worker threads of their own, not the pool the pages' routes share: a guess
            # may wait seconds for a password check, and must not hold a thread a page needs. Browsers
            # an account knows get threads apart again, so a flood of guesses is never ahead of them.
            # (The device lookup is one indexed read, cheap enough for the event loop.)
            device = request.cookies.get(DEVICE_COOKIE)
            known = device is not None and self.accounts.devices.known(device)
            limiters = self._login_limiters()
            return await anyio.to_thread.run_sync(self._log_in, body, request, response,
                                                  limiter=limiters[0] if known else limiters[1])

        @router.post("/api/logout", response_model=LoggedOut, summary="end this session")
        def logout(request: Request, response: Response) -> dict:
            user, _ = self.authorise(request)
            self.accounts.sessions.end(request.cookies[SESSION_COOKIE])
            response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict",
                                   secure=request.url.scheme == "https")
            log.info("kiosk logout: %s", user.username)
            return {"logged_out": user.username}

        @router.get("/api/me", response_model=Me,
                    summary="the logged-in user, their role and lanes, and the CSRF token for changes")
        def me(request: Request, response: Response) -> dict:
            user, session = self.authorise(request)
            response.headers.update(_NO_STORE)
            return self._me(user, session)

        return router

    def _log_in(self, body: LoginRequest, request: Request, response: Response) -> dict:
        if not same_origin(request):
            raise HTTPException(403, "login from another site refused")
        now = time.time()
        by_badge = body.badge is not None
        device = request.cookies.get(DEVICE_COOKIE)
        authenticator = self.accounts.authenticator
        if by_badge:
            result = authenticator.by_badge(body.badge or "", body.pin or "", now, device)
        else:
            result = authenticator.by_password(body.username or "", body.password or "", now, device)
        who = result.account.user.username if result.account else "(unknown)"
        if result.outcome is not LoginOutcome.OK or result.account is None:
            log.warning("kiosk login refused for %s: %s", who, result.outcome.value)
            headers = {"Retry-After": str(math.ceil(result.wait_s))} if result.wait_s else None
            raise HTTPException(_STATUS[result.outcome], result.words(by_badge), headers=headers)
        old = request.cookies.get(SESSION_COOKIE)
        if old:
            self.accounts.sessions.end(old)  # a login never continues someone else's session
        created = self.accounts.sessions.create(who, now)
        secure = request.url.scheme == "https"
        response.set_cookie(
            SESSION_COOKIE, created.token, max_age=math.ceil(self.config.session_max_s), path="/",
            httponly=True, samesite="strict", secure=secure,
        )
        # This browser is now one the account knows: its logins are throttled on their own.
        response.set_cookie(DEVICE_COOKIE, result.device_token or "", max_age=DEVICE_COOKIE_MAX_S, path=LOGIN_PATH,
                            httponly=True, samesite="strict", secure=secure)
        response.headers.update(_NO_STORE)
        log.info("kiosk login: %s (%s)", who, result.account.user.role.value)
        return self._me(result.account.user, created.session)

    def _me(self, user: User, session: Session) -> dict:
        return {**user.to_json(), "csrf_token": session.csrf_token,
                "session_ends_at": session.created_at + self.config.session_max_s}


class _ChangeGuard:
    """Refuses every change (POST/PUT/PATCH/DELETE) without a live session and its CSRF token,
    except logging in, before any route sees it."""

    def __init__(self, app: ASGIApp, auth: Auth):
        self._app = app
        self._auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in MUTATING and scope["path"] != LOGIN_PATH:
            try:
                await run_in_threadpool(self._auth.authorise, Request(scope))
            except HTTPException as refused:
                response = JSONResponse({"detail": refused.detail}, refused.status_code, headers=refused.headers)
                await response(scope, receive, send)
                return
        await self._app(scope, receive, send)


def create_auth(state_dir: Path, config: KioskAuthConfig) -> Auth:
    """The auth layer on state_dir/kiosk/users.sqlite; with `demo_accounts`, the demo accounts exist
    (and are logged) once this returns."""
    auth = Auth(open_accounts(state_dir, config))
    for demo in auth.accounts.demo_accounts:
        log.info("demo account: %s", demo.describe())
    return auth
