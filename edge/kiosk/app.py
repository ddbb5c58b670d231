"""The kiosk web app: the lane officer's screen, served by the service itself.

The app knows the lanes only through the small `KioskBackend` interface (edge/kiosk/backend.py), so
the service, the tests and a future remote backend can serve it the same way. The routes live by
concern: lane_routes (lanes, actions, pictures, status, history), camera_routes (snapshots and
streams), feed (the websocket), technician_routes, supervisor_routes (the report page), and the auth
layer's login/logout/me.
"""

# No `from __future__ import annotations`: FastAPI must evaluate the route signatures.
import asyncio
from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.trustedhost import TrustedHostMiddleware

from edge.config import KioskConfig
from edge.kiosk.auth.web import Auth
from edge.kiosk.backend import KioskBackend
from edge.kiosk.camera_routes import camera_router
from edge.kiosk.drill_pages import drill_router
from edge.kiosk.feed import feed_router
from edge.kiosk.hardening import NO_STORE, BodyLimit, SecurityHeaders, allowed_hosts, validation_error
from edge.kiosk.lane_routes import lane_router
from edge.kiosk.schemas import Healthy
from edge.kiosk.supervisor_routes import supervisor_router
from edge.kiosk.technician_routes import technician_router
from edge.lane.view import CAMERA_ROLES

STATIC = Path(__file__).resolve().parent / "static"


def create_app(backend: KioskBackend, closing: asyncio.Event, auth: Auth, kiosk: KioskConfig,
               openapi: bool = False) -> FastAPI:
    """The kiosk app. Setting `closing` ends every camera stream and websocket, so that a stop
    never waits on a browser that keeps its connections open.

    `openapi` is for `python -m edge.kiosk.openapi` only: the running kiosk never serves its schema."""
    # No /docs, /redoc or /openapi.json on a running kiosk: they load scripts from a CDN and map the
    # API for anyone on the network; the schema is committed as docs/kiosk-api.json instead.
    app = FastAPI(title="Checkpoint Edge kiosk", version="0.1.0", docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json" if openapi else None)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(RequestValidationError, validation_error)
    auth.install(app)  # login/logout/me, and every change needs a session and its CSRF token
    # The last added is the outermost: every answer, refusals included, carries the headers.
    app.add_middleware(BodyLimit)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts(kiosk.host, kiosk.allowed_hosts))
    app.add_middleware(SecurityHeaders)
    views = backend.lane_views()
    lane_ids = {view.lane_id for view in views}
    live_lane_ids = {view.lane_id for view in views if not view.training}  # the report reads live records only

    def known_camera(lane_id: str, role: str) -> None:
        if lane_id not in lane_ids:
            raise HTTPException(404, f"no lane {lane_id!r}")
        if role not in CAMERA_ROLES:
            raise HTTPException(404, f"no camera {role!r}; cameras are {', '.join(CAMERA_ROLES)}")

    _pages_and_health(app, backend)
    app.include_router(lane_router(backend, auth, lane_ids))
    app.include_router(camera_router(backend, auth, closing, known_camera))
    app.include_router(feed_router(backend, auth, closing))
    app.include_router(technician_router(backend, auth, known_camera))
    app.include_router(supervisor_router(backend, auth, live_lane_ids))
    app.include_router(drill_router(backend, auth))
    return app


def _pages_and_health(app: FastAPI, backend: KioskBackend) -> None:
    """The pages (their data needs a session; the HTML does not) and the probes a supervisor daemon
    and Prometheus poll without one."""

    @app.get("/", include_in_schema=False)
    def officer_page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers=NO_STORE)

    @app.get("/technician", include_in_schema=False)
    def technician_page() -> FileResponse:
        return FileResponse(STATIC / "technician.html", headers=NO_STORE)

    @app.get("/healthz", summary="the process is alive and serving", response_model=Healthy)
    def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz", summary="every lane's cameras are up and the state disk takes writes",
             response_class=PlainTextResponse)
    def readyz() -> Response:
        ready, detail = backend.readiness()
        return PlainTextResponse(detail, status_code=200 if ready else 503)

    @app.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
    def metrics() -> str:
        return backend.metrics()
