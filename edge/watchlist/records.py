"""Watchlist records as they travel in bundles: plates, documents, persons (with face templates).

Parsing is strict because a bundle is input from outside: an unknown key, a key that is not in
its normal form or a malformed timestamp is an error naming the field, never a silent fix-up (the
publisher normalises; the edge refuses what was not normalised).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import struct
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from edge.watchlist import normalize, utc

FACE_DIMENSIONS = 128
FACE_VECTOR_BYTES = FACE_DIMENSIONS * 4  # little-endian float32, as dlib encodings are stored
MAX_FACES_PER_PERSON = 32

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PLATE = re.compile(r"[A-Z0-9]{1,16}")
_REGION = re.compile(r"[A-Z0-9-]{1,10}")
_DOC_NUMBER = re.compile(r"[A-Z0-9]{1,20}")
_STATE = re.compile(r"[A-Z]{1,3}")
_DOC_TYPE = re.compile(r"[A-Z]{1,2}")
_DOB = re.compile(r"\d{4}(-\d\d(-\d\d)?)?")
_FLOATS = struct.Struct(f"<{FACE_DIMENSIONS}f")


class RecordError(ValueError):
    """A record that cannot be used; the message names the record and the field."""


class Action(StrEnum):
    ALERT = "alert"  # tell the officer; the crossing may proceed
    REFER = "refer"  # send to secondary inspection
    DENY = "deny"  # do not let through


class Kind(StrEnum):
    PLATE = "plate"
    DOCUMENT = "document"
    PERSON = "person"


@dataclass(frozen=True, slots=True, kw_only=True)
class Listing:
    """What every record carries: why it is listed, what to do, when, and where it came from."""

    id: str
    reason: str
    action: Action
    valid_from: int | None  # seconds since the epoch; None: since ever
    valid_until: int | None  # exclusive; None: until withdrawn
    source: str  # the authority's reference (case number, originating system)

    def valid_at(self, now: float) -> bool:
        return (self.valid_from is None or self.valid_from <= now) and (
            self.valid_until is None or now < self.valid_until
        )

    def _common_fields(self) -> tuple[str, ...]:
        # Action is a str enum: it joins as its value.
        return (self.id, self.reason, self.action, _opt(self.valid_from), _opt(self.valid_until), self.source)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlateRecord(Listing):
    plate: str  # normal form, see normalize.plate
    region: str | None  # issuing country/region code, e.g. US-CA, DE

    kind = Kind.PLATE

    def digest_fields(self) -> tuple[str, ...]:
        return ("plate", *self._common_fields(), self.plate, _opt(self.region))


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentRecord(Listing):
    number: str  # normal form, see normalize.document_number
    issuer: str  # ICAO issuing-state code
    doc_type: str | None  # ICAO document code (P, ID, V, ...) when the list knows it

    kind = Kind.DOCUMENT

    def digest_fields(self) -> tuple[str, ...]:
        return ("document", *self._common_fields(), self.number, self.issuer, _opt(self.doc_type))


@dataclass(frozen=True, slots=True)
class WatchlistFace:
    """One enrolled face: a 128-d dlib encoding (float32, little-endian bytes) and its quality 0..1."""

    id: str
    quality: float
    vector: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class PersonRecord(Listing):
    surname: str
    given_names: str
    dob: str | None  # YYYY, YYYY-MM or YYYY-MM-DD: lists often know only part of a date of birth
    nationality: str | None  # ICAO code
    faces: tuple[WatchlistFace, ...]

    kind = Kind.PERSON

    def digest_fields(self) -> tuple[str, ...]:
        faces = [f"{f.id}\x1e{f.quality!r}\x1e{f.vector.hex()}" for f in self.faces]
        return (
            "person",
            *self._common_fields(),
            self.surname,
            self.given_names,
            _opt(self.dob),
            _opt(self.nationality),
            *faces,
        )


Record = PlateRecord | DocumentRecord | PersonRecord


@dataclass(frozen=True, slots=True)
class Delete:
    """A delta operation that withdraws one record."""

    kind: Kind
    id: str


def _opt(value: object) -> str:
    # NUL cannot occur in a validated text field, so it spells "absent" without ambiguity.
    return "\x00" if value is None else str(value)


# ---- parsing ---------------------------------------------------------------------------------

_COMMON_KEYS = frozenset({"kind", "id", "reason", "action", "valid_from", "valid_until", "source"})
_KEYS = {
    Kind.PLATE: _COMMON_KEYS | {"plate", "region"},
    Kind.DOCUMENT: _COMMON_KEYS | {"number", "issuer", "doc_type"},
    Kind.PERSON: _COMMON_KEYS | {"surname", "given_names", "dob", "nationality", "faces"},
}


_ACTIONS: dict[Any, Action] = {a.value: a for a in Action}
_KINDS: dict[Any, Kind] = {k.value: k for k in Kind}


def _text(obj: dict, key: str, *, max_len: int, allow_empty: bool = False) -> str:
    value = obj.get(key)
    # Fast path first: millions of records go through here on a full snapshot.
    if value.__class__ is str and 0 < len(value) <= max_len and value.isprintable():
        return value
    if not isinstance(value, str):
        raise RecordError(f"{key} must be a string (got {value!r})")
    if (not value and not allow_empty) or len(value) > max_len:
        raise RecordError(f"{key} must have 1 to {max_len} characters (got {len(value)})")
    if _CONTROL.search(value):
        raise RecordError(f"{key} contains a control character")
    return value


def _pattern(obj: dict, key: str, pattern: re.Pattern[str], what: str, *, optional: bool = False) -> Any:
    value = obj.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise RecordError(f"{key} must be {what} (got {value!r})")
    return value


def _timestamp(obj: dict, key: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    try:
        return utc.parse(value)
    except ValueError as exc:
        raise RecordError(f"{key}: {exc}") from None


def _common(obj: dict, kind: Kind) -> dict[str, Any]:
    if not _KEYS[kind].issuperset(obj):
        raise RecordError(f"unknown field(s) {sorted(obj.keys() - _KEYS[kind])} for a {kind.value} record")
    action = _ACTIONS.get(obj.get("action"))
    if action is None:
        raise RecordError(f"action must be alert, refer or deny (got {obj.get('action')!r})")
    record_id, reason = _text(obj, "id", max_len=64), _text(obj, "reason", max_len=200)
    start, end = _timestamp(obj, "valid_from"), _timestamp(obj, "valid_until")
    source = _text(obj, "source", max_len=200, allow_empty=True)
    if start is not None and end is not None and end <= start:
        raise RecordError("valid_until must be after valid_from")
    return {"id": record_id, "reason": reason, "action": action, "valid_from": start, "valid_until": end,
            "source": source}


def _faces(value: Any) -> tuple[WatchlistFace, ...]:
    if not isinstance(value, list) or len(value) > MAX_FACES_PER_PERSON:
        raise RecordError(f"faces must be a list of at most {MAX_FACES_PER_PERSON} templates")
    faces = []
    for n, face in enumerate(value):
        if not isinstance(face, dict) or face.keys() != {"id", "quality", "vector"}:
            raise RecordError(f"faces[{n}] must have exactly id, quality and vector")
        quality = face["quality"]
        if isinstance(quality, bool) or not isinstance(quality, int | float) or not 0 <= quality <= 1:
            raise RecordError(f"faces[{n}].quality must be a number from 0 to 1 (got {quality!r})")
        try:
            vector = base64.b64decode(face["vector"], validate=True)
        except (binascii.Error, TypeError):
            raise RecordError(f"faces[{n}].vector is not base64") from None
        if len(vector) != FACE_VECTOR_BYTES:
            raise RecordError(f"faces[{n}].vector has {len(vector)} bytes, not {FACE_VECTOR_BYTES}")
        if not all(math.isfinite(x) for x in _FLOATS.unpack(vector)):
            raise RecordError(f"faces[{n}].vector contains NaN or infinity")
        faces.append(WatchlistFace(_text(face, "id", max_len=64), float(quality), vector))
    if len({f.id for f in faces}) != len(faces):
        raise RecordError("faces have duplicate ids")
    return tuple(faces)


def record_from_json(obj: Any) -> Record:
    """A record from its JSON object; RecordError names the record id (when known) and the field."""
    if not isinstance(obj, dict):
        raise RecordError("a record must be a JSON object")
    try:
        kind = _KINDS.get(obj.get("kind"))
        if kind is None:
            raise RecordError(f"kind must be plate, document or person (got {obj.get('kind')!r})")
        common = _common(obj, kind)
        if kind is Kind.PLATE:
            return PlateRecord(
                **common,
                plate=_pattern(obj, "plate", _PLATE, "1-16 characters A-Z0-9"),
                region=_pattern(obj, "region", _REGION, "a region code A-Z0-9-", optional=True),
            )
        if kind is Kind.DOCUMENT:
            return DocumentRecord(
                **common,
                number=_pattern(obj, "number", _DOC_NUMBER, "1-20 characters A-Z0-9"),
                issuer=_pattern(obj, "issuer", _STATE, "an ICAO state code A-Z"),
                doc_type=_pattern(obj, "doc_type", _DOC_TYPE, "an ICAO document code", optional=True),
            )
        person = PersonRecord(
            **common,
            surname=_text(obj, "surname", max_len=100),
            given_names=_text(obj, "given_names", max_len=100, allow_empty=True),
            dob=_pattern(obj, "dob", _DOB, "YYYY, YYYY-MM or YYYY-MM-DD", optional=True),
            nationality=_pattern(obj, "nationality", _STATE, "an ICAO state code A-Z", optional=True),
            faces=_faces(obj.get("faces", [])),
        )
        if person.dob is not None and len(person.dob) == 10:
            try:
                date.fromisoformat(person.dob)
            except ValueError:
                raise RecordError(f"dob {person.dob!r} is not a real date") from None
        if not normalize.name_key(person.surname, person.given_names):
            raise RecordError("the name has no letters to match on")
        return person
    except RecordError as exc:
        rid = obj.get("id")
        raise RecordError(f"record {rid!r}: {exc}" if isinstance(rid, str) else str(exc)) from None


def record_to_json(record: Record) -> dict[str, Any]:
    """The JSON object of a record, keys in a fixed order (the inverse of record_from_json)."""
    obj: dict[str, Any] = {"kind": record.kind.value, "id": record.id}
    if isinstance(record, PlateRecord):
        obj |= {"plate": record.plate, "region": record.region}
    elif isinstance(record, DocumentRecord):
        obj |= {"number": record.number, "issuer": record.issuer, "doc_type": record.doc_type}
    else:
        obj |= {
            "surname": record.surname,
            "given_names": record.given_names,
            "dob": record.dob,
            "nationality": record.nationality,
            "faces": [
                {"id": f.id, "quality": f.quality, "vector": base64.b64encode(f.vector).decode("ascii")}
                for f in record.faces
            ],
        }
    obj |= {
        "reason": record.reason,
        "action": record.action.value,
        "valid_from": None if record.valid_from is None else utc.render(record.valid_from),
        "valid_until": None if record.valid_until is None else utc.render(record.valid_until),
        "source": record.source,
    }
    return obj


def operation_from_json(obj: Any) -> Record | Delete:
    """One line of a delta: {"op": "upsert", "record": {...}} or {"op": "delete", "kind", "id"}."""
    if not isinstance(obj, dict):
        raise RecordError("a delta operation must be a JSON object")
    op = obj.get("op")
    if op == "upsert" and obj.keys() == {"op", "record"}:
        return record_from_json(obj["record"])
    if op == "delete" and obj.keys() == {"op", "kind", "id"}:
        try:
            kind = Kind(obj["kind"])
        except ValueError:
            raise RecordError(f"delete: kind must be plate, document or person (got {obj['kind']!r})") from None
        return Delete(kind, _text(obj, "id", max_len=64))
    raise RecordError(f"a delta operation must be an upsert with a record or a delete with kind and id: {obj!r}"[:300])


def operation_to_json(op: Record | Delete) -> dict[str, Any]:
    if isinstance(op, Delete):
        return {"op": "delete", "kind": op.kind.value, "id": op.id}
    return {"op": "upsert", "record": record_to_json(op)}
