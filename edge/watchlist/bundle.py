"""The bundle file: a signed manifest followed by a gzip body of JSON lines.

    CPWL1\\n
    {manifest JSON}\\n                      one line, signed byte for byte
    {"key_id": ..., "ed25519": base64}\\n   the signature over that line
    <body>                                  gzip of one JSON object per line

A full snapshot's body lines are records; a delta's are operations (upsert a record, delete
one by kind and id). The manifest names the list, the version (and a delta's base version),
creation and expiry times, the record count, the body's size and SHA-256, and the state the
cache must be in afterwards (record count and state hash, see statehash.py). One file per
bundle means a static HTTP server, a USB stick or a mail attachment all carry it the same way.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from edge.watchlist import utc
from edge.watchlist.keys import Keyring
from edge.watchlist.refusal import Refusal, Refused

MAGIC = b"CPWL1\n"
FORMAT = "checkpoint-edge-watchlist/1"
SUFFIX = ".wlb"
MAX_HEADER_LINE = 64 * 1024
MAX_BODY_LINE = 1024 * 1024  # a person with 32 face templates is ~25 kB
_READ_CHUNK = 1 << 20
LIST_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_DECODE_JSON = json.JSONDecoder().raw_decode  # on str: skips json.loads' encoding sniffing per line


@dataclass(frozen=True, slots=True)
class Manifest:
    list_id: str
    kind: Literal["full", "delta"]
    version: int
    base_version: int | None  # a delta's base; None for a full snapshot
    created: int  # seconds since the epoch
    expires: int
    record_count: int  # lines in the body
    body_bytes: int
    body_sha256: str
    state_count: int  # records in the list after applying
    state_hash: str  # the list's state hash after applying

    def to_line(self) -> bytes:
        obj = {"format": FORMAT, **asdict(self)}
        obj["created"] = utc.render(self.created)
        obj["expires"] = utc.render(self.expires)
        return json.dumps(obj, separators=(",", ":")).encode()

    @classmethod
    def from_line(cls, line: bytes) -> Manifest:
        try:
            obj = json.loads(line)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise Refused(Refusal.MALFORMED, f"the manifest is not JSON ({exc})") from None
        if not isinstance(obj, dict) or obj.get("format") != FORMAT:
            raise Refused(Refusal.MALFORMED, f"the manifest is not format {FORMAT}")
        fields = set(cls.__dataclass_fields__)
        if obj.keys() != fields | {"format"}:
            raise Refused(Refusal.MALFORMED, f"the manifest must have exactly the fields {sorted(fields)}")
        try:
            manifest = cls(
                list_id=_checked(obj, "list_id", lambda v: isinstance(v, str) and LIST_ID.fullmatch(v)),
                kind=_checked(obj, "kind", lambda v: v in ("full", "delta")),
                version=_checked(obj, "version", _is_count),
                base_version=_checked(obj, "base_version", lambda v: v is None or _is_count(v)),
                created=utc.parse(obj["created"]),
                expires=utc.parse(obj["expires"]),
                record_count=_checked(obj, "record_count", _is_count),
                body_bytes=_checked(obj, "body_bytes", _is_count),
                body_sha256=_checked(obj, "body_sha256", lambda v: isinstance(v, str) and _HEX64.fullmatch(v)),
                state_count=_checked(obj, "state_count", _is_count),
                state_hash=_checked(obj, "state_hash", lambda v: isinstance(v, str) and _HEX64.fullmatch(v)),
            )
        except ValueError as exc:
            raise Refused(Refusal.MALFORMED, f"manifest: {exc}") from None
        if (manifest.kind == "delta") != (manifest.base_version is not None):
            raise Refused(Refusal.MALFORMED, "a delta needs a base_version and a full snapshot must not have one")
        if manifest.base_version is not None and manifest.base_version >= manifest.version:
            raise Refused(Refusal.MALFORMED, "a delta's version must be above its base_version")
        return manifest


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63


def _checked(obj: dict, key: str, ok: Any) -> Any:
    if not ok(obj[key]):
        raise ValueError(f"{key} has an invalid value {obj[key]!r}")
    return obj[key]


@dataclass(frozen=True, slots=True)
class SignedBundle:
    """A bundle whose manifest signature checked out; its body is still to be read and hashed."""

    path: Path
    manifest: Manifest
    key_id: str
    body_offset: int


def _header_line(f, what: str) -> bytes:
    line = f.readline(MAX_HEADER_LINE + 1)
    if not line.endswith(b"\n"):
        raise Refused(Refusal.MALFORMED, f"the {what} line is missing or too long")
    return line[:-1]


def read_header(path: Path) -> tuple[Manifest, bytes, str, bytes, int]:
    """The manifest, its exact bytes, the key id, the signature and where the body starts."""
    try:
        with path.open("rb") as f:
            if f.read(len(MAGIC)) != MAGIC:
                raise Refused(Refusal.MALFORMED, f"{path.name} is not a watchlist bundle (no {MAGIC!r} header)")
            manifest_line = _header_line(f, "manifest")
            signature_line = _header_line(f, "signature")
            body_offset = f.tell()
    except OSError as exc:
        raise Refused(Refusal.IO_ERROR, f"cannot read {path}: {exc.strerror}") from None
    manifest = Manifest.from_line(manifest_line)
    try:
        sig = json.loads(signature_line)
        if not isinstance(sig, dict) or sig.keys() != {"key_id", "ed25519"} or not isinstance(sig["key_id"], str):
            raise ValueError("the signature line must have exactly key_id and ed25519")
        signature = base64.b64decode(sig["ed25519"], validate=True)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise Refused(Refusal.MALFORMED, f"bad signature line: {exc}") from None
    return manifest, manifest_line, sig["key_id"], signature, body_offset


def open_signed(path: Path, keyring: Keyring, now: float) -> SignedBundle:
    """Check everything that is cheap to check: framing, key, signature, expiry and size.

    The body's hash is checked by `hash_body` (before applying) and again by `iter_body`
    (while applying), so bytes that change on disk in between are caught as well.
    """
    manifest, manifest_line, key_id, signature, body_offset = read_header(path)
    keyring.verify(key_id, manifest_line, signature, manifest.created)
    if manifest.expires <= now:
        raise Refused(
            Refusal.EXPIRED, f"{manifest.list_id} version {manifest.version} expired at {utc.render(manifest.expires)}"
        )
    actual = path.stat().st_size - body_offset
    if actual < manifest.body_bytes:
        raise Refused(
            Refusal.TRUNCATED, f"{path.name} has {actual} body bytes of the {manifest.body_bytes} the manifest signs"
        )
    if actual > manifest.body_bytes:
        raise Refused(Refusal.MALFORMED, f"{path.name} has {actual - manifest.body_bytes} bytes after the body")
    return SignedBundle(path, manifest, key_id, body_offset)


def _body_chunks(bundle: SignedBundle) -> Iterator[bytes]:
    remaining = bundle.manifest.body_bytes
    try:
        with bundle.path.open("rb") as f:
            f.seek(bundle.body_offset)
            while remaining:
                chunk = f.read(min(_READ_CHUNK, remaining))
                if not chunk:
                    raise Refused(Refusal.TRUNCATED, f"{bundle.path.name} ended {remaining} bytes early")
                remaining -= len(chunk)
                yield chunk
    except OSError as exc:
        raise Refused(Refusal.IO_ERROR, f"cannot read {bundle.path}: {exc.strerror}") from None


def _check_hash(bundle: SignedBundle, digest: str) -> None:
    if digest != bundle.manifest.body_sha256:
        raise Refused(Refusal.TAMPERED, f"{bundle.path.name}: the body does not match its signed SHA-256")


def hash_body(bundle: SignedBundle) -> None:
    """Refuse the bundle unless its body hashes to the signed body hash."""
    h = hashlib.sha256()
    for chunk in _body_chunks(bundle):
        h.update(chunk)
    _check_hash(bundle, h.hexdigest())


def iter_body(bundle: SignedBundle) -> Iterator[tuple[int, Any]]:
    """(line number, JSON value) of every body line; refuses on bad framing, JSON or hash.

    The hash is checked after the last line, so a caller applies inside a transaction and
    commits only when the iterator has finished.
    """
    h = hashlib.sha256()
    inflate = zlib.decompressobj(wbits=31)  # gzip framing
    pending = b""
    line_no = 0

    def lines(data: bytes) -> Iterator[tuple[int, Any]]:
        nonlocal pending, line_no
        parts = (pending + data).split(b"\n")
        pending = parts.pop()
        if len(pending) > MAX_BODY_LINE:
            raise Refused(Refusal.MALFORMED, f"body line {line_no + 1} is longer than {MAX_BODY_LINE} bytes")
        for part in parts:
            line_no += 1
            try:
                text = part.decode()
                value, end = _DECODE_JSON(text)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise Refused(Refusal.MALFORMED, f"body line {line_no} is not JSON ({exc})") from None
            except RecursionError:
                # A signed body is still input: nesting no record has must not crash the sync.
                raise Refused(Refusal.MALFORMED, f"body line {line_no} is nested too deep") from None
            if end != len(text):
                raise Refused(Refusal.MALFORMED, f"body line {line_no} has data after its JSON value")
            yield line_no, value

    for chunk in _body_chunks(bundle):
        h.update(chunk)
        data = chunk
        while data and not inflate.eof:
            try:
                # Bounded output per step: a small body must not inflate into unbounded memory.
                out = inflate.decompress(data, _READ_CHUNK)
            except zlib.error as exc:
                raise Refused(Refusal.MALFORMED, f"the body is not valid gzip ({exc})") from None
            data = inflate.unconsumed_tail
            yield from lines(out)
        if inflate.eof and (data or inflate.unused_data):
            raise Refused(Refusal.MALFORMED, "data after the end of the gzip body")
    _check_hash(bundle, h.hexdigest())
    yield from lines(inflate.flush())
    if not inflate.eof:
        raise Refused(Refusal.TRUNCATED, "the gzip body ends early")
    if pending:
        raise Refused(Refusal.MALFORMED, "the last body line has no newline")


class BodyWriter:
    """Writes a body file: gzip of JSON lines, counting lines and hashing the compressed bytes."""

    def __init__(self, path: Path, level: int = 6):
        self.path = path
        self._file = path.open("wb")
        self._deflate = zlib.compressobj(level, zlib.DEFLATED, 31)
        self._hash = hashlib.sha256()
        self._buffer: list[bytes] = []
        self._buffered = 0
        self.lines = 0
        self.size = 0

    def write(self, obj: Any) -> None:
        line = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        self._buffer.append(line)
        self._buffered += len(line)
        self.lines += 1
        if self._buffered >= _READ_CHUNK:
            self._emit(self._deflate.compress(b"".join(self._buffer)))
            self._buffer.clear()
            self._buffered = 0

    def _emit(self, data: bytes) -> None:
        self._file.write(data)
        self._hash.update(data)
        self.size += len(data)

    def close(self) -> str:
        """Finish the gzip stream; returns the body's SHA-256 (hex)."""
        self._emit(self._deflate.compress(b"".join(self._buffer)) + self._deflate.flush())
        self._buffer.clear()
        self._file.close()
        return self._hash.hexdigest()

    def discard(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)


def write_bundle(path: Path, manifest: Manifest, key_id: str, private_key, body: Path) -> None:
    """Write a signed bundle atomically (a reader never sees half a file under the final name)."""
    manifest_line = manifest.to_line()
    signature = base64.b64encode(private_key.sign(manifest_line)).decode("ascii")
    signature_line = json.dumps({"key_id": key_id, "ed25519": signature}, separators=(",", ":")).encode()
    partial = path.with_name(path.name + ".part")
    with partial.open("wb") as out, body.open("rb") as src:
        out.write(MAGIC + manifest_line + b"\n" + signature_line + b"\n")
        while chunk := src.read(_READ_CHUNK):
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    partial.replace(path)
