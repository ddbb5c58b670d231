"""Login sessions: a random token in the browser's cookie, only its digest here.

A session ends when it is idle for `idle_s`, `max_s` after login, at logout, or when the account's
password, badge or state changes (see UserStore). Times are unix seconds passed in by the caller,
so the rules can be checked without waiting.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from edge.kiosk.auth.db import Database
from edge.kiosk.auth.hashing import new_token, token_digest


@dataclass(frozen=True)
class Session:
    username: str
    csrf_token: str
    created_at: float


@dataclass(frozen=True)
class NewSession:
    token: str  # for the cookie; not kept anywhere on the server
    session: Session


class SessionStore:
    def __init__(self, db: Database, idle_s: float, max_s: float):
        self._db = db
        self._idle_s = idle_s
        self._max_s = max_s

    def create(self, username: str, now: float) -> NewSession:
        token = new_token()
        session = Session(username, new_token(), now)
        with self._db.transaction() as c:
            # Expired sessions are dropped here rather than by a timer: logins are frequent enough.
            c.execute("DELETE FROM sessions WHERE created_at <= ? OR last_seen <= ?",
                      (now - self._max_s, now - self._idle_s))
            c.execute(
                "INSERT INTO sessions (token_digest, username, csrf_token, created_at, last_seen) VALUES (?,?,?,?,?)",
                (token_digest(token), username, session.csrf_token, now, now),
            )
        return NewSession(token, session)

    def use(self, token: str, now: float, *, touch: bool = True) -> Session | None:
        """The live session of `token`, marked as used now unless `touch` is False; None if there is
        none or it expired. A page's own polling passes touch=False: only a person keeps a session alive."""
        digest = token_digest(token)
        try:
            with self._db.transaction() as c:
                row = c.execute("SELECT * FROM sessions WHERE token_digest = ?", (digest,)).fetchone()
                if row is None:
                    return None
                if self._expired(row, now):
                    c.execute("DELETE FROM sessions WHERE token_digest = ?", (digest,))
                    return None
                if touch:
                    c.execute("UPDATE sessions SET last_seen = ? WHERE token_digest = ?",
                              (max(now, row["last_seen"]), digest))
        except sqlite3.OperationalError:
            # The state disk refuses writes (full or read-only; the storage alarm says which): the
            # officer's screen must keep working, so the session is checked without being marked used.
            row = self._db.read_one("SELECT * FROM sessions WHERE token_digest = ?", (digest,))
            if row is None or self._expired(row, now):
                return None
        return Session(row["username"], row["csrf_token"], row["created_at"])

    def _expired(self, row: sqlite3.Row, now: float) -> bool:
        return now - row["last_seen"] >= self._idle_s or now - row["created_at"] >= self._max_s

    def end(self, token: str) -> None:
        with self._db.transaction() as c:
            c.execute("DELETE FROM sessions WHERE token_digest = ?", (token_digest(token),))

    def live_count(self, username: str, now: float) -> int:
        with self._db.transaction() as c:
            return c.execute(
                "SELECT COUNT(*) FROM sessions WHERE username = ? AND created_at > ? AND last_seen > ?",
                (username, now - self._max_s, now - self._idle_s),
            ).fetchone()[0]
