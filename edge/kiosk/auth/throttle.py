"""Slowing password guessing down without locking anyone out.

Locking an account after five wrong guesses hands anyone who knows a name a way to keep its officer
out, and locking only names that exist tells a guesser which names do. So nothing is locked:
failures are counted per key, and a key with `after` recent failures waits `wait_s` (from its last
failure) before it may be tried again. The login decides the key: a browser that has logged in to
the account before (its device cookie) is counted on its own, so a guesser elsewhere never slows
the officer at their own kiosk; any other attempt counts towards the name tried, known or not,
which a guesser cannot spread thin by switching browsers.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass


@dataclass
class _Failures:
    count: int
    last: float


class LoginThrottle:
    # Keys kept at most (the oldest forgotten first): a flood of made-up names cannot grow memory.
    MAX_KEYS = 10_000

    def __init__(self, after: int, wait_s: float) -> None:
        self._after = after
        self._wait_s = wait_s
        self._failures: OrderedDict[str, _Failures] = OrderedDict()
        self._lock = threading.Lock()

    def wait_for(self, key: str, now: float) -> float:
        """Seconds before `key` may be tried again; 0 when it may be tried now."""
        with self._lock:
            found = self._recent(key, now)
            if found is None or found.count < self._after:
                return 0.0
            return found.last + self._wait_s - now

    def failed(self, key: str, now: float) -> bool:
        """Count a failure; True when this one made the key wait."""
        with self._lock:
            found = self._recent(key, now) or _Failures(0, now)
            found.count, found.last = found.count + 1, now
            self._failures[key] = found
            self._failures.move_to_end(key)
            while len(self._failures) > self.MAX_KEYS:
                self._failures.popitem(last=False)
            return found.count == self._after

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _recent(self, key: str, now: float) -> _Failures | None:
        """The key's failures, unless its wait has passed since the last one (then they are forgotten)."""
        found = self._failures.get(key)
        if found is not None and now - found.last >= self._wait_s:
            del self._failures[key]
            return None
        return found
