"""The authority's input to `edge watchlist publish`: CSV, JSON lines or a JSON array of records.

Input is forgiving where bundles are strict: plates and document numbers are normalised, dates
may be plain YYYY-MM-DD or carry a UTC offset, face vectors may be lists of 128 numbers, and CSV
cells may be empty. What cannot be made into a valid record is an error naming file and line.

CSV columns (header row; unused columns may be left out): op (upsert|delete, for deltas),
kind (plate|document|person), id, plate, region, number, issuer, doc_type, surname,
given_names, dob, nationality, reason, action, valid_from, valid_until, source.
Face templates need JSON input: "faces": [{"id", "quality", "vector": [128 numbers]}].
"""

from __future__ import annotations

import base64
import csv
import json
import struct
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from edge.watchlist import normalize, utc
from edge.watchlist.records import (
    FACE_DIMENSIONS,
    Delete,
    Kind,
    Record,
    RecordError,
    record_from_json,
)


class InputError(ValueError):
    """Input that cannot be published; the message names the file and line."""


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for every record in a .csv, .jsonl/.ndjson or .json file."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".ndjson", ".json"):
        raise InputError(f"{path}: unknown input type {suffix!r} (use .csv, .jsonl or .json)")
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            if suffix == ".csv":
                reader = csv.DictReader(f)
                for row in reader:
                    if None in row:
                        raise InputError(f"{path}:{reader.line_num}: more cells than header columns")
                    yield reader.line_num, row
            elif suffix in (".jsonl", ".ndjson"):
                for n, line in enumerate(f, start=1):
                    if line.strip():
                        yield n, _json_object(path, n, line)
            else:
                items = json.load(f)
                if not isinstance(items, list):
                    raise InputError(f"{path}: a .json input must be an array of records")
                for n, item in enumerate(items, start=1):
                    if not isinstance(item, dict):
                        raise InputError(f"{path}: item {n} is not an object")
                    yield n, item
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from None


def _json_object(path: Path, line_no: int, line: str) -> dict[str, Any]:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{line_no}: not valid JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise InputError(f"{path}:{line_no}: not a JSON object")
    return obj


def _timestamp(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and len(value) == 10:
        return f"{date.fromisoformat(value).isoformat()}T00:00:00Z"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no time zone (add Z or an offset)")
    return utc.render(int(moment.astimezone(UTC).timestamp()))


def _vector(value: Any) -> Any:
    if isinstance(value, list):
        if len(value) != FACE_DIMENSIONS:
            raise ValueError(f"a face vector needs {FACE_DIMENSIONS} numbers, got {len(value)}")
        return base64.b64encode(struct.pack(f"<{FACE_DIMENSIONS}f", *value)).decode("ascii")
    return value


_COMMON_FIELDS = ("id", "reason", "action", "valid_from", "valid_until", "source")
_KIND_FIELDS = {
    "plate": ("plate", "region"),
    "document": ("number", "issuer", "doc_type"),
    "person": ("surname", "given_names", "dob", "nationality", "faces"),
}
_NORMAL_FORMS = (
    ("plate", normalize.plate),
    ("number", normalize.document_number),
    ("issuer", normalize.issuer),
    ("nationality", normalize.issuer),
)


def _clean(raw: dict[str, Any], default_kind: str | None) -> dict[str, Any]:
    values = {k.strip(): (v.strip() or None if isinstance(v, str) else v) for k, v in raw.items() if k}
    kind = values.get("kind") or default_kind
    known = {"op", "kind", *_COMMON_FIELDS, *(f for fields in _KIND_FIELDS.values() for f in fields)}
    if values.keys() - known:
        raise ValueError(f"unknown field(s) {sorted(values.keys() - known)}")
    # A CSV has every column on every row: those of other kinds must be empty.
    mine = {*_COMMON_FIELDS, *_KIND_FIELDS.get(kind or "", ())}
    misplaced = sorted(k for k, v in values.items() if v is not None and k not in mine | {"op", "kind"})
    if misplaced:
        raise ValueError(f"field(s) {misplaced} do not belong to a {kind} record")
    obj: dict[str, Any] = {"kind": kind} | {key: values.get(key) for key in sorted(mine)}
    obj["source"] = obj["source"] or ""
    if isinstance(obj["action"], str):
        obj["action"] = obj["action"].lower()
    for key, normal in _NORMAL_FORMS:
        if isinstance(obj.get(key), str):
            obj[key] = normal(obj[key])
    obj["valid_from"] = _timestamp(obj["valid_from"])
    obj["valid_until"] = _timestamp(obj["valid_until"])
    if kind == "person":
        obj["given_names"] = obj["given_names"] or ""
        obj["faces"] = [{**face, "vector": _vector(face.get("vector"))} for face in obj["faces"] or []]
    return obj


def to_record(path: Path, line_no: int, raw: dict[str, Any], default_kind: str | None) -> Record:
    try:
        return record_from_json(_clean(raw, default_kind))
    except (RecordError, ValueError, TypeError, AttributeError) as exc:
        raise InputError(f"{path}:{line_no}: {exc}") from None


def to_operation(path: Path, line_no: int, raw: dict[str, Any], default_kind: str | None) -> Record | Delete:
    op = (raw.get("op") or "upsert").strip().lower()
    if op == "upsert":
        return to_record(path, line_no, raw, default_kind)
    if op != "delete":
        raise InputError(f"{path}:{line_no}: op must be upsert or delete (got {op!r})")
    try:
        kind = Kind(raw.get("kind") or default_kind or "")
    except ValueError:
        raise InputError(f"{path}:{line_no}: a delete needs kind plate, document or person") from None
    record_id = raw.get("id")
    if not isinstance(record_id, str) or not record_id.strip():
        raise InputError(f"{path}:{line_no}: a delete needs the record id")
    return Delete(kind, record_id.strip())
