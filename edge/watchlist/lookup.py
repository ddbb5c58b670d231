"""Lookups in the cache: plate (exact and fuzzy), document, person; each hit says how it matched.

A hit the officer must confirm by eye (a plate read one character off, a name without a matching
date of birth) is marked advisory; the lane decides what an advisory hit does.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Protocol

from edge.watchlist import normalize, tables
from edge.watchlist.fuzzy import edit1_skeletons, edit_distance_at_most_1
from edge.watchlist.records import Action, Kind, PersonRecord, Record
from edge.watchlist.store import ListState, WatchlistStore


class Match(StrEnum):
    EXACT = "exact"  # the plate or document number (and issuer) as listed
    LOOKALIKE = "lookalike"  # differs only by OCR look-alikes (O/0, B/8, ...)
    EDIT1 = "edit1"  # one character substituted, missing or extra
    EDIT1_LOOKALIKE = "edit1+lookalike"  # one edit on top of look-alikes
    NUMBER_ONLY = "number_only"  # document number matched, issuer not known to the reader
    NAME_DOB = "name+dob"  # name and date of birth (as far as the list knows it)
    NAME = "name"  # name only: the list or the read has no date of birth
    FACE = "face"  # a 1:N face search matched one of the person's enrolled templates


ADVISORY = frozenset(
    {Match.LOOKALIKE, Match.EDIT1, Match.EDIT1_LOOKALIKE, Match.NUMBER_ONLY, Match.NAME, Match.FACE}
)
_SEVERITY = {Action.DENY: 0, Action.REFER: 1, Action.ALERT: 2}


@dataclass(frozen=True, slots=True)
class WatchlistHit:
    list_id: str
    list_version: int
    record: Record
    match: Match

    @property
    def advisory(self) -> bool:
        return self.match in ADVISORY

    @property
    def action(self) -> Action:
        return self.record.action


def _ordered(hits: list[WatchlistHit]) -> list[WatchlistHit]:
    """Firm hits before advisory ones, then the strictest action first."""
    return sorted(hits, key=lambda h: (h.advisory, _SEVERITY[h.action], h.list_id, h.record.id))


@lru_cache(maxsize=64)
def _in_list(count: int) -> str:
    return ",".join("?" * count)


def _plate_match(listed: str, listed_skeleton: str, read: str, read_skeleton: str) -> Match:
    if listed == read:
        return Match.EXACT
    if listed_skeleton == read_skeleton:
        return Match.LOOKALIKE
    return Match.EDIT1 if edit_distance_at_most_1(listed, read) else Match.EDIT1_LOOKALIKE


def plates(
    conn: sqlite3.Connection, lists: dict[str, ListState], read: str, now: float, fuzzy: bool
) -> list[WatchlistHit]:
    plate = normalize.plate(read)
    if not plate:
        return []
    skeleton = normalize.plate_skeleton(plate)
    if fuzzy:
        keys = [skeleton, *edit1_skeletons(skeleton)]
        where, params = f"skeleton IN ({_in_list(len(keys))})", keys
    else:
        where, params = "skeleton = ? AND plate = ?", [skeleton, plate]
    hits = []
    for state in lists.values():
        for row in conn.execute(f"SELECT * FROM {tables.table(Kind.PLATE, state.gen)} WHERE {where}", params):
            record = tables.plate_from_row(row)
            if record.valid_at(now):
                match = _plate_match(record.plate, row[2], plate, skeleton)
                hits.append(WatchlistHit(state.list_id, state.version, record, match))
    return _ordered(hits)


def documents(
    conn: sqlite3.Connection, lists: dict[str, ListState], number: str, issuer: str | None, now: float
) -> list[WatchlistHit]:
    number = normalize.document_number(number)
    state_code = normalize.issuer(issuer) if issuer else ""
    if not number:
        return []
    params: tuple[str, ...]
    if state_code:
        where, params, match = "number = ? AND issuer = ?", (number, state_code), Match.EXACT
    else:
        where, params, match = "number = ?", (number,), Match.NUMBER_ONLY
    hits = []
    for state in lists.values():
        for row in conn.execute(f"SELECT * FROM {tables.table(Kind.DOCUMENT, state.gen)} WHERE {where}", params):
            record = tables.document_from_row(row)
            if record.valid_at(now):
                hits.append(WatchlistHit(state.list_id, state.version, record, match))
    return _ordered(hits)


def _person_match(record: PersonRecord, dob: str | None, nationality: str | None) -> Match | None:
    if nationality and record.nationality and nationality != record.nationality:
        return None
    if dob and record.dob:
        # The list may know only the year or the month of birth: compare as far as it knows.
        return Match.NAME_DOB if dob.startswith(record.dob) or record.dob.startswith(dob) else None
    return Match.NAME


def persons(
    conn: sqlite3.Connection,
    lists: dict[str, ListState],
    surname: str,
    given_names: str,
    dob: str | None,
    nationality: str | None,
    now: float,
) -> list[WatchlistHit]:
    key = normalize.name_key(surname, given_names)
    if not key:
        return []
    nationality = normalize.issuer(nationality) if nationality else None
    hits = []
    for state in lists.values():
        for row in conn.execute(f"SELECT * FROM {tables.table(Kind.PERSON, state.gen)} WHERE name_key = ?", (key,)):
            record = tables.person_from_row(row, tables.select_faces(conn, state.gen, row[0]))
            match = _person_match(record, dob, nationality) if record.valid_at(now) else None
            if match is not None:
                hits.append(WatchlistHit(state.list_id, state.version, record, match))
    return _ordered(hits)


def person_by_id(conn: sqlite3.Connection, state: ListState, person_id: str) -> PersonRecord | None:
    record = tables.select_by_id(conn, Kind.PERSON, state.gen, person_id)
    return record if isinstance(record, PersonRecord) else None


class WatchlistLookup(Protocol):
    """What a lane asks of a watchlist: the cache's Lookup, or a training drill's own list."""

    def plate(self, read: str, *, now: float, fuzzy: bool = True) -> list[WatchlistHit]: ...
    def document(self, number: str, issuer: str | None, *, now: float) -> list[WatchlistHit]: ...
    def person(self, surname: str, given_names: str, *, dob: str | None = None, nationality: str | None = None,
               now: float) -> list[WatchlistHit]: ...
    def face_owner(self, list_id: str, person_id: str, *, now: float) -> WatchlistHit | None: ...


class Lookup:
    """The lanes' view of the cache: every lookup runs in its own consistent read snapshot."""

    def __init__(self, store: WatchlistStore):
        self._store = store

    def plate(self, read: str, *, now: float, fuzzy: bool = True) -> list[WatchlistHit]:
        with self._store.snapshot() as (conn, lists):
            return plates(conn, lists, read, now, fuzzy)

    def document(self, number: str, issuer: str | None, *, now: float) -> list[WatchlistHit]:
        with self._store.snapshot() as (conn, lists):
            return documents(conn, lists, number, issuer, now)

    def person(
        self, surname: str, given_names: str, *, dob: str | None = None, nationality: str | None = None, now: float
    ) -> list[WatchlistHit]:
        with self._store.snapshot() as (conn, lists):
            return persons(conn, lists, surname, given_names, dob, nationality, now)

    def face_owner(self, list_id: str, person_id: str, *, now: float) -> WatchlistHit | None:
        """The listing behind a 1:N face match (the index knows only list and person ids)."""
        with self._store.snapshot() as (conn, lists):
            state = lists.get(list_id)
            record = person_by_id(conn, state, person_id) if state else None
            if state is None or record is None or not record.valid_at(now):
                return None
            # A face match is never proof of identity on its own: the officer compares.
            return WatchlistHit(list_id, state.version, record, Match.FACE)
