"""Accounts: create, change, disable, list.

The store takes hashes, never passwords: hashing and the password/PIN rules are the caller's
(`AccountAdmin`), so the store stays a plain table and the rules live in one place.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from edge.kiosk.auth.db import Database
from edge.kiosk.auth.model import InvalidAccount, Role, User

ALL_LANES = "*"


@dataclass(frozen=True)
class Account:
    """An account as stored: the user plus what login and administration need."""

    user: User
    password_hash: str
    badge_id: str | None
    pin_hash: str | None
    disabled: bool
    demo: bool


def _lanes_text(lanes: tuple[str, ...], all_lanes: bool) -> str:
    return ALL_LANES if all_lanes else ",".join(lanes)


def _account(row: sqlite3.Row) -> Account:
    every = row["lanes"] == ALL_LANES
    lanes = () if every else tuple(lane for lane in row["lanes"].split(",") if lane)
    return Account(
        user=User(row["username"], Role(row["role"]), lanes, every),
        password_hash=row["password_hash"], badge_id=row["badge_id"], pin_hash=row["pin_hash"],
        disabled=bool(row["disabled"]), demo=bool(row["demo"]),
    )


class UserStore:
    def __init__(self, db: Database):
        self._db = db

    def add(self, user: User, password_hash: str, now: float, demo: bool = False) -> None:
        try:
            with self._db.transaction() as c:
                c.execute(
                    "INSERT INTO users (username, role, lanes, password_hash, demo, created_at) VALUES (?,?,?,?,?,?)",
                    (user.username, user.role.value, _lanes_text(user.lanes, user.all_lanes), password_hash,
                     int(demo), now),
                )
        except sqlite3.IntegrityError:
            raise InvalidAccount(f"user {user.username!r} already exists") from None

    def get(self, username: str) -> Account | None:
        with self._db.transaction() as c:
            row = c.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
        return _account(row) if row else None

    def by_badge(self, badge_id: str) -> Account | None:
        with self._db.transaction() as c:
            row = c.execute("SELECT * FROM users WHERE badge_id = ?", (badge_id,)).fetchone()
        return _account(row) if row else None

    def all(self) -> list[Account]:
        with self._db.transaction() as c:
            rows = c.execute("SELECT * FROM users ORDER BY username").fetchall()
        return [_account(row) for row in rows]

    def set_password(self, username: str, password_hash: str) -> None:
        """A new password ends every session of the account."""
        self._update(username, "password_hash = ?", (password_hash,), end_sessions=True)

    def set_badge(self, username: str, badge_id: str | None, pin_hash: str | None) -> None:
        try:
            self._update(username, "badge_id = ?, pin_hash = ?",
                         (badge_id, pin_hash), end_sessions=True)
        except sqlite3.IntegrityError:
            raise InvalidAccount(f"badge {badge_id!r} already belongs to another user") from None

    def set_disabled(self, username: str, disabled: bool) -> None:
        self._update(username, "disabled = ?", (int(disabled),), end_sessions=disabled)

    def set_access(self, username: str, role: Role, lanes: tuple[str, ...], all_lanes: bool) -> None:
        self._update(username, "role = ?, lanes = ?", (role.value, _lanes_text(lanes, all_lanes)), end_sessions=False)

    def rehash_password(self, username: str, old_hash: str, new_hash: str) -> None:
        """Store a hash made with newer parameters, unless the password changed meanwhile."""
        with self._db.transaction() as c:
            c.execute("UPDATE users SET password_hash = ? WHERE username = ? AND password_hash = ?",
                      (new_hash, username, old_hash))

    def _update(self, username: str, assignments: str, values: tuple, end_sessions: bool) -> None:
        with self._db.transaction() as c:
            changed = c.execute(f"UPDATE users SET {assignments} WHERE username = ?", (*values, username)).rowcount
            if not changed:
                raise InvalidAccount(f"no user {username!r}")
            if end_sessions:
                c.execute("DELETE FROM sessions WHERE username = ?", (username,))
