"""Checking a login: password or badge + PIN, slowed down after repeated failures (never locked).

Wrong passwords and wrong PINs count together: a badge PIN is short, so guessing it must cost
the same as guessing the password. How the throttle keys its counts, and why no account is ever
locked, is in `throttle.py`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from enum import Enum

from edge.config import KioskAuthConfig
from edge.kiosk.auth.devices import DeviceStore
from edge.kiosk.auth.hashing import Hasher, HasherBusy, token_digest
from edge.kiosk.auth.throttle import LoginThrottle
from edge.kiosk.auth.users import Account, UserStore

log = logging.getLogger(__name__)


class LoginOutcome(Enum):
    OK = "ok"
    WRONG = "wrong"  # unknown account or wrong secret: the same answer, so names cannot be probed
    THROTTLED = "throttled"  # too many recent failures for this name (or this browser): wait
    BUSY = "busy"  # every check slot for an unknown browser stayed busy (a flood): try again
    DISABLED = "disabled"
    DEMO_OFF = "demo_off"  # a demo account in a crossing whose config does not allow demo accounts


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    account: Account | None = None
    wait_s: float = 0.0  # THROTTLED, BUSY: how long to wait before trying again
    device_token: str | None = None  # OK: the browser's device token for this account (its cookie)

    def words(self, by_badge: bool) -> str:
        """What the login page shows."""
        if self.outcome is LoginOutcome.WRONG:
            return "wrong badge or PIN" if by_badge else "wrong user name or password"
        if self.outcome is LoginOutcome.THROTTLED:
            return f"too many failed logins: try again in {_duration(self.wait_s)}"
        if self.outcome is LoginOutcome.BUSY:
            return "the kiosk is busy checking logins: try again in a moment"
        if self.outcome is LoginOutcome.DISABLED:
            return "account disabled; ask a supervisor"
        if self.outcome is LoginOutcome.DEMO_OFF:
            return "demo accounts are switched off in this crossing's configuration"
        return "logged in"


def _duration(seconds: float) -> str:
    if seconds < 60:
        n, unit = max(1, math.ceil(seconds)), "second"
    else:
        n, unit = math.ceil(seconds / 60), "minute"
    return f"{n} {unit}{'' if n == 1 else 's'}"


class Authenticator:
    def __init__(self, users: UserStore, devices: DeviceStore, hasher: Hasher, config: KioskAuthConfig):
        self._users = users
        self._devices = devices
        self._hasher = hasher
        self._config = config
        self._throttle = LoginThrottle(config.throttle_after, config.throttle_s)

    def by_password(self, username: str, password: str, now: float, device: str | None = None) -> LoginResult:
        """`device`: the browser's device cookie, if it sent one."""
        name = username.strip().lower()
        account = self._users.get(name)
        return self._check(f"name:{name}", account, account.password_hash if account else None, password, now, device)

    def by_badge(self, badge_id: str, pin: str, now: float, device: str | None = None) -> LoginResult:
        badge = badge_id.strip()
        account = self._users.by_badge(badge)
        return self._check(f"badge:{badge}", account, account.pin_hash if account else None, pin, now, device)

    def _check(self, tried: str, account: Account | None, stored: str | None, secret: str, now: float,
               device: str | None) -> LoginResult:
        trusted = device is not None and account is not None and self._devices.trusts(device, account.user.username)
        key = f"device:{token_digest(device)}" if trusted and device else tried
        wait = self._throttle.wait_for(key, now)
        if wait > 0:
            # No hash check while throttled: a correct guess must not be confirmed either. The same
            # answer whether the name exists or not.
            return LoginResult(LoginOutcome.THROTTLED, wait_s=wait)
        try:
            matches = self._hasher.verify(stored, secret, trusted=trusted)
        except HasherBusy:
            return LoginResult(LoginOutcome.BUSY, wait_s=1.0)
        if not matches or account is None:
            if self._throttle.failed(key, now):
                log.warning("kiosk logins for %s slowed down after %d failures", key.split(":")[0],
                            self._config.throttle_after)
            return LoginResult(LoginOutcome.WRONG, account)
        if account.disabled:
            return LoginResult(LoginOutcome.DISABLED, account)
        if account.demo and not self._config.demo_accounts:
            return LoginResult(LoginOutcome.DEMO_OFF, account)
        self._throttle.succeeded(key)
        if stored == account.password_hash and self._hasher.needs_rehash(stored):
            self._users.rehash_password(account.user.username, stored, self._hasher.hash(secret))
        token = self._devices.remember(account.user.username, device, now)
        return LoginResult(LoginOutcome.OK, account, device_token=token)
