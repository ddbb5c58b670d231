"""Records: strict parsing of bundle records, forgiving authority input, rows that round-trip exactly."""

from __future__ import annotations

import base64
import sqlite3
import struct
from pathlib import Path

import pytest

from edge.watchlist import tables, utc
from edge.watchlist.authority_input import InputError, read_rows, to_operation, to_record
from edge.watchlist.records import (
    Delete,
    Kind,
    PersonRecord,
    RecordError,
    operation_from_json,
    operation_to_json,
    record_from_json,
    record_to_json,
)
from edge.watchlist.statehash import StateHash, record_digest

VECTOR = base64.b64encode(struct.pack("<128f", *[i / 256 for i in range(128)])).decode()
GOOD = {
    "plate": {"kind": "plate", "id": "V1", "plate": "ABC123", "region": "US-CA", "reason": "stolen", "action": "deny",
              "valid_from": "2024-01-01T00:00:00Z", "valid_until": None, "source": "NCIC 1"},
    "document": {"kind": "document", "id": "D1", "number": "X1234567", "issuer": "D", "doc_type": "P",
                 "reason": "lost", "action": "refer", "valid_from": None, "valid_until": "2030-01-01T00:00:00Z",
                 "source": ""},
    "person": {"kind": "person", "id": "P1", "surname": "Ødegård", "given_names": "Åse Marie", "dob": "1980",
               "nationality": "NOR", "faces": [{"id": "f1", "quality": 0.75, "vector": VECTOR}],
               "reason": "person of interest", "action": "alert", "valid_from": None, "valid_until": None,
               "source": "INT 9"},
}


@pytest.mark.parametrize("kind", sorted(GOOD))
def test_records_round_trip_through_json_and_rows_with_the_same_digest(kind):
    record = record_from_json(GOOD[kind])
    assert record_to_json(record) == GOOD[kind]
    faces = [(f.id, f.quality, f.vector) for f in record.faces] if isinstance(record, PersonRecord) else []
    # Through a real SQLite table and back: what content_hash recomputes is what the authority hashed.
    conn = sqlite3.connect(":memory:")
    tables.create_tables(conn, 1)
    conn.execute(tables.insert_sql(record.kind, 1), tables.row(record))
    back = tables.record_from_row(record.kind, conn.execute(f"SELECT * FROM {tables.table(record.kind, 1)}").fetchone(),
                                  faces)
    assert back == record and record_digest(back) == record_digest(record)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"plate": "abc-123"}, "plate must be 1-16 characters A-Z0-9"),
        ({"action": "arrest"}, "action must be alert, refer or deny"),
        ({"valid_from": "2024-01-01"}, "valid_from: timestamp '2024-01-01' is not YYYY-MM-DDTHH:MM:SSZ"),
        ({"valid_until": "2023-01-01T00:00:00Z"}, "valid_until must be after valid_from"),
        ({"colour": "red"}, "unknown field(s) ['colour']"),
        ({"kind": "boat"}, "kind must be plate, document or person"),
        ({"reason": ""}, "reason must have 1 to 200 characters"),
        ({"source": "a\nb"}, "source contains a control character"),
        ({"id": 7}, "id must be a string"),
    ],
)
def test_bad_plate_records_are_refused_naming_the_field(change, message):
    with pytest.raises(RecordError) as caught:
        record_from_json(GOOD["plate"] | change)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("face", "message"),
    [
        ({"id": "f1", "quality": 1.5, "vector": VECTOR}, "quality must be a number from 0 to 1"),
        ({"id": "f1", "quality": 0.5, "vector": VECTOR[:-8]}, "bytes, not 512"),
        ({"id": "f1", "quality": 0.5, "vector": "%%%"}, "not base64"),
        ({"id": "f1", "quality": 0.5,
          "vector": base64.b64encode(struct.pack("<128f", *([float("nan")] * 128))).decode()}, "NaN"),
        ({"id": "f1", "quality": 0.5}, "exactly id, quality and vector"),
    ],
)
def test_bad_face_templates_are_refused(face, message):
    with pytest.raises(RecordError) as caught:
        record_from_json(GOOD["person"] | {"faces": [face]})
    assert message in str(caught.value) and "'P1'" in str(caught.value)


def test_person_dates_of_birth_and_names_are_checked():
    with pytest.raises(RecordError, match="not a real date"):
        record_from_json(GOOD["person"] | {"dob": "1980-02-30"})
    with pytest.raises(RecordError, match="no letters"):
        record_from_json(GOOD["person"] | {"surname": "123", "given_names": ""})


def test_delta_operations():
    assert operation_from_json({"op": "delete", "kind": "plate", "id": "V1"}) == Delete(Kind.PLATE, "V1")
    upsert = operation_from_json({"op": "upsert", "record": GOOD["plate"]})
    assert operation_to_json(upsert) == {"op": "upsert", "record": GOOD["plate"]}
    with pytest.raises(RecordError, match="upsert with a record or a delete"):
        operation_from_json({"op": "replace", "record": GOOD["plate"]})


def test_timestamps_have_one_spelling():
    assert utc.render(utc.parse("2025-01-31T23:59:59Z")) == "2025-01-31T23:59:59Z"
    for bad in ("2025-01-31T23:59:59+00:00", "2025-01-31 23:59:59Z", "2025-02-30T00:00:00Z"):
        with pytest.raises(ValueError):
            utc.parse(bad)


def test_the_state_hash_is_order_free_and_updates_record_by_record():
    a, b = record_from_json(GOOD["plate"]), record_from_json(GOOD["document"])
    forward, backward = StateHash(), StateHash()
    forward.add(a), forward.add(b)
    backward.add(b), backward.add(a)
    assert forward.hexdigest() == backward.hexdigest()
    forward.remove(b)
    only_a = StateHash()
    only_a.add(a)
    assert forward.hexdigest() == only_a.hexdigest() != StateHash().hexdigest()


def test_authority_csv_is_normalised(tmp_path):
    csv_file = tmp_path / "in.csv"
    csv_file.write_text(
        "kind,id,plate,number,issuer,surname,given_names,reason,action,valid_from,valid_until\n"
        "plate,V1, abc-123 ,,,,,stolen,DENY,2024-01-01,2024-06-01T12:00:00+02:00\n"
        "document,D1,,x 123-456,d<<,,,lost,refer,,\n"
        "person,P1,,,,Doe,,wanted,alert,,\n"
    )
    rows = list(read_rows(csv_file))
    plate = to_record(csv_file, *rows[0], None)
    assert (plate.plate, plate.action.value) == ("ABC123", "deny")
    assert (utc.render(plate.valid_from), utc.render(plate.valid_until)) == ("2024-01-01T00:00:00Z",
                                                                               "2024-06-01T10:00:00Z")
    document = to_record(csv_file, *rows[1], None)
    assert (document.number, document.issuer) == ("X123456", "D")
    assert to_record(csv_file, *rows[2], None).given_names == ""


def test_authority_input_errors_name_file_and_line(tmp_path):
    csv_file = tmp_path / "in.csv"
    csv_file.write_text("kind,id,plate,number,reason,action\nplate,V1,ABC1,X99,stolen,alert\n")
    line, row = next(read_rows(csv_file))
    with pytest.raises(InputError, match=r"in\.csv:2: field\(s\) \['number'\] do not belong to a plate record"):
        to_record(csv_file, line, row, None)
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text('{"kind": "plate", "id": "V1", "plate": "A1", "reason": "r", "action": "alert"}\n\n[1]\n')
    with pytest.raises(InputError, match=r"in\.jsonl:3: not a JSON object"):
        list(read_rows(jsonl))
    with pytest.raises(InputError, match="unknown input type"):
        list(read_rows(tmp_path / "in.xlsx"))
    with pytest.raises(InputError, match="a delete needs the record id"):
        to_operation(Path("x.csv"), 5, {"op": "delete", "kind": "plate"}, None)


def test_authority_json_takes_face_vectors_as_numbers(tmp_path):
    json_file = tmp_path / "persons.json"
    json_file.write_text(
        '[{"kind": "person", "id": "P1", "surname": "Doe", "given_names": "Jane", "reason": "r", "action": "refer",'
        ' "faces": [{"id": "a", "quality": 0.5, "vector": [' + ",".join(["0.25"] * 128) + "]}]}]"
    )
    [(line, row)] = read_rows(json_file)
    record = to_record(json_file, line, row, None)
    assert struct.unpack("<128f", record.faces[0].vector) == (0.25,) * 128
    row["faces"][0]["vector"] = [0.25] * 127
    with pytest.raises(InputError, match="needs 128 numbers, got 127"):
        to_record(json_file, line, row, None)
