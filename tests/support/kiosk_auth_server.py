"""A real uvicorn server (in this process, on a free port) with the auth layer and a few routes
shaped like the kiosk's: a lane action, a technician action, and a change route that forgot its
dependency (the guard must still refuse it).

No `from __future__ import annotations`: FastAPI reads the routes' Annotated[..., Depends(local)]
signatures at run time."""

import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import httpx
import uvicorn
from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from edge.config import KioskAuthConfig
from edge.kiosk.auth import Role, User
from edge.kiosk.auth.web import CSRF_HEADER, SESSION_COOKIE, STATIC, Auth, create_auth
from edge.synthetic.scratch import free_loopback_port
from tests.support.watchlist_authority import self_signed_tls

PASSWORD = "correct-horse-1"


def build_app(auth: Auth) -> FastAPI:
    app = FastAPI()
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    auth.install(app)
    officer = auth.require_role(Role.OFFICER, Role.SUPERVISOR)
    technician = auth.require_role("technician")

    @app.post("/api/lanes/{lane_id}/open")
    def open_barrier(lane_id: str, _: Annotated[User, Depends(officer)],
                     user: Annotated[User, Depends(auth.require_lane)]) -> dict:
        return {"opened": lane_id, "by": user.username, "role": user.role.value}

    @app.post("/api/lanes/{lane_id}/pulse")
    def pulse(lane_id: str, user: Annotated[User, Depends(technician)]) -> dict:
        return {"pulsed": lane_id, "by": user.username}

    @app.post("/api/forgotten")
    def forgotten() -> dict:
        return {"changed": True}

    @app.get("/api/lanes")
    def lanes() -> list[str]:
        return ["lane-1", "lane-2"]

    return app


class AuthServer:
    def __init__(self, state_dir: Path, config: KioskAuthConfig, tls_folder: Path | None = None):
        """With `tls_folder`, served over https with a fresh self-signed certificate made there."""
        self.state_dir = state_dir
        self.auth = create_auth(state_dir, config)
        port = free_loopback_port()
        self.url = f"{'https' if tls_folder else 'http'}://127.0.0.1:{port}"
        self._verify: ssl.SSLContext | bool = True
        tls = {}
        if tls_folder is not None:
            _, certificate = self_signed_tls(tls_folder)
            self._verify = ssl.create_default_context(cafile=certificate)
            tls = {"ssl_certfile": str(certificate), "ssl_keyfile": str(certificate.with_name("server.key"))}
        self._server = uvicorn.Server(
            uvicorn.Config(build_app(self.auth), host="127.0.0.1", port=port, log_config=None, lifespan="off", **tls)
        )
        self._clients: list[httpx.Client] = []
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise AssertionError("the test kiosk server did not start")
            time.sleep(0.02)

    def client(self, session_token: str | None = None) -> httpx.Client:
        """A client of this server (closed when it stops), optionally carrying a session cookie."""
        client = httpx.Client(base_url=self.url, timeout=20, verify=self._verify)
        if session_token is not None:
            client.cookies.set(SESSION_COOKIE, session_token)
        self._clients.append(client)
        return client

    def add(self, name: str, role: Role = Role.OFFICER, lanes: tuple[str, ...] = ("lane-1",),
            all_lanes: bool = False) -> User:
        return self.auth.accounts.admin.add(name, role, lanes, all_lanes, PASSWORD)

    def login(self, name: str, password: str = PASSWORD) -> tuple[httpx.Client, dict[str, str]]:
        """A client with a live session, and the headers a change needs (the CSRF token)."""
        client = self.client()
        response = client.post("/api/login", json={"username": name, "password": password})
        assert response.status_code == 200, response.text
        return client, {CSRF_HEADER: response.json()["csrf_token"]}

    def stop(self) -> None:
        for client in self._clients:
            client.close()
        self._server.should_exit = True
        self._thread.join(timeout=20)


@contextmanager
def serving(state_dir: Path, tls_folder: Path | None = None, **config: object) -> Iterator[AuthServer]:
    """An AuthServer on `state_dir` with KioskAuthConfig(**config), stopped afterwards."""
    server = AuthServer(state_dir, KioskAuthConfig(**config), tls_folder)
    try:
        yield server
    finally:
        server.stop()
