"""A kiosk browser as an attacker drives it: raw HTTP (http.client sends exactly the headers and
path it is given), a cookie jar, the CSRF token of its session, and the lane websocket."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from websockets.sync.client import ClientConnection, connect

from edge.kiosk.auth.web import CSRF_HEADER, LOGIN_PATH, SESSION_COOKIE


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names; a repeated header keeps its last value
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


class Browser:
    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.csrf = ""  # the session's CSRF token, once logged in

    def request(self, method: str, path: str, *, body: bytes | Iterable[bytes] | None = None,
                headers: dict[str, str] | None = None, timeout: float = 20.0) -> Answer:
        sent = {"Cookie": self.cookie_header()} if self.cookies else {}
        sent.update(headers or {})
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=sent,
                               encode_chunked=body is not None and not isinstance(body, bytes))
            response = connection.getresponse()
            data = response.read()
            for header in response.headers.get_all("Set-Cookie") or []:
                self._keep(header)
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
        finally:
            connection.close()

    def _keep(self, set_cookie: str) -> None:
        name, _, rest = set_cookie.partition("=")
        value = rest.split(";", 1)[0].strip('"')
        if value and "max-age=0" not in set_cookie.lower():
            self.cookies[name] = value
        else:
            self.cookies.pop(name, None)

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def get(self, path: str, **kwargs: Any) -> Answer:
        return self.request("GET", path, **kwargs)

    def post_json(self, path: str, payload: Any, *, csrf: bool = True, headers: dict[str, str] | None = None,
                  timeout: float = 20.0) -> Answer:
        sent = {"Content-Type": "application/json"}
        if csrf and self.csrf:
            sent[CSRF_HEADER] = self.csrf
        sent.update(headers or {})
        return self.request("POST", path, body=json.dumps(payload).encode(), headers=sent, timeout=timeout)

    def login(self, username: str, password: str, timeout: float = 20.0) -> Answer:
        """Log in; on success, also fetch the session's CSRF token as the page does."""
        answer = self.post_json(LOGIN_PATH, {"username": username, "password": password}, csrf=False,
                                timeout=timeout)
        if answer.status == 200:
            self.csrf = self.get("/api/me").json()["csrf_token"]
        return answer

    def logout(self) -> Answer:
        return self.post_json("/api/logout", {})

    @property
    def session(self) -> str:
        """The session cookie the server set at login (KeyError before one)."""
        return self.cookies[SESSION_COOKIE]

    def websocket(self, *, origin: str | None = None) -> ClientConnection:
        headers = {"Cookie": self.cookie_header()} if self.cookies else {}
        if origin is not None:
            headers["Origin"] = origin
        return connect(f"ws://127.0.0.1:{self.port}/ws", additional_headers=headers, open_timeout=10)
