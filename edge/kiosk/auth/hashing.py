"""Password/PIN hashes (argon2id) and session tokens.

An argon2 check costs ~64 MiB and tens of milliseconds on purpose; a burst of login attempts must
not multiply that by the server's thread pool, so only a few checks run at once.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_CONCURRENT_HASHES = 2


class Hasher:
    def __init__(self) -> None:
        self._argon2 = PasswordHasher()
        self._slots = threading.BoundedSemaphore(_CONCURRENT_HASHES)

    def hash(self, secret: str) -> str:
        with self._slots:
            return self._argon2.hash(secret)

    def verify(self, stored: str | None, secret: str) -> bool:
        """True if `secret` matches `stored`. With no stored hash (unknown user, no PIN set) a dummy
        hash is checked, so the answer takes as long and says nothing about which accounts exist."""
        with self._slots:
            try:
                return self._argon2.verify(stored or self._dummy, secret) and stored is not None
            except (VerificationError, InvalidHashError):
                return False

    def needs_rehash(self, stored: str) -> bool:
        return self._argon2.check_needs_rehash(stored)

    @cached_property
    def _dummy(self) -> str:
        return self._argon2.hash(secrets.token_urlsafe(16))


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What the server keeps of a session token: a stolen database opens no session.

    A plain SHA-256 suffices: the token is 256 random bits, nothing to guess."""
    return hashlib.sha256(token.encode()).hexdigest()
