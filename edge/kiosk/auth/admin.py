"""Account administration with the rules: password length, PIN digits, badge format, roles and lanes.

`edge users ...` and the demo accounts go through here; the store below only keeps what it is given.
"""

from __future__ import annotations

import time

from edge.config import KioskAuthConfig
from edge.kiosk.auth.hashing import Hasher
from edge.kiosk.auth.model import BADGE, InvalidAccount, Role, User, check_username
from edge.kiosk.auth.users import UserStore

_MAX_SECRET = 256  # argon2 hashes anything, but a megabyte "password" is an attack, not a password


class AccountAdmin:
    def __init__(self, users: UserStore, hasher: Hasher, config: KioskAuthConfig):
        self._users = users
        self._hasher = hasher
        self._config = config

    def add(self, username: str, role: Role, lanes: tuple[str, ...], all_lanes: bool, password: str) -> User:
        user = _user(username, role, lanes, all_lanes)
        self._users.add(user, self._hasher.hash(self._checked_password(password)), time.time())
        return user

    def add_demo(self, user: User, password: str) -> None:
        """A demo account: its well-known password skips the length rule, and it logs in only where
        the config allows demo accounts."""
        self._users.add(user, self._hasher.hash(password), time.time(), demo=True)

    def set_password(self, username: str, password: str) -> None:
        self._users.set_password(username, self._hasher.hash(self._checked_password(password)))

    def set_badge(self, username: str, badge_id: str, pin: str) -> None:
        badge_id = badge_id.strip()
        if not BADGE.match(badge_id):
            raise InvalidAccount("a badge id is 1-64 letters, digits, '_' or '-'")
        length = self._config.pin_length
        if len(pin) != length or not pin.isascii() or not pin.isdigit():
            raise InvalidAccount(f"a PIN is exactly {length} digits")
        if len(set(pin)) == 1:
            raise InvalidAccount("a PIN of one repeated digit is too easy to guess")
        self._users.set_badge(username, badge_id, self._hasher.hash(pin))

    def clear_badge(self, username: str) -> None:
        self._users.set_badge(username, None, None)

    def set_access(self, username: str, role: Role, lanes: tuple[str, ...], all_lanes: bool) -> User:
        user = _user(username, role, lanes, all_lanes)
        self._users.set_access(username, role, user.lanes, user.all_lanes)
        return user

    def _checked_password(self, password: str) -> str:
        minimum = self._config.password_min_length
        if len(password) < minimum:
            raise InvalidAccount(f"a password needs at least {minimum} characters")
        if len(password) > _MAX_SECRET:
            raise InvalidAccount(f"a password has at most {_MAX_SECRET} characters")
        if password != password.strip():
            raise InvalidAccount("a password must not start or end with a space")
        return password


def _user(username: str, role: Role, lanes: tuple[str, ...], all_lanes: bool) -> User:
    check_username(username)
    if role is Role.SUPERVISOR:
        # A supervisor acts on every lane; storing a list would suggest otherwise.
        return User(username, role, (), True)
    if not lanes and not all_lanes:
        raise InvalidAccount(f"the role {role.value} needs lanes ('all' or a list of lane ids)")
    return User(username, role, lanes, all_lanes)
