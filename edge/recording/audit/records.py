"""One audit record: its fields, its canonical JSON line, and the hash that chains it to the next.

A record's hash is the sha256 of its canonical JSON without the "hash" field; the next record
carries that hash as "prev". Canonical JSON (sorted keys, no spaces, UTF-8, no NaN) makes the
hash a function of the content alone, so any tool can recompute it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

FORMAT_VERSION = 1
GENESIS = "0" * 64  # "prev" of the first record
KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")

# The kinds the service writes; others matching KIND_PATTERN are accepted so a new kind needs no
# change here.
DECISION = "decision"
OFFICER_ACTION = "officer_action"
BARRIER_COMMAND = "barrier_command"
CONFIG_CHANGE = "config_change"
SYNC = "sync"
DEVICE_FAULT = "device_fault"
# The crossing is over: how it ended (edge/lane/runtime.py, edge/recording/recovery.py).
CROSSING_CLOSED = "crossing_closed"
CROSSING_RESTORED = "crossing_restored"  # a crossing open at a crash is back on the kiosk after the restart
CAMERA_STATUS = "camera_status"  # a lane camera changed state (live, reconnecting, ...): the report's uptime
STORAGE_ALARM = "storage_alarm"  # written once the state disk takes writes again: when the alarm was raised, why
RETENTION_PURGE = "retention_purge"  # written by the log itself before blobs are deleted
AUDIT_REPAIR = "audit_repair"  # written by the log itself after it set aside a torn last line

_FIELDS = ("v", "seq", "time", "kind", "actor", "lane", "crossing_id", "payload", "prev", "hash")


def utc_text(moment: datetime) -> str:
    """A record's time: UTC, microseconds, "Z". Fixed width, so times compare as text."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class AuditError(Exception):
    """The audit log could not record something; the action it describes must not take effect."""


class InvalidRecord(AuditError, ValueError):
    """What the caller asked to record cannot be recorded (bad kind, payload not JSON, ...)."""


def canonical_json(value: Any) -> str:
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError as exc:  # NaN or infinity
        raise InvalidRecord(f"not representable in JSON: {exc}") from None
    except TypeError as exc:
        raise InvalidRecord(f"not representable in JSON: {exc}") from None


def record_hash(fields: Mapping[str, Any]) -> str:
    """sha256 over the canonical JSON of every field but "hash"."""
    body = {k: v for k, v in fields.items() if k != "hash"}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    time: str  # UTC wall time, ISO 8601 with microseconds and "Z"
    kind: str
    actor: str
    lane: str | None
    crossing_id: str | None
    payload: Mapping[str, Any]
    prev: str
    hash: str
    v: int = FORMAT_VERSION

    def fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _FIELDS}

    def line(self) -> bytes:
        """The record as it is stored: one canonical JSON line."""
        return (canonical_json(self.fields()) + "\n").encode("utf-8")

    def hash_matches(self) -> bool:
        return record_hash(self.fields()) == self.hash


def seal(*, seq: int, time: str, kind: str, actor: str, lane: str | None, crossing_id: str | None,
         payload: Mapping[str, Any], prev: str) -> AuditRecord:
    """A new record with its hash, after checking what the caller gave."""
    if not KIND_PATTERN.match(kind):
        raise InvalidRecord(f"kind {kind!r} must be lower-case letters, digits and '_' (at most 32)")
    if not isinstance(actor, str) or not actor:
        raise InvalidRecord("actor must be a non-empty string (who or what caused this)")
    for name, value in (("lane", lane), ("crossing_id", crossing_id)):
        if value is not None and not isinstance(value, str):
            raise InvalidRecord(f"{name} must be a string or None, got {type(value).__name__}")
    if not isinstance(payload, Mapping):
        raise InvalidRecord(f"payload must be a mapping, got {type(payload).__name__}")
    # Round-trip through JSON so the record holds exactly what a reader of the file will see
    # (tuples become lists, keys must be strings).
    if any(not isinstance(key, str) for key in payload):
        raise InvalidRecord("payload keys must be strings")
    plain = json.loads(canonical_json(dict(payload)))
    fields = {"v": FORMAT_VERSION, "seq": seq, "time": time, "kind": kind, "actor": actor, "lane": lane,
              "crossing_id": crossing_id, "payload": plain, "prev": prev}
    return AuditRecord(**fields, hash=record_hash(fields))


class UnreadableRecord(ValueError):
    """A line that is not a record at all (not JSON, missing or extra fields, wrong types)."""


def parse_line(line: bytes) -> AuditRecord:
    try:
        data = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnreadableRecord(f"not a JSON line ({exc})") from None
    if not isinstance(data, dict):
        raise UnreadableRecord("not a JSON object")
    if set(data) != set(_FIELDS):
        missing, extra = set(_FIELDS) - set(data), set(data) - set(_FIELDS)
        raise UnreadableRecord(f"fields differ from a record's (missing {sorted(missing)}, extra {sorted(extra)})")
    types = {"v": int, "seq": int, "time": str, "kind": str, "actor": str, "payload": dict, "prev": str, "hash": str}
    for name, kind in types.items():
        if not isinstance(data[name], kind) or isinstance(data[name], bool):
            raise UnreadableRecord(f"field {name!r} is not a {kind.__name__}")
    for name in ("lane", "crossing_id"):
        if data[name] is not None and not isinstance(data[name], str):
            raise UnreadableRecord(f"field {name!r} is not a string or null")
    return AuditRecord(**data)
