"""Enrolled face templates for the 1:N face index (built by edge.faces, not here).

The index reads every template once, remembers the face generation it read them at, and
rebuilds when `WatchlistStore.face_generation()` moves on. A match comes back to the watchlist
through `Lookup.face_owner(list_id, person_id)`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from edge.watchlist import tables
from edge.watchlist.records import FACE_DIMENSIONS
from edge.watchlist.store import WatchlistStore, read_counter


@dataclass(frozen=True, slots=True)
class EnrolledFace:
    list_id: str
    person_id: str
    template_id: str
    quality: float
    vector: np.ndarray  # float32, shape (128,)


@dataclass(frozen=True, slots=True)
class FaceSet:
    """Every enrolled template at one face generation, as arrays an index can be built from."""

    generation: int
    keys: tuple[tuple[str, str, str], ...]  # (list_id, person_id, template_id) per row of `vectors`
    qualities: np.ndarray  # float32, shape (n,)
    vectors: np.ndarray  # float32, shape (n, 128)


@contextmanager
def _face_rows(store: WatchlistStore) -> Iterator[tuple[int, Iterator[tuple[str, tuple]]]]:
    """The face generation and (list_id, row) of every template, read in one snapshot."""
    with store.snapshot() as (conn, lists):

        def rows() -> Iterator[tuple[str, tuple]]:
            for state in lists.values():
                table = tables.faces_table(state.gen)
                query = f"SELECT person_id, template_id, quality, vector FROM {table} ORDER BY person_id, ordinal"
                for row in conn.execute(query):
                    yield state.list_id, row

        yield read_counter(conn, "face_generation"), rows()


def iter_faces(store: WatchlistStore) -> Iterator[EnrolledFace]:
    """Every enrolled template, one at a time. The store stays locked until the iteration ends."""
    with _face_rows(store) as (_, rows):
        for list_id, (person_id, template_id, quality, vector) in rows:
            yield EnrolledFace(list_id, person_id, template_id, quality, np.frombuffer(vector, dtype="<f4").copy())


def load_faces(store: WatchlistStore) -> FaceSet:
    """Every enrolled template in one matrix, with the generation it belongs to."""
    keys, qualities, blobs = [], [], []
    with _face_rows(store) as (generation, rows):
        for list_id, (person_id, template_id, quality, vector) in rows:
            keys.append((list_id, person_id, template_id))
            qualities.append(quality)
            blobs.append(vector)
    vectors = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), FACE_DIMENSIONS).astype(np.float32)
    return FaceSet(generation, tuple(keys), np.asarray(qualities, dtype=np.float32), vectors)
