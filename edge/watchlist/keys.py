"""Ed25519 keys: the authority's signing key (a PEM file) and the crossing's trusted public keys.

Rotation: the authority starts signing with a new key id once every crossing's config trusts it;
the old key gets a `not_after` (bundles it signs that claim a later creation time are refused)
and is then removed from config. A key id never names two different keys.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from edge.watchlist.refusal import Refusal, Refused


class InvalidKey(ValueError):
    """A key that cannot be used (unreadable file, wrong type, bad encoding)."""


@dataclass(frozen=True, slots=True)
class TrustedKey:
    id: str
    public_key: str  # base64 of the 32 raw bytes
    not_after: int | None = None  # seconds since the epoch; bundles created later are refused


def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise InvalidKey(f"{path}: cannot read the private key: {exc.strerror}") from None
    except (ValueError, TypeError) as exc:
        raise InvalidKey(f"{path}: not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidKey(f"{path}: the key is not an Ed25519 key")
    return key


def public_key_text(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def _public_key(text: str, key_id: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(text, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError):
        raise InvalidKey(f"trusted key {key_id!r}: public_key must be base64 of 32 raw Ed25519 bytes") from None


class Keyring:
    """The public keys a crossing trusts, by id."""

    def __init__(self, keys: Iterable[TrustedKey]):
        self._keys: dict[str, tuple[Ed25519PublicKey, int | None]] = {}
        for key in keys:
            if key.id in self._keys:
                raise InvalidKey(f"trusted key id {key.id!r} is listed twice")
            self._keys[key.id] = (_public_key(key.public_key, key.id), key.not_after)

    def verify(self, key_id: str, message: bytes, signature: bytes, created: int) -> None:
        """Raise Refused unless `signature` is key `key_id`'s valid signature over `message`."""
        if key_id not in self._keys:
            known = ", ".join(sorted(self._keys)) or "none"
            raise Refused(Refusal.UNKNOWN_KEY, f"signed with key {key_id!r}, which is not trusted (trusted: {known})")
        public, not_after = self._keys[key_id]
        try:
            public.verify(signature, message)
        except InvalidSignature:
            detail = f"the signature by key {key_id!r} does not match the manifest"
            raise Refused(Refusal.BAD_SIGNATURE, detail) from None
        if not_after is not None and created > not_after:
            raise Refused(Refusal.KEY_RETIRED, f"key {key_id!r} was retired before this bundle was created")
