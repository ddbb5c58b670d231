"""Attacks on the kiosk's HTTP side: sessions, cookies, CSRF, bodies, headers, names, the feed."""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import threading
import time

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import connect

from edge.attacks.browser import Browser
from edge.attacks.campaign import Breach, attack
from edge.attacks.target import Target
from edge.kiosk.auth.demo import DEMO_ACCOUNTS
from edge.kiosk.auth.web import CSRF_HEADER, LOGIN_PATH, SESSION_COOKIE

PASSWORDS = {account.username: account.password for account in DEMO_ACCOUNTS}
LANE = "lane-1"
FEED_LOGOUT_LIMIT_S = 10.0  # docs/benchmarks.md: the feed ends within 10 s of logout
REAL_LOGIN_LIMIT_S = 2.0
FOREIGN = "http://evil.example"

# Every route that needs a session, as (method, path, JSON body).
PROTECTED = [
    ("GET", "/api/me", None),
    ("GET", "/api/lanes", None),
    ("GET", "/api/status", None),
    ("GET", "/api/history?q=A", None),
    ("GET", f"/api/lanes/{LANE}/cameras/plate.jpg", None),
    ("GET", f"/api/lanes/{LANE}/cameras/face/stream", None),
    ("GET", f"/api/lanes/{LANE}/crossings/any/plate.jpg", None),
    ("GET", f"/api/lanes/{LANE}/cameras/plate/check", None),
    ("POST", f"/api/lanes/{LANE}/crossings/any/actions", {"kind": "confirm", "revision": 1}),
    ("POST", f"/api/lanes/{LANE}/devices/barrier/test", {}),
    ("POST", f"/api/lanes/{LANE}/roi", {"x": 0, "y": 0, "width": 100, "height": 40}),
    ("POST", "/api/logout", {}),
]


def logged_in(target: Target, username: str) -> Browser:
    browser = Browser(target.service().port)
    answer = browser.login(username, PASSWORDS[username])
    if answer.status != 200:
        raise RuntimeError(f"the demo account {username!r} could not log in: {answer.status} {answer.text[:200]}")
    return browser


def _send(browser: Browser, method: str, path: str, body: dict | None):
    if method == "GET":
        return browser.get(path, timeout=10)
    return browser.post_json(path, body, timeout=10)


def _all_refused(browser: Browser, who: str) -> None:
    """Every protected route answers 401/403 to `browser`, and the feed closes without a word of lane data."""
    let_in = [f"{method} {path}: {answer.status}" for method, path, body in PROTECTED
              if (answer := _send(browser, method, path, body)).status not in (401, 403)]
    try:
        with browser.websocket() as ws:
            message = ws.recv(timeout=10)
            let_in.append(f"the feed sent {message[:80]!r}")
    except (ConnectionClosed, InvalidHandshake):
        pass
    if let_in:
        raise Breach(f"{who} was let in: " + "; ".join(let_in))


@attack("no-session", "every route and the feed, with no session cookie")
def no_session(target: Target) -> None:
    _all_refused(Browser(target.service().port), "a browser with no session")


@attack("forged-cookie", "every route and the feed, with a made-up session cookie")
def forged_cookie(target: Target) -> None:
    browser = Browser(target.service().port)
    browser.cookies[SESSION_COOKIE] = secrets.token_urlsafe(32)
    browser.csrf = secrets.token_urlsafe(32)
    _all_refused(browser, "a forged session cookie")


@attack("logged-out-cookie", "every route and the feed, with the cookie of a session that logged out")
def logged_out_cookie(target: Target) -> None:
    browser = logged_in(target, "officer")
    stolen, csrf = browser.session, browser.csrf
    if browser.logout().status != 200:
        raise RuntimeError("the officer could not log out")
    browser.cookies[SESSION_COOKIE], browser.csrf = stolen, csrf
    _all_refused(browser, "a logged-out session's cookie")


@attack("wrong-role", "a technician acts on a crossing, an officer tests the barrier or draws an ROI")
def wrong_role(target: Target) -> None:
    tech, officer = logged_in(target, "tech"), logged_in(target, "officer")
    tries = [
        ("tech", tech.post_json(f"/api/lanes/{LANE}/crossings/any/actions", {"kind": "confirm", "revision": 1})),
        ("officer", officer.post_json(f"/api/lanes/{LANE}/devices/barrier/test", {})),
        ("officer", officer.post_json(f"/api/lanes/{LANE}/roi", {"x": 0, "y": 0, "width": 100, "height": 40})),
        ("officer", officer.get(f"/api/lanes/{LANE}/cameras/plate/check")),
    ]
    allowed = [f"{who}: {answer.status}" for who, answer in tries if answer.status != 403]
    if allowed:
        raise Breach("a role did what it may not: " + "; ".join(allowed))


@attack("csrf", "changes without the session's CSRF token: none, wrong, another session's, a cross-site form")
def csrf(target: Target) -> None:
    officer, tech = logged_in(target, "officer"), logged_in(target, "tech")
    action = f"/api/lanes/{LANE}/crossings/any/actions"
    confirm = {"kind": "confirm", "revision": 1}
    form = b"kind=confirm&revision=1"
    tries = {
        "action without a token": officer.post_json(action, confirm, csrf=False),
        "action with a made-up token": officer.post_json(action, confirm, headers={CSRF_HEADER: "x" * 43}),
        "action with the technician's token": officer.post_json(action, confirm, headers={CSRF_HEADER: tech.csrf}),
        "a cross-site form post": officer.request("POST", action, body=form, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Origin": FOREIGN}),
        "logout without a token": officer.post_json("/api/logout", {}, csrf=False),
        "barrier test without a token": tech.post_json(f"/api/lanes/{LANE}/devices/barrier/test", {}, csrf=False),
        "ROI without a token": tech.post_json(f"/api/lanes/{LANE}/roi", {"x": 0, "y": 0, "width": 99, "height": 40},
                                              csrf=False),
    }
    taken = [f"{what}: {answer.status}" for what, answer in tries.items() if answer.status != 403]
    if officer.get("/api/me").status != 200:
        taken.append("the officer was logged out by a request without a token")
    if taken:
        raise Breach("taken without the session's CSRF token: " + "; ".join(taken))


@attack("session-fixation", "a session cookie planted before login is not the one the login uses")
def session_fixation(target: Target) -> None:
    attacker = logged_in(target, "tech")
    for planted in (secrets.token_urlsafe(32), attacker.session):
        victim = Browser(target.service().port)
        victim.cookies[SESSION_COOKIE] = planted
        if victim.login("officer", PASSWORDS["officer"]).status != 200:
            raise RuntimeError("the officer could not log in")
        if victim.session == planted:
            raise Breach("the login kept the session cookie planted before it")
        with_planted = Browser(target.service().port)
        with_planted.cookies[SESSION_COOKIE] = planted
        me = with_planted.get("/api/me")
        if me.status == 200 and me.json()["username"] == "officer":
            raise Breach("the planted cookie now opens the officer's session")


TRAVERSALS = [
    "/static/../edge.toml", "/static/../../config/edge.toml", "/static/%2e%2e/%2e%2e/config/edge.toml",
    "/static/..%2f..%2fkiosk%2fapp.py", "/static/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/static//etc/passwd", "/static/....//....//etc/passwd", "/static/%252e%252e/%252e%252e/etc/passwd",
    "/static/..\\..\\kiosk\\app.py", "/static/kiosk.js%00.txt", "/..%2f..%2fetc%2fpasswd",
    f"/api/lanes/{LANE}/crossings/..%2f..%2f..%2fetc%2fpasswd/plate.jpg",
    f"/api/lanes/{LANE}/crossings/any/..%2f..%2faudit.jpg",
    f"/api/lanes/{LANE}/cameras/..%2f..%2fplate.jpg",
    "/api/lanes/..%2f..%2fetc/cameras/plate.jpg",
    "/api/history?q=../../etc/passwd",
    "/api/lanes/lane-1/crossings/%2e%2e/portrait.jpg",
]
# What a file outside the kiosk's static folder would show.
_LEAK_MARKS = (b"root:", b"state_dir", b"[checkpoint]", b"import ", b'"seq":')


@attack("path-traversal", f"{len(TRAVERSALS)} paths that climb out of the static folder and the crossing images")
def path_traversal(target: Target) -> None:
    officer = logged_in(target, "officer")
    leaks = []
    for path in TRAVERSALS:
        answer = officer.get(path, timeout=10)
        served = answer.status == 200 and not path.startswith("/api/history")  # a search may answer []
        if served or any(mark in answer.body for mark in _LEAK_MARKS):
            leaks.append(f"{path}: {answer.status} {answer.body[:60]!r}")
    if leaks:
        raise Breach("served outside its folders: " + "; ".join(leaks))


@attack("feed-after-logout", "log out while the lane feed is busy: the feed must end within 10 s", finding=1)
def feed_after_logout(target: Target) -> None:
    officer = logged_in(target, "officer")
    with officer.websocket() as ws:
        if json.loads(ws.recv(timeout=10))["type"] != "hello":
            raise RuntimeError("the feed did not start with hello")
        ws.recv(timeout=30)  # the lanes are talking
        if officer.logout().status != 200:
            raise RuntimeError("the officer could not log out")
        logged_out = time.monotonic()
        try:
            while time.monotonic() - logged_out < FEED_LOGOUT_LIMIT_S + 5:
                ws.recv(timeout=FEED_LOGOUT_LIMIT_S + 5)
        except ConnectionClosed as closed:
            took = time.monotonic() - logged_out
            if took > FEED_LOGOUT_LIMIT_S or closed.rcvd is None or closed.rcvd.code != 1008:
                raise Breach(f"the feed ended {took:.1f} s after logout (code "
                             f"{closed.rcvd.code if closed.rcvd else None})") from None
            return
        except TimeoutError:
            pass
    raise Breach(f"the feed was still open {FEED_LOGOUT_LIMIT_S + 5:.0f} s after logout")


def _answer_to_raw_post(port: int, headers: str, pieces) -> tuple[int, bytes, float]:
    """POST a body piece by piece until the server answers; (status, answer, seconds to answer)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(f"POST {LOGIN_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{headers}\r\n".encode())
        sock.setblocking(False)
        answer = b""
        for piece in pieces:
            with contextlib.suppress(BlockingIOError):
                answer += sock.recv(65536)
            if answer:
                break
            try:
                sock.sendall(piece)
            except BlockingIOError:
                time.sleep(0.01)
            except OSError:  # the server stopped reading and closed: its answer is waiting
                break
        sock.settimeout(30)
        try:
            while b"\r\n\r\n" not in answer or len(answer) < 200:
                more = sock.recv(65536)
                if not more:
                    break
                answer += more
        except (TimeoutError, OSError):
            pass
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
    return status, answer, time.monotonic() - started


@attack("huge-login-body", "a 200 MB password to /api/login, announced and chunked", finding=2)
def huge_login_body(target: Target) -> None:
    port = target.service().port
    size, piece = 200_000_000, b"x" * (1 << 20)
    announced = _answer_to_raw_post(port, f"Content-Type: application/json\r\nContent-Length: {size}\r\n",
                                    [b'{"username": "officer", "password": "'] + [piece] * (size >> 20))
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    chunked = _answer_to_raw_post(port, "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n",
                                  [chunk] * (size >> 20))
    problems = [f"{how}: {status} after {seconds:.1f} s, {len(answer)} bytes back"
                for how, (status, answer, seconds) in (("announced", announced), ("chunked", chunked))
                if status != 413 or b"xxxxxxxx" in answer or seconds > 5]
    if problems:
        raise Breach("a huge body was not refused at once: " + "; ".join(problems))


MALFORMED_LOGINS = [
    b'{"username": "\\ud800", "password": "x"}',
    b'{"username": "officer", "password": "\\udfff\\ud800"}',
    b"NaN",
    b'{"username": "officer", "password": NaN}',
    b'{"username": "off\\u0000icer", "password": "x"}',
    b'{"username": ["officer"], "password": {"$ne": null}}',
    b"\xff\xfe\x00garbage",
]


@attack("malformed-login", "login bodies with lone surrogates, NaN, NUL, wrong types, bad bytes", finding=5)
def malformed_login(target: Target) -> None:
    browser = Browser(target.service().port)
    problems = []
    for body in MALFORMED_LOGINS:
        answer = browser.request("POST", LOGIN_PATH, body=body, headers={"Content-Type": "application/json"})
        detail = answer.json().get("detail") if answer.status == 422 else None
        if not detail or any(set(problem) != {"loc", "msg", "type"} for problem in detail):
            problems.append(f"{body[:30]!r}: {answer.status} {answer.text[:80]}")
    if "Traceback" in target.log() or "Exception in ASGI" in target.log():
        problems.append("the service logged a traceback")
    if problems:
        raise Breach("malformed logins were not plainly refused: " + "; ".join(problems))


@attack("security-headers", "every answer, refusals too, says: own scripts only, no framing, no sniffing, no "
        "referrer; no API docs", finding=7)
def security_headers(target: Target) -> None:
    browser = Browser(target.service().port)
    missing = []
    for path, status in [("/", 200), ("/login", 200), ("/technician", 200), ("/static/kiosk.js", 200),
                         ("/api/lanes", 401), ("/healthz", 200), ("/docs", 404), ("/redoc", 404),
                         ("/openapi.json", 404)]:
        answer = browser.get(path)
        if answer.status != status:
            missing.append(f"{path} answered {answer.status}")
        for header in ("content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy"):
            if header not in answer.headers:
                missing.append(f"{path} has no {header}")
        if "'unsafe-inline'" in answer.headers.get("content-security-policy", "") or "cdn" in answer.text.lower():
            missing.append(f"{path} allows inline or CDN scripts")
    if missing:
        raise Breach("; ".join(missing))


@attack("foreign-host", "Host: evil.example (DNS rebinding) on pages, login and the feed", finding=8)
def foreign_host(target: Target) -> None:
    port = target.service().port
    browser = Browser(port)
    answered = [f"{method} {path}: {answer.status}" for method, path in (("GET", "/login"), ("GET", "/"),
                                                                          ("POST", LOGIN_PATH))
                if (answer := browser.request(method, path, body=b'{"username": "officer", "password": "officer"}'
                                              if method == "POST" else None,
                                              headers={"Host": "evil.example", "Content-Type": "application/json"}))
                .status not in (400, 403)]
    try:
        with connect("ws://evil.example/ws", sock=socket.create_connection(("127.0.0.1", port)), open_timeout=10):
            answered.append("the feed opened")
    except InvalidStatus:
        pass
    if answered:
        raise Breach("answered a foreign Host: " + "; ".join(answered))


@attack("foreign-origin", "the feed opened from another site's page, with a valid session cookie", finding=9)
def foreign_origin(target: Target) -> None:
    officer = logged_in(target, "officer")
    try:
        with officer.websocket(origin=FOREIGN) as ws:
            raise Breach(f"the feed opened for {FOREIGN} and sent {ws.recv(timeout=10)[:80]!r}")
    except InvalidStatus:
        pass
    with officer.websocket(origin=target.url) as ws:  # the kiosk's own page still gets its feed
        if json.loads(ws.recv(timeout=10))["type"] != "hello":
            raise Breach("the kiosk's own page got no feed")


@attack("guessing-locks-nobody", "wrong passwords for a real name: the name is slowed like an unknown one, "
        "and its owner still logs in", finding=4)
def guessing_locks_nobody(target: Target) -> None:
    port = target.service().port
    owner = logged_in(target, "super")  # the supervisor's own kiosk, before the guessing
    known = [Browser(port).login("super", f"guess-{i}").status for i in range(7)]
    unknown = [Browser(port).login("nobody-here", f"guess-{i}").status for i in range(7)]
    problems = []
    if known != unknown:
        problems.append(f"a real name answers {known}, an unknown one {unknown}: that tells them apart")
    if 429 not in known:
        problems.append(f"seven wrong passwords were never slowed: {known}")
    again = Browser(port)
    again.cookies = dict(owner.cookies)
    again.cookies.pop(SESSION_COOKIE, None)
    if (status := again.login("super", PASSWORDS["super"]).status) != 200:
        problems.append(f"the supervisor's own kiosk was refused with {status}")
    if problems:
        raise Breach("; ".join(problems))


@attack("login-flood", "40 connections flood logins for made-up names; a real user logs in meanwhile (median "
        "<= 2 s)", finding=3)
def login_flood(target: Target) -> str:
    port = target.service().port
    technician = logged_in(target, "tech")  # has logged in from this browser before
    technician.cookies.pop(SESSION_COOKIE, None)
    flooding = threading.Event()
    flooding.set()
    answers: list[int] = []

    def flood(worker: int) -> None:
        attempt = 0
        while flooding.is_set():
            attempt += 1
            try:
                answers.append(Browser(port).login(f"ghost{worker}x{attempt % 3}", "guess", timeout=30).status)
            except OSError:
                answers.append(0)

    workers = [threading.Thread(target=flood, args=(i,), daemon=True) for i in range(40)]
    for worker in workers:
        worker.start()
    logins: list[tuple[int, float]] = []
    try:
        end = time.monotonic() + target.flood_seconds
        time.sleep(min(3.0, target.flood_seconds / 4))  # the flood is on
        while time.monotonic() < end:
            started = time.monotonic()
            answer = technician.post_json(LOGIN_PATH, {"username": "tech", "password": PASSWORDS["tech"]},
                                          csrf=False, timeout=30)
            logins.append((answer.status, time.monotonic() - started))
            technician.cookies.pop(SESSION_COOKIE, None)
            time.sleep(2.0)
    finally:
        flooding.clear()
        for worker in workers:
            worker.join(timeout=60)
    problems = []
    # Every try must get in; the typical one within the limit. A single slow try is the shared CPU's
    # doing as often as the flood's (it is reported), and must not decide the campaign alone.
    times = sorted(seconds for _, seconds in logins)
    if not logins or any(status != 200 for status, _ in logins) or times[len(times) // 2] > REAL_LOGIN_LIMIT_S:
        problems.append("the real login during the flood: " + ", ".join(f"{s} in {t:.2f} s" for s, t in logins))
    if not set(answers) <= {401, 429, 503}:
        problems.append(f"the flood got answers {sorted(set(answers))}")
    if problems:
        raise Breach(f"{len(answers)} flood logins; " + "; ".join(problems))
    refused = sum(status != 401 for status in answers)
    return (f"{len(answers)} flood logins in {target.flood_seconds:.0f} s ({refused} turned away unchecked); "
            f"the real login took {times[len(times) // 2]:.2f} s (median), {times[-1]:.2f} s at most, "
            f"over {len(logins)} tries")
