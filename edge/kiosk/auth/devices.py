"""Browsers an account has logged in from (a long-lived device cookie), so the login throttle can
tell the officer's own kiosk from a guesser: only the token's digest is kept, as for sessions."""

from __future__ import annotations

from edge.kiosk.auth.db import Database
from edge.kiosk.auth.hashing import new_token, token_digest

# Browsers remembered per account (the oldest forgotten first): kiosks, a supervisor's laptop.
MAX_DEVICES_PER_ACCOUNT = 20
DEVICE_COOKIE_MAX_S = 365 * 86_400


class DeviceStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def remember(self, username: str, token: str | None, now: float) -> str:
        """The device token for this browser and account after a successful login: its own if it
        had one for the account, else a new one."""
        if token is not None and self.trusts(token, username):
            return token
        token = new_token()
        with self._db.transaction() as c:
            c.execute("INSERT INTO devices (token_digest, username, created_at) VALUES (?,?,?)",
                      (token_digest(token), username, now))
            c.execute("DELETE FROM devices WHERE username = ? AND token_digest NOT IN (SELECT token_digest "
                      "FROM devices WHERE username = ? ORDER BY created_at DESC LIMIT ?)",
                      (username, username, MAX_DEVICES_PER_ACCOUNT))
        return token

    def trusts(self, token: str, username: str) -> bool:
        return self._owner(token) == username

    def known(self, token: str) -> bool:
        """Whether any account has logged in from the browser with this device token."""
        return self._owner(token) is not None

    def _owner(self, token: str) -> str | None:
        """The account the browser with this device token last logged in to, if any."""
        row = self._db.read_one("SELECT username FROM devices WHERE token_digest = ?", (token_digest(token),))
        return None if row is None else row["username"]
