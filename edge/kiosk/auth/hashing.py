"""Password/PIN hashes (argon2id) and session tokens.

An argon2 check costs ~64 MiB and tens of milliseconds on purpose; a burst of login attempts must
not multiply that by the server's thread pool, so only a few checks run at once. Logins from a
browser the account knows (`trusted`) have slots of their own; every other check shares one slot
and waits for it at most `UNTRUSTED_WAIT_S`, so a flood of guesses can neither queue without
bound nor stand between an officer and their kiosk.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_TRUSTED_HASHES = 2
_UNTRUSTED_HASHES = 1
UNTRUSTED_WAIT_S = 2.0
# Untrusted checks start at most this often: argon2 fills every core while it runs, so a flood of
# guesses checked back to back would slow the known browsers' own checks several-fold.
UNTRUSTED_INTERVAL_S = 0.5


class HasherBusy(Exception):
    """Every slot for this kind of check stayed busy: the caller answers "try again"."""


class Hasher:
    def __init__(self) -> None:
        self._argon2 = PasswordHasher()
        self._trusted = threading.BoundedSemaphore(_TRUSTED_HASHES)
        self._untrusted = threading.BoundedSemaphore(_UNTRUSTED_HASHES)
        self._next_untrusted = 0.0  # monotonic time the next untrusted check may start

    def hash(self, secret: str) -> str:
        with self._trusted:  # an administrator setting a password
            return self._argon2.hash(secret)

    def verify(self, stored: str | None, secret: str, *, trusted: bool = False) -> bool:
        """True if `secret` matches `stored`. With no stored hash (unknown user, no PIN set) a dummy
        hash is checked, so the answer takes as long and says nothing about which accounts exist.
        Raises HasherBusy when an untrusted check waited its limit for a slot."""
        slots = self._trusted if trusted else self._untrusted
        if not slots.acquire(timeout=None if trusted else UNTRUSTED_WAIT_S):
            raise HasherBusy
        try:
            if not trusted:  # the one untrusted slot is held: no other thread touches _next_untrusted
                time.sleep(max(0.0, self._next_untrusted - time.monotonic()))
                self._next_untrusted = time.monotonic() + UNTRUSTED_INTERVAL_S
            return self._argon2.verify(stored or self._dummy, secret) and stored is not None
        except (VerificationError, InvalidHashError):
            return False
        finally:
            slots.release()

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
