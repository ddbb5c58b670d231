"""`edge users ...` as an administrator runs it: a real process on a real config and state dir."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edge.cli import main
from edge.config import KioskAuthConfig, load_config
from edge.kiosk.auth.accounts import Accounts, open_accounts
from edge.kiosk.auth.login import LoginOutcome
from edge.synthetic.scratch import demo_config_text

pytestmark = pytest.mark.slow  # real processes and waits: seconds per test

PASSWORD = "correct-horse-1"


def _config(tmp_path: Path, demo: bool = False) -> Path:
    text = demo_config_text(tmp_path / "state")
    assert "auth.demo_accounts = true" in text, "the demo config enables demo accounts"
    if not demo:
        # A real crossing's config: the same file with demo accounts off.
        text = text.replace("auth.demo_accounts = true", "auth.demo_accounts = false")
    path = tmp_path / "edge.toml"
    path.write_text(text)
    return path


def edge_users(config: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    """`edge users ARGS --config CONFIG` through the CLI's entry point, in this process (start-up
    would cost seconds per call); stdin is what the administrator would type or pipe."""
    out, err = io.StringIO(), io.StringIO()
    argv = ["users", *args, "--config", str(config)]
    saved = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:
                code = exc.code
    finally:
        sys.stdin = saved
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


def _accounts(config: Path, auth: KioskAuthConfig | None = None) -> Accounts:
    loaded = load_config(config)
    return open_accounts(loaded.state_dir, auth or loaded.kiosk.auth)


def test_the_installed_command_reads_the_password_from_stdin(tmp_path):
    config = _config(tmp_path)
    added = subprocess.run(
        [sys.executable, "-m", "edge", "users", "add", "alice", "--role", "officer", "--lanes", "all",
         "--password-stdin", "--config", str(config)],
        input=PASSWORD + "\n", capture_output=True, text=True, timeout=120,
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "added alice (officer, every lane)"
    assert _accounts(config).authenticator.by_password("alice", PASSWORD, now=0).outcome is LoginOutcome.OK


def test_add_list_and_log_in(tmp_path):
    config = _config(tmp_path)
    added = edge_users(config, "add", "alice", "--role", "officer", "--lanes", "lane-1,lane-2", "--password-stdin",
                       stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "added alice (officer, lane-1,lane-2)"
    assert edge_users(config, "add", "sam", "--role", "supervisor", "--password-stdin",
                      stdin=PASSWORD + "\n").returncode == 0
    listed = edge_users(config, "list").stdout.splitlines()
    assert listed[0].split() == ["USER", "ROLE", "LANES", "BADGE", "STATE", "SESSIONS"]
    assert listed[1].split() == ["alice", "officer", "lane-1,lane-2", "-", "active", "0"]
    assert listed[2].split() == ["sam", "supervisor", "every", "lane", "-", "active", "0"]
    result = _accounts(config).authenticator.by_password("alice", PASSWORD, now=0)
    assert result.outcome is LoginOutcome.OK and result.account.user.lanes == ("lane-1", "lane-2")


def test_bad_input_is_refused_with_the_reason_and_changes_nothing(tmp_path):
    config = _config(tmp_path)
    unknown_lane = edge_users(config, "add", "alice", "--role", "officer", "--lanes", "lane-9", "--password-stdin",
                              stdin=PASSWORD + "\n")
    assert unknown_lane.returncode == 1
    assert unknown_lane.stderr.strip() == "refused: no lane lane-9 in this crossing; its lanes are lane-1, lane-2"
    short = edge_users(config, "add", "alice", "--role", "officer", "--lanes", "all", "--password-stdin",
                       stdin="short\n")
    assert short.returncode == 1 and "at least 10 characters" in short.stderr
    no_lanes = edge_users(config, "add", "alice", "--role", "technician", "--password-stdin", stdin=PASSWORD + "\n")
    assert no_lanes.returncode == 1 and "needs --lanes" in no_lanes.stderr
    assert edge_users(config, "passwd", "nobody", "--password-stdin", stdin=PASSWORD + "\n").stderr.strip() == (
        "refused: no user 'nobody'")
    assert _accounts(config).users.all() == []


def test_passwd_badge_disable_and_set_take_effect_on_open_sessions(tmp_path):
    config = _config(tmp_path)
    edge_users(config, "add", "alice", "--role", "officer", "--lanes", "lane-1", "--password-stdin",
               stdin=PASSWORD + "\n")
    accounts = _accounts(config)
    token = accounts.sessions.create("alice", now=time.time()).token
    assert edge_users(config, "list").stdout.splitlines()[1].split()[-1] == "1"  # one open session
    changed = edge_users(config, "passwd", "alice", "--password-stdin", stdin="another-password-2\n")
    assert changed.returncode == 0 and "sessions are ended" in changed.stdout
    assert accounts.sessions.use(token, now=time.time()) is None
    assert edge_users(config, "list").stdout.splitlines()[1].split()[-1] == "0"
    assert accounts.authenticator.by_password("alice", "another-password-2", now=0).outcome is LoginOutcome.OK

    badge = edge_users(config, "badge", "alice", "--badge", "B-0042", "--pin-stdin", stdin="260718\n")
    assert badge.returncode == 0, badge.stderr
    assert accounts.authenticator.by_badge("B-0042", "260718", now=0).outcome is LoginOutcome.OK
    assert edge_users(config, "list").stdout.splitlines()[1].split()[3] == "B-0042"
    assert edge_users(config, "badge", "alice", "--clear").returncode == 0
    assert accounts.authenticator.by_badge("B-0042", "260718", now=0).outcome is LoginOutcome.WRONG

    moved = edge_users(config, "set", "alice", "--lanes", "lane-2")
    assert moved.stdout.strip() == "alice is now officer, lane-2"
    alice = accounts.users.get("alice").user
    assert alice.may_act_on("lane-2") and not alice.may_act_on("lane-1")

    assert edge_users(config, "disable", "alice").returncode == 0
    assert accounts.authenticator.by_password("alice", "another-password-2", now=0).outcome is LoginOutcome.DISABLED
    assert edge_users(config, "list").stdout.splitlines()[1].split()[4] == "disabled"
    assert edge_users(config, "enable", "alice").returncode == 0
    assert accounts.authenticator.by_password("alice", "another-password-2", now=0).outcome is LoginOutcome.OK


def test_demo_accounts_only_in_a_demo_config(tmp_path):
    real = _config(tmp_path)
    refused = edge_users(real, "demo")
    assert refused.returncode == 2 and "not a demo checkpoint" in refused.stderr
    assert _accounts(real).users.all() == []
    demo = _config(tmp_path, demo=True)
    made = edge_users(demo, "demo")
    assert made.returncode == 0, made.stderr
    assert made.stdout.splitlines() == [
        "demo accounts (user / password):",
        "  officer / officer  (officer, every lane)",
        "  tech / tech  (technician, every lane)",
        "  super / super  (supervisor, every lane)",
    ]
    assert "(demo)" in edge_users(demo, "list").stdout
    # The same state dir under the real config: the accounts exist but cannot log in.
    strict = _accounts(real, KioskAuthConfig())
    assert strict.authenticator.by_password("officer", "officer", now=0).outcome is LoginOutcome.DEMO_OFF
