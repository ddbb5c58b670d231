"""Enrolled face templates for the 1:N face index (built by edge.faces, not here).

The index reads every template, remembers the face generation it read them at, and reads them
again when `WatchlistStore.face_generation()` moves on, to take in what changed. A match comes
back to the watchlist through `Lookup.face_owner(list_id, person_id)`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from edge.watchlist import tables
from edge.watchlist.store import WatchlistStore, read_counter


@dataclass(frozen=True, slots=True)
class EnrolledFace:
    list_id: str
    person_id: str
    template_id: str
    quality: float
    vector: np.ndarray  # float32, shape (128,)


@contextmanager
def _face_rows(store: WatchlistStore) -> Iterator[tuple[int, int, Iterator[tuple[str, tuple]]]]:
    """The face generation, the number of templates and (list_id, row) of each, read in one snapshot."""
    with store.snapshot() as (conn, lists):
        count = sum(
            conn.execute(f"SELECT COUNT(*) FROM {tables.faces_table(state.gen)}").fetchone()[0]
            for state in lists.values()
        )

        def rows() -> Iterator[tuple[str, tuple]]:
            for state in lists.values():
                table = tables.faces_table(state.gen)
                query = f"SELECT person_id, template_id, quality, vector FROM {table} ORDER BY person_id, ordinal"
                for row in conn.execute(query):
                    yield state.list_id, row

        yield read_counter(conn, "face_generation"), count, rows()


@contextmanager
def enrolled_faces(store: WatchlistStore) -> Iterator[tuple[int, int, Iterator[EnrolledFace]]]:
    """(face generation, number of templates, the templates one at a time), all of one snapshot.
    The store's connection stays taken until the block ends: give it a connection of its own."""
    with _face_rows(store) as (generation, count, rows):
        yield generation, count, (
            EnrolledFace(list_id, person_id, template_id, quality, np.frombuffer(vector, dtype="<f4").copy())
            for list_id, (person_id, template_id, quality, vector) in rows
        )


def iter_faces(store: WatchlistStore) -> Iterator[EnrolledFace]:
    """Every enrolled template, one at a time. The store stays locked until the iteration ends."""
    with enrolled_faces(store) as (_, _, faces):
        yield from faces
