"""What every supervisor page shares: who may see it, and the page around its content."""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from edge.kiosk.auth.model import Role
from edge.kiosk.auth.web import Auth
from edge.kiosk.hardening import NO_STORE


def not_a_supervisor(auth: Auth, request: Request) -> Response | None:
    """None for a supervisor; otherwise the way to the login page, or a refusal that says why."""
    user = auth.user_of(request)
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    if user.role is not Role.SUPERVISOR:
        words = (f"The supervisor's page needs a supervisor account; {escape(user.username)} is "
                 f'{"an" if user.role is Role.OFFICER else "a"} {user.role.value}.')
        return HTMLResponse(page("", f'<p class="banner">{words} <a href="/">The officer screen</a></p>'),
                            403, headers=NO_STORE)
    return None


def page(top: str, body: str) -> str:
    """A supervisor page: the bar, then `top` (a form) and `body`."""
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>Checkpoint Edge — supervisor</title>"
            '<link rel="stylesheet" href="/supervisor/style.css"></head><body>'
            '<header class="topbar"><h1>Checkpoint Edge — supervisor</h1>'
            '<nav><a href="/">Officer screen</a> <a href="/technician">Technician</a></nav></header>'
            f"<main>{top}{body}</main>"
            '<script src="/static/auth.js"></script><script src="/static/supervisor.js"></script></body></html>')
