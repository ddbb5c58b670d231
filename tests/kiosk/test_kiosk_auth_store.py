"""The auth layer's rules at the store level, with explicit times: session expiry and refresh,
the login throttle (never a lock), account rules, demo accounts, and the config that enables them."""

from __future__ import annotations

import pytest

from edge.config import KioskAuthConfig, KioskConfig
from edge.kiosk.auth.admin import AccountAdmin
from edge.kiosk.auth.db import Database
from edge.kiosk.auth.demo import ensure_demo_accounts
from edge.kiosk.auth.devices import DeviceStore
from edge.kiosk.auth.hashing import Hasher
from edge.kiosk.auth.login import Authenticator, LoginOutcome, LoginResult
from edge.kiosk.auth.model import InvalidAccount, Role, User, parse_lanes
from edge.kiosk.auth.sessions import SessionStore
from edge.kiosk.auth.users import UserStore

pytestmark = pytest.mark.slow  # real processes and waits: seconds per test

PASSWORD = "correct-horse-1"


@pytest.fixture
def db(tmp_path):
    database = Database(tmp_path / "users.sqlite")
    yield database
    database.close()


@pytest.fixture
def hasher():
    return Hasher()


def _admin(db, hasher, **config) -> tuple[UserStore, AccountAdmin, Authenticator]:
    users = UserStore(db)
    settings = KioskAuthConfig(**config)
    return users, AccountAdmin(users, hasher, settings), Authenticator(users, DeviceStore(db), hasher, settings)


def test_use_keeps_a_session_alive_until_it_is_idle_too_long(db):
    users = UserStore(db)
    users.add(User("alice", Role.OFFICER, ("lane-1",), False), "hash", now=0)
    sessions = SessionStore(db, idle_s=10, max_s=100)
    token = sessions.create("alice", now=0).token
    assert sessions.use(token, now=9) is not None
    assert sessions.use(token, now=18) is not None  # 18 s after login, but only 9 s idle
    assert sessions.use(token, now=29) is None  # 11 s idle
    assert sessions.use(token, now=30) is None  # and gone for good, not revived by the attempt


def test_a_background_use_answers_but_does_not_keep_the_session_alive(db):
    users = UserStore(db)
    users.add(User("alice", Role.OFFICER, ("lane-1",), False), "hash", now=0)
    sessions = SessionStore(db, idle_s=10, max_s=100)
    token = sessions.create("alice", now=0).token
    assert sessions.use(token, now=6, touch=False) is not None
    assert sessions.use(token, now=9, touch=False) is not None
    assert sessions.use(token, now=11, touch=False) is None  # idle since the login at 0


def test_a_used_session_still_ends_at_its_absolute_limit(db):
    UserStore(db).add(User("alice", Role.OFFICER, ("lane-1",), False), "hash", now=0)
    sessions = SessionStore(db, idle_s=10, max_s=30)
    created = sessions.create("alice", now=0)
    for now in (8, 16, 24, 29):
        session = sessions.use(created.token, now=now)
        assert session is not None and session.csrf_token == created.session.csrf_token
    assert sessions.use(created.token, now=30) is None
    assert sessions.live_count("alice", now=30) == 0


def test_every_session_has_its_own_token_and_csrf_token(db):
    UserStore(db).add(User("alice", Role.OFFICER, ("lane-1",), False), "hash", now=0)
    sessions = SessionStore(db, idle_s=10, max_s=30)
    first, second = sessions.create("alice", now=0), sessions.create("alice", now=0)
    assert first.token != second.token and first.session.csrf_token != second.session.csrf_token
    assert sessions.live_count("alice", now=1) == 2
    sessions.end(first.token)
    assert sessions.use(first.token, now=1) is None and sessions.use(second.token, now=1) is not None


def test_failures_slow_a_name_down_and_never_lock_it(db, hasher):
    _, admin, login = _admin(db, hasher, throttle_after=3, throttle_s=60)
    admin.add("alice", Role.OFFICER, ("lane-1",), False, PASSWORD)
    assert [login.by_password("alice", "wrong-wrong", now=t).outcome for t in (0, 1, 2)] == [LoginOutcome.WRONG] * 3
    slowed = login.by_password("alice", PASSWORD, now=3)  # not even the right password is checked
    assert slowed.outcome is LoginOutcome.THROTTLED and slowed.wait_s == 59 and slowed.account is None
    assert login.by_password("alice", PASSWORD, now=62).outcome is LoginOutcome.OK  # the wait is over
    # A name that does not exist is slowed down the same way, with the same answer.
    assert [login.by_password("nobody", "wrong-wrong", now=t).outcome for t in (70, 71, 72)] == [LoginOutcome.WRONG] * 3
    unknown = login.by_password("nobody", "wrong-wrong", now=73)
    assert (unknown.outcome, unknown.wait_s, unknown.words(False)) == (slowed.outcome, 59, slowed.words(False))


def test_a_browser_the_account_knows_is_not_slowed_by_guesses_from_elsewhere(db, hasher):
    _, admin, login = _admin(db, hasher, throttle_after=3, throttle_s=60)
    admin.add("alice", Role.OFFICER, ("lane-1",), False, PASSWORD)
    admin.add("bob", Role.OFFICER, ("lane-1",), False, PASSWORD)
    kiosk = login.by_password("alice", PASSWORD, now=0).device_token
    assert kiosk
    for t in (1, 2, 3):
        login.by_password("alice", "guess-guess", now=t)  # a guesser without the kiosk's cookie
    assert login.by_password("alice", PASSWORD, now=4).outcome is LoginOutcome.THROTTLED
    at_the_kiosk = login.by_password("alice", PASSWORD, now=4, device=kiosk)
    assert at_the_kiosk.outcome is LoginOutcome.OK and at_the_kiosk.device_token == kiosk
    # The cookie is alice's: it does not help with bob's name, and its own failures count on it.
    for t in (5, 6, 7):
        login.by_password("bob", "guess-guess", now=t)
    assert login.by_password("bob", PASSWORD, now=8, device=kiosk).outcome is LoginOutcome.THROTTLED
    for t in (9, 10, 11):
        assert login.by_password("alice", "typo-typo", now=t, device=kiosk).outcome is LoginOutcome.WRONG
    assert login.by_password("alice", PASSWORD, now=12, device=kiosk).outcome is LoginOutcome.THROTTLED


def test_user_names_are_matched_without_case_or_spaces(db, hasher):
    _, admin, login = _admin(db, hasher)
    admin.add("alice", Role.OFFICER, ("lane-1",), False, PASSWORD)
    assert login.by_password(" Alice ", PASSWORD, now=0).outcome is LoginOutcome.OK


@pytest.mark.parametrize(("seconds", "words"), [
    (300, "too many failed logins: try again in 5 minutes"), (299.2, "too many failed logins: try again in 5 minutes"),
    (60, "too many failed logins: try again in 1 minute"), (30, "too many failed logins: try again in 30 seconds"),
    (0.4, "too many failed logins: try again in 1 second"),
])
def test_throttle_words(seconds, words):
    assert LoginResult(LoginOutcome.THROTTLED, wait_s=seconds).words(by_badge=False) == words


def test_account_rules(db, hasher):
    users, admin, _ = _admin(db, hasher, password_min_length=12, pin_length=6)
    with pytest.raises(InvalidAccount, match="at least 12 characters"):
        admin.add("alice", Role.OFFICER, ("lane-1",), False, "short-pass")
    with pytest.raises(InvalidAccount, match="user name 'Alice!'"):
        admin.add("Alice!", Role.OFFICER, ("lane-1",), False, "long-enough-password")
    with pytest.raises(InvalidAccount, match="the role officer needs lanes"):
        admin.add("alice", Role.OFFICER, (), False, "long-enough-password")
    admin.add("alice", Role.OFFICER, ("lane-1",), False, "long-enough-password")
    with pytest.raises(InvalidAccount, match="already exists"):
        admin.add("alice", Role.TECHNICIAN, ("lane-1",), False, "long-enough-password")
    for pin, problem in (("12345", "exactly 6 digits"), ("12345a", "exactly 6 digits"), ("777777", "repeated")):
        with pytest.raises(InvalidAccount, match=problem):
            admin.set_badge("alice", "B-1", pin)
    admin.set_badge("alice", "B-1", "260718")
    admin.add("bob", Role.OFFICER, ("lane-2",), False, "long-enough-password")
    with pytest.raises(InvalidAccount, match="already belongs to another user"):
        admin.set_badge("bob", "B-1", "314159")
    with pytest.raises(InvalidAccount, match="no user 'carol'"):
        admin.set_password("carol", "long-enough-password")
    supervisor = admin.add("sam", Role.SUPERVISOR, ("lane-1",), False, "long-enough-password")
    assert supervisor.all_lanes and supervisor.may_act_on("lane-9")
    assert [a.user.username for a in users.all()] == ["alice", "bob", "sam"]


def test_lane_lists():
    assert parse_lanes("lane-1, lane-2,lane-1") == (("lane-1", "lane-2"), False)
    assert parse_lanes("all") == ((), True)
    with pytest.raises(InvalidAccount, match="not a lane id: 'Lane 3'"):
        parse_lanes("lane-1,Lane 3")
    with pytest.raises(InvalidAccount):
        parse_lanes(" , ")


def test_demo_accounts_are_created_once_and_never_replace_a_real_account(db, hasher):
    users, admin, login = _admin(db, hasher, demo_accounts=True)
    admin.add("super", Role.SUPERVISOR, (), True, "a-real-supervisor-password")
    created = ensure_demo_accounts(users, admin)
    assert [d.username for d in created] == ["officer", "tech"]
    assert [d.username for d in ensure_demo_accounts(users, admin)] == ["officer", "tech"]
    assert login.by_password("super", "super", now=0).outcome is LoginOutcome.WRONG
    assert login.by_password("officer", "officer", now=0).outcome is LoginOutcome.OK
    _, _, strict = _admin(db, hasher, demo_accounts=False)
    assert strict.by_password("officer", "officer", now=0).outcome is LoginOutcome.DEMO_OFF


def test_the_config_keeps_demo_accounts_on_loopback_and_sessions_consistent():
    assert KioskConfig(auth=KioskAuthConfig(demo_accounts=True)).auth.demo_accounts
    with pytest.raises(ValueError, match="demo_accounts are for a loopback kiosk only"):
        KioskConfig(host="10.0.0.5", tls_certfile="c.pem", tls_keyfile="k.pem",
                    auth=KioskAuthConfig(demo_accounts=True))
    with pytest.raises(ValueError, match="session_idle_s must not be longer than session_max_s"):
        KioskAuthConfig(session_idle_s=600, session_max_s=60)
