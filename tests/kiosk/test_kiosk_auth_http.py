"""The auth layer over real HTTP: login, lockout, sessions, logout, CSRF, lanes and roles."""

from __future__ import annotations

import sqlite3
import time

import pytest

from edge.kiosk.auth import Role
from edge.kiosk.auth.db import users_db_path
from edge.kiosk.auth.web import CSRF_HEADER, DEVICE_COOKIE, SESSION_COOKIE
from tests.support.kiosk_auth_server import PASSWORD, serving

pytestmark = pytest.mark.slow  # real processes and waits: seconds per test


@pytest.fixture
def server(tmp_path):
    with serving(tmp_path / "state") as running:
        yield running


def test_login_sets_a_strict_http_only_cookie_and_me_tells_who(server):
    server.add("alice", lanes=("lane-1", "lane-2"))
    with server.client() as client:
        response = client.post("/api/login", json={"username": "alice", "password": PASSWORD})
        assert response.status_code == 200
        cookie = response.headers["set-cookie"]
        assert cookie.startswith(f"{SESSION_COOKIE}=")
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert "Secure" not in cookie  # plain http on loopback: a Secure cookie would never come back
        me = client.get("/api/me").json()
        assert me["username"] == "alice" and me["role"] == "officer"
        assert me["lanes"] == ["lane-1", "lane-2"] and me["all_lanes"] is False
        assert me["csrf_token"] == response.json()["csrf_token"]


def test_under_tls_the_session_cookie_is_secure(tmp_path):
    with serving(tmp_path / "state", tls_folder=tmp_path) as server:
        server.add("alice")
        response = server.client().post("/api/login", json={"username": "alice", "password": PASSWORD})
        assert response.status_code == 200
        assert "Secure" in response.headers["set-cookie"].split("; ")


def test_wrong_password_and_unknown_user_get_the_same_answer(server):
    server.add("alice")
    with server.client() as client:
        wrong = client.post("/api/login", json={"username": "alice", "password": "not-the-password"})
        unknown = client.post("/api/login", json={"username": "mallory", "password": PASSWORD})
        assert client.get("/api/me").status_code == 401
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"] == "wrong user name or password"


def test_a_login_must_be_either_password_or_badge(server):
    with server.client() as client:
        both = client.post("/api/login", json={"username": "a", "password": "b", "badge": "c", "pin": "1"})
        neither = client.post("/api/login", json={})
        extra = client.post("/api/login", json={"username": "a", "password": "b", "role": "supervisor"})
    assert both.status_code == neither.status_code == extra.status_code == 422


def test_a_login_posted_from_another_site_is_refused(server):
    server.add("alice")
    with server.client() as client:
        response = client.post("/api/login", json={"username": "alice", "password": PASSWORD},
                               headers={"Origin": "http://evil.example"})
    assert response.status_code == 403
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


def test_repeated_failures_slow_the_name_down_but_never_lock_its_owner_out(tmp_path):
    # Issue 13, finding 4: five wrong passwords locked the account, its owner included, and only
    # names that exist were locked (which told a guesser which ones do).
    with serving(tmp_path / "state", throttle_after=3, throttle_s=300) as server:
        server.add("alice")
        kiosk = server.client()
        assert kiosk.post("/api/login", json={"username": "alice", "password": PASSWORD}).status_code == 200
        assert kiosk.cookies.get(DEVICE_COOKIE)  # this browser is now one alice's account knows
        guesser = server.client()
        for name in ("alice", "nobody"):
            bad = {"username": name, "password": "guess-guess-guess"}
            assert [guesser.post("/api/login", json=bad).status_code for _ in range(3)] == [401] * 3
            slowed = guesser.post("/api/login", json=bad)
            assert slowed.status_code == 429 and slowed.headers["retry-after"] == "300"
            assert slowed.json()["detail"] == "too many failed logins: try again in 5 minutes"
        # The right password from the guesser's side is not even checked...
        right = {"username": "alice", "password": PASSWORD}
        assert guesser.post("/api/login", json=right).status_code == 429
        # ...and alice at her kiosk logs in at once.
        assert kiosk.post("/api/login", json=right).status_code == 200


def test_a_throttle_ends_after_its_time(tmp_path):
    with serving(tmp_path / "state", throttle_after=1, throttle_s=1) as server, server.client() as client:
        server.add("alice")
        assert client.post("/api/login", json={"username": "alice", "password": "x"}).status_code == 401
        statuses = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and 200 not in statuses:
            statuses.append(client.post("/api/login", json={"username": "alice", "password": PASSWORD}).status_code)
        assert statuses[-1] == 200
        assert set(statuses[:-1]) <= {429}


def test_badge_and_pin_log_in_and_wrong_pins_slow_the_badge_down(tmp_path):
    with serving(tmp_path / "state", throttle_after=2, throttle_s=300, pin_length=4) as server:
        server.add("alice")
        server.auth.accounts.admin.set_badge("alice", "B-0042", "4711")
        with server.client() as client:
            ok = client.post("/api/login", json={"badge": "B-0042", "pin": "4711"})
            assert ok.status_code == 200 and ok.json()["username"] == "alice"
        with server.client() as client:  # another browser
            wrong = client.post("/api/login", json={"badge": "B-0042", "pin": "1234"})
            assert wrong.status_code == 401 and wrong.json()["detail"] == "wrong badge or PIN"
            unknown = client.post("/api/login", json={"badge": "B-9999", "pin": "4711"})
            assert unknown.json()["detail"] == "wrong badge or PIN"
            assert client.post("/api/login", json={"badge": "B-0042", "pin": "9876"}).status_code == 401
            assert client.post("/api/login", json={"badge": "B-0042", "pin": "4711"}).status_code == 429


def test_an_idle_session_expires(tmp_path):
    # Limits of several seconds: a loaded machine can take a second or two between login and request.
    with serving(tmp_path / "state", session_idle_s=6, session_max_s=3600) as server:
        server.add("alice")
        client, _ = server.login("alice")
        assert client.get("/api/me").status_code == 200
        time.sleep(7.0)  # longer than the idle limit without a request
        expired = client.get("/api/me")
        assert expired.status_code == 401
        assert expired.json()["detail"] == "session expired; log in again"


def test_a_session_ends_at_its_absolute_limit_even_while_in_use(tmp_path):
    with serving(tmp_path / "state", session_idle_s=6, session_max_s=6) as server:
        server.add("alice")
        client, _ = server.login("alice")
        statuses = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and 401 not in statuses:
            statuses.append(client.get("/api/me").status_code)
            time.sleep(0.1)
        assert statuses[0] == 200 and statuses[-1] == 401


def test_logout_needs_the_csrf_token_and_ends_the_session_on_the_server(server):
    server.add("alice")
    client, csrf = server.login("alice")
    token = client.cookies[SESSION_COOKIE]
    assert client.post("/api/logout").status_code == 403
    response = client.post("/api/logout", headers=csrf)
    assert response.status_code == 200 and response.json() == {"logged_out": "alice"}
    assert client.get("/api/me").status_code == 401
    replay = server.client(session_token=token)  # the old cookie value, kept by an attacker, opens nothing
    assert replay.get("/api/me").status_code == 401


def test_a_change_without_a_session_is_401(server):
    with server.client() as client:
        for path in ("/api/lanes/lane-1/open", "/api/forgotten", "/api/logout"):
            response = client.post(path)
            assert response.status_code == 401, path
            assert response.json()["detail"] == "log in first"
        assert client.get("/api/lanes").status_code == 200  # this test server leaves reads open


def test_a_change_without_the_right_csrf_token_is_403(server):
    server.add("alice")
    client, csrf = server.login("alice")
    for headers in ({}, {CSRF_HEADER: "guessed"}, {CSRF_HEADER: ""}):
        for path in ("/api/lanes/lane-1/open", "/api/forgotten"):
            response = client.post(path, headers=headers)
            assert response.status_code == 403, (path, headers)
            assert "CSRF" in response.json()["detail"]
    for method in ("PUT", "PATCH", "DELETE"):
        assert client.request(method, "/api/forgotten").status_code == 403
    assert client.post("/api/lanes/lane-1/open", headers=csrf).json() == {
        "opened": "lane-1", "by": "alice", "role": "officer"}
    assert client.post("/api/forgotten", headers=csrf).status_code == 200


def test_one_session_s_csrf_token_does_not_work_for_another(server):
    server.add("alice")
    server.add("bob")
    _, alice_csrf = server.login("alice")
    bob, _ = server.login("bob")
    assert bob.post("/api/lanes/lane-1/open", headers=alice_csrf).status_code == 403


def test_an_officer_acts_only_on_their_lanes_and_a_supervisor_on_all(server):
    server.add("alice", lanes=("lane-1",))
    server.add("carol", all_lanes=True)
    server.auth.accounts.admin.add("sam", Role.SUPERVISOR, (), False, PASSWORD)
    alice, alice_csrf = server.login("alice")
    carol, carol_csrf = server.login("carol")
    sam, sam_csrf = server.login("sam")
    assert alice.post("/api/lanes/lane-1/open", headers=alice_csrf).status_code == 200
    refused = alice.post("/api/lanes/lane-2/open", headers=alice_csrf)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "alice may not act on lane 'lane-2'"
    assert carol.post("/api/lanes/lane-2/open", headers=carol_csrf).status_code == 200
    assert sam.post("/api/lanes/lane-2/open", headers=sam_csrf).json()["role"] == "supervisor"


def test_roles_decide_who_may_do_what(server):
    server.add("alice")
    server.add("terry", role=Role.TECHNICIAN, lanes=("lane-1",))
    alice, alice_csrf = server.login("alice")
    terry, terry_csrf = server.login("terry")
    refused = alice.post("/api/lanes/lane-1/pulse", headers=alice_csrf)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "alice (officer) may not do this: it needs a technician"
    assert terry.post("/api/lanes/lane-1/pulse", headers=terry_csrf).json() == {"pulsed": "lane-1", "by": "terry"}
    assert terry.post("/api/lanes/lane-1/open", headers=terry_csrf).status_code == 403


def test_a_new_password_or_a_disable_ends_open_sessions(server):
    server.add("alice")
    server.add("bob")
    alice, _ = server.login("alice")
    bob, _ = server.login("bob")
    server.auth.accounts.admin.set_password("alice", "another-password-2")
    assert alice.get("/api/me").status_code == 401
    server.auth.accounts.users.set_disabled("bob", True)
    assert bob.get("/api/me").status_code == 401
    refused = bob.post("/api/login", json={"username": "bob", "password": PASSWORD})
    assert refused.status_code == 403 and refused.json()["detail"] == "account disabled; ask a supervisor"
    assert alice.post("/api/login", json={"username": "alice", "password": PASSWORD}).status_code == 401
    assert alice.post("/api/login", json={"username": "alice", "password": "another-password-2"}).status_code == 200


def test_sessions_survive_a_server_restart(tmp_path):
    with serving(tmp_path / "state") as first:
        first.add("alice")
        client, csrf = first.login("alice")
        token = client.cookies[SESSION_COOKIE]
    with serving(tmp_path / "state") as second:
        client = second.client(session_token=token)
        assert client.get("/api/me").json()["username"] == "alice"
        assert client.post("/api/lanes/lane-1/open", headers=csrf).status_code == 200


def test_the_database_holds_argon2_hashes_and_token_digests_only(server):
    server.add("alice")
    server.auth.accounts.admin.set_badge("alice", "B-1", "271828")
    client, _ = server.login("alice")
    token = client.cookies[SESSION_COOKIE]
    path = users_db_path(server.state_dir)
    with sqlite3.connect(path) as db:
        password_hash, pin_hash = db.execute("SELECT password_hash, pin_hash FROM users").fetchone()
        digests = [row[0] for row in db.execute("SELECT token_digest FROM sessions")]
    assert password_hash.startswith("$argon2id$") and pin_hash.startswith("$argon2id$")
    assert len(digests) == 1 and token not in digests
    raw = b"".join(p.read_bytes() for p in path.parent.iterdir())  # the database, its WAL and index
    for secret in (PASSWORD, "271828", token):
        assert secret.encode() not in raw
    assert path.stat().st_mode & 0o077 == 0


def test_demo_accounts_log_in_only_where_the_config_allows_them(tmp_path):
    with serving(tmp_path / "state", demo_accounts=True) as demo:
        assert [d.username for d in demo.auth.accounts.demo_accounts] == ["officer", "tech", "super"]
        tech, _ = demo.login("tech", "tech")
        assert tech.get("/api/me").json()["role"] == "technician"
        officer, _ = demo.login("officer", "officer")
        assert officer.get("/api/me").json()["all_lanes"] is True
        token = officer.cookies[SESSION_COOKIE]
    with serving(tmp_path / "state") as real:
        client = real.client(session_token=token)
        assert client.get("/api/me").status_code == 401
        refused = client.post("/api/login", json={"username": "officer", "password": "officer"})
        assert refused.status_code == 403
        assert "demo accounts are switched off" in refused.json()["detail"]
