"""The state hash: a digest of a list's whole content that can be updated one record at a time.

It is the sum, modulo 2**256, of the SHA-256 of every record's digest fields (an additive
multiset hash). A delta changes it by subtracting the digests of the records it replaces and
adding the new ones, so checking a 10 M record cache against the authority's manifest after
a 10 k record delta costs 10 k digests, not 10 M. Authenticity does not rest on it: the Ed25519
signature covers the bundle's body hash. It proves the cache ended in the authority's state.
"""

from __future__ import annotations

import hashlib

from edge.watchlist.records import Record

_MODULUS = 1 << 256
EMPTY = "0" * 64


def record_digest(record: Record) -> int:
    return int.from_bytes(hashlib.sha256("\x1f".join(record.digest_fields()).encode()).digest(), "big")


class StateHash:
    """A running state hash; starts from a previous value (hex) or from the empty list."""

    def __init__(self, start: str = EMPTY):
        self._value = int(start, 16)

    def add(self, record: Record) -> None:
        self._value += record_digest(record)

    def remove(self, record: Record) -> None:
        self._value -= record_digest(record)

    def hexdigest(self) -> str:
        return format(self._value % _MODULUS, "064x")
