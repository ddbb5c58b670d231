"""Checking a login: password or badge + PIN, with lockout after repeated failures.

Wrong passwords and wrong PINs count together: a badge PIN is short, so guessing it must cost
the same lockout as guessing the password.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from enum import Enum

from edge.config import KioskAuthConfig
from edge.kiosk.auth.hashing import Hasher
from edge.kiosk.auth.users import Account, UserStore

log = logging.getLogger(__name__)


class Outcome(Enum):
    OK = "ok"
    WRONG = "wrong"  # unknown account or wrong secret: the same answer, so names cannot be probed
    LOCKED = "locked"
    DISABLED = "disabled"
    DEMO_OFF = "demo_off"  # a demo account in a crossing whose config does not allow demo accounts


@dataclass(frozen=True)
class LoginResult:
    outcome: Outcome
    account: Account | None = None
    locked_for_s: float = 0.0

    def words(self, by_badge: bool) -> str:
        """What the login page shows."""
        if self.outcome is Outcome.WRONG:
            return "wrong badge or PIN" if by_badge else "wrong user name or password"
        if self.outcome is Outcome.LOCKED:
            return f"account locked for {_duration(self.locked_for_s)}"
        if self.outcome is Outcome.DISABLED:
            return "account disabled; ask a supervisor"
        if self.outcome is Outcome.DEMO_OFF:
            return "demo accounts are switched off in this crossing's configuration"
        return "logged in"


def _duration(seconds: float) -> str:
    if seconds < 60:
        n, unit = max(1, math.ceil(seconds)), "second"
    else:
        n, unit = math.ceil(seconds / 60), "minute"
    return f"{n} {unit}{'' if n == 1 else 's'}"


class Authenticator:
    def __init__(self, users: UserStore, hasher: Hasher, config: KioskAuthConfig):
        self._users = users
        self._hasher = hasher
        self._config = config

    def by_password(self, username: str, password: str, now: float) -> LoginResult:
        account = self._users.get(username.strip().lower())
        return self._check(account, account.password_hash if account else None, password, now)

    def by_badge(self, badge_id: str, pin: str, now: float) -> LoginResult:
        account = self._users.by_badge(badge_id.strip())
        return self._check(account, account.pin_hash if account else None, pin, now)

    def _check(self, account: Account | None, stored: str | None, secret: str, now: float) -> LoginResult:
        if account is not None and account.locked_until > now:
            # No hash check while locked: a correct guess must not be confirmed either.
            return LoginResult(Outcome.LOCKED, account, account.locked_until - now)
        if not self._hasher.verify(stored, secret) or account is None:
            if account is None:
                return LoginResult(Outcome.WRONG)
            locked_until = self._users.record_failure(
                account.user.username, now, self._config.lockout_after, self._config.lockout_s
            )
            if locked_until:
                log.warning("kiosk account %s locked after %d failed logins", account.user.username,
                            self._config.lockout_after)
                return LoginResult(Outcome.LOCKED, account, locked_until - now)
            return LoginResult(Outcome.WRONG, account)
        if account.disabled:
            return LoginResult(Outcome.DISABLED, account)
        if account.demo and not self._config.demo_accounts:
            return LoginResult(Outcome.DEMO_OFF, account)
        self._users.record_success(account.user.username)
        if stored == account.password_hash and self._hasher.needs_rehash(stored):
            self._users.rehash_password(account.user.username, stored, self._hasher.hash(secret))
        return LoginResult(Outcome.OK, account)
