"""The SQLite tables of one generation of a list, and records to rows and back.

A full snapshot builds a fresh generation (new tables, filled without indexes, indexed once at
the end, which is several times faster than keeping indexes up to date row by row) and swaps it
in by updating the list's row in the same transaction; a delta edits the current generation.
Rows hold exactly the record's fields (plus derived lookup keys), so a record read back from a
row is equal to the one that was written, digest and all.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator

from edge.watchlist import normalize
from edge.watchlist.records import (
    Action,
    DocumentRecord,
    Kind,
    PersonRecord,
    PlateRecord,
    Record,
    WatchlistFace,
)

_COMMON = "reason TEXT NOT NULL, action TEXT NOT NULL, valid_from INTEGER, valid_until INTEGER, source TEXT NOT NULL"

_TABLES = {
    Kind.PLATE: "id TEXT NOT NULL, plate TEXT NOT NULL, skeleton TEXT NOT NULL, region TEXT, " + _COMMON,
    Kind.DOCUMENT: "id TEXT NOT NULL, number TEXT NOT NULL, issuer TEXT NOT NULL, doc_type TEXT, " + _COMMON,
    Kind.PERSON: "id TEXT NOT NULL, surname TEXT NOT NULL, given_names TEXT NOT NULL, name_key TEXT NOT NULL, "
    "dob TEXT, nationality TEXT, " + _COMMON,
}
_FACES = (
    "person_id TEXT NOT NULL, ordinal INTEGER NOT NULL, template_id TEXT NOT NULL, "
    "quality REAL NOT NULL, vector BLOB NOT NULL"
)
# Lookup indexes; each kind's table also gets a unique index on id.
_LOOKUP_INDEX = {Kind.PLATE: "skeleton", Kind.DOCUMENT: "number, issuer", Kind.PERSON: "name_key"}
_COLUMN_COUNT = {kind: ddl.count(",") + 1 for kind, ddl in _TABLES.items()}


def table(kind: Kind, gen: int) -> str:
    return f"{kind.value}s_{gen}"


def faces_table(gen: int) -> str:
    return f"faces_{gen}"


def create_tables(conn: sqlite3.Connection, gen: int) -> None:
    for kind, columns in _TABLES.items():
        conn.execute(f"CREATE TABLE {table(kind, gen)} ({columns})")
    conn.execute(f"CREATE TABLE {faces_table(gen)} ({_FACES})")


def create_indexes(conn: sqlite3.Connection, gen: int) -> None:
    """Index a filled generation; a duplicate id fails here as an IntegrityError."""
    for kind, columns in _LOOKUP_INDEX.items():
        name = table(kind, gen)
        conn.execute(f"CREATE UNIQUE INDEX {name}_id ON {name} (id)")
        conn.execute(f"CREATE INDEX {name}_lookup ON {name} ({columns})")
    conn.execute(f"CREATE UNIQUE INDEX {faces_table(gen)}_person ON {faces_table(gen)} (person_id, ordinal)")


def drop_tables(conn: sqlite3.Connection, gen: int) -> None:
    for kind in _TABLES:
        conn.execute(f"DROP TABLE IF EXISTS {table(kind, gen)}")
    conn.execute(f"DROP TABLE IF EXISTS {faces_table(gen)}")


def insert_sql(kind: Kind, gen: int) -> str:
    return f"INSERT INTO {table(kind, gen)} VALUES ({','.join('?' * _COLUMN_COUNT[kind])})"


def insert_faces_sql(gen: int) -> str:
    return f"INSERT INTO {faces_table(gen)} VALUES (?,?,?,?,?)"


def row(record: Record) -> tuple:
    common = (record.reason, record.action, record.valid_from, record.valid_until, record.source)
    if isinstance(record, PlateRecord):
        return (record.id, record.plate, normalize.plate_skeleton(record.plate), record.region, *common)
    if isinstance(record, DocumentRecord):
        return (record.id, record.number, record.issuer, record.doc_type, *common)
    key = normalize.name_key(record.surname, record.given_names)
    return (record.id, record.surname, record.given_names, key, record.dob, record.nationality, *common)


def face_rows(record: PersonRecord) -> Iterator[tuple]:
    for ordinal, face in enumerate(record.faces):
        yield (record.id, ordinal, face.id, face.quality, face.vector)


def _common(values: tuple) -> dict:
    reason, action, valid_from, valid_until, source = values
    return {
        "reason": reason,
        "action": Action(action),
        "valid_from": valid_from,
        "valid_until": valid_until,
        "source": source,
    }


def record_from_row(kind: Kind, values: tuple, faces: Iterable[tuple] = ()) -> Record:
    """The record a row was made from; `faces` are (template_id, quality, vector) in ordinal order."""
    if kind is Kind.PLATE:
        return plate_from_row(values)
    if kind is Kind.DOCUMENT:
        return document_from_row(values)
    return person_from_row(values, faces)


def plate_from_row(values: tuple) -> PlateRecord:
    rid, plate, _skeleton, region, *common = values
    return PlateRecord(id=rid, plate=plate, region=region, **_common(tuple(common)))


def document_from_row(values: tuple) -> DocumentRecord:
    rid, number, issuer, doc_type, *common = values
    return DocumentRecord(id=rid, number=number, issuer=issuer, doc_type=doc_type, **_common(tuple(common)))


def person_from_row(values: tuple, faces: Iterable[tuple]) -> PersonRecord:
    rid, surname, given_names, _key, dob, nationality, *common = values
    return PersonRecord(
        id=rid,
        surname=surname,
        given_names=given_names,
        dob=dob,
        nationality=nationality,
        faces=tuple(WatchlistFace(t, q, v) for t, q, v in faces),
        **_common(tuple(common)),
    )


def select_by_id(conn: sqlite3.Connection, kind: Kind, gen: int, record_id: str) -> Record | None:
    values = conn.execute(f"SELECT * FROM {table(kind, gen)} WHERE id = ?", (record_id,)).fetchone()
    if values is None:
        return None
    return record_from_row(kind, values, select_faces(conn, gen, record_id) if kind is Kind.PERSON else ())


def select_faces(conn: sqlite3.Connection, gen: int, person_id: str) -> list[tuple]:
    return conn.execute(
        f"SELECT template_id, quality, vector FROM {faces_table(gen)} WHERE person_id = ? ORDER BY ordinal",
        (person_id,),
    ).fetchall()


def delete_by_id(conn: sqlite3.Connection, kind: Kind, gen: int, record_id: str) -> None:
    conn.execute(f"DELETE FROM {table(kind, gen)} WHERE id = ?", (record_id,))
    if kind is Kind.PERSON:
        conn.execute(f"DELETE FROM {faces_table(gen)} WHERE person_id = ?", (record_id,))


def iter_records(conn: sqlite3.Connection, gen: int) -> Iterator[Record]:
    """Every record of a generation (persons with their faces), for recomputing its state hash."""
    for kind in (Kind.PLATE, Kind.DOCUMENT):
        for values in conn.execute(f"SELECT * FROM {table(kind, gen)}"):
            yield record_from_row(kind, values)
    faces = conn.execute(
        f"SELECT person_id, template_id, quality, vector FROM {faces_table(gen)} ORDER BY person_id, ordinal"
    )
    pending = next(faces, None)
    for values in conn.execute(f"SELECT * FROM {table(Kind.PERSON, gen)} ORDER BY id"):
        mine = []
        while pending is not None and pending[0] < values[0]:  # faces of no person: not content
            pending = next(faces, None)
        while pending is not None and pending[0] == values[0]:
            mine.append(pending[1:])
            pending = next(faces, None)
        yield person_from_row(values, mine)
