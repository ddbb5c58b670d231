"""The watchlist's enrolled faces as one searchable gallery, built once and then kept up to date.

A gallery is built from any iterable of (template_id, person_id, vector), such as the watchlist
store's enrolled faces, and remembers the face generation it reflects. When the store moves on,
`update` reads the store's rows again and changes only what differs (new, removed and re-enrolled
templates, found by id and a digest of the vector), so a watchlist bundle of a few persons costs
seconds at a million templates, not the minutes of a rebuild. Each template has an integer label
in the index; labels of removed templates are not reused.
"""

from __future__ import annotations

import hashlib
import threading
from array import array
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from edge.faces.encoding import DIMENSIONS, unit
from edge.faces.index import ExactIndex, HnswIndex, VectorIndex, index_kind
from edge.faces.types import SearchCandidate

Row = tuple[str, str, np.ndarray]  # template_id, person_id, vector
_BLOCK = 65_536  # rows gathered at a time while building, to bound the memory of the build
_BUILD_THREADS = 2  # a build has the machine to itself (the service builds before its lanes search)


def digest(vector: np.ndarray) -> int:
    """A 63-bit fingerprint of a template's vector as enrolled, to notice a re-enrolment under the same id."""
    return int.from_bytes(hashlib.blake2b(np.ascontiguousarray(vector).tobytes(), digest_size=8).digest()) >> 1


def _checked(template_id: str, vector: np.ndarray) -> np.ndarray:
    vector = np.asarray(vector, dtype=np.float32)
    if vector.shape != (DIMENSIONS,) or not np.all(np.isfinite(vector)):
        raise ValueError(f"template {template_id!r}: expected {DIMENSIONS} finite numbers, got shape {vector.shape}")
    return vector


@dataclass(frozen=True)
class GalleryUpdate:
    generation: int
    added: int
    removed: int


class Gallery:
    """Templates under labels, and the index over them. Searches and changes may come from any thread.

    Ids and digests sit in flat lists indexed by label (a removed template leaves None): at a
    million templates a dict of tuples would cost a third of a gigabyte more than the lists do."""

    def __init__(self, index: VectorIndex, kind: str, generation: int, template_ids: list[str | None],
                 person_ids: list[str | None], digests: array):
        self._index = index
        self.kind = kind  # "exact" or "hnsw"
        self.generation = generation
        self._template_ids = template_ids
        self._person_ids = person_ids
        self._digests = digests
        self._size = sum(template_id is not None for template_id in template_ids)
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        return self._size

    @property
    def next_label(self) -> int:
        """The label the next template added will get; labels of removed templates are not reused."""
        return len(self._template_ids)

    def entries(self) -> list[tuple[int, str, str, int]]:
        """(label, template_id, person_id, digest) of every template, by label."""
        with self._lock:
            return [
                (label, template_id, person_id, digest)
                for label, (template_id, person_id, digest) in enumerate(
                    zip(self._template_ids, self._person_ids, self._digests, strict=True)
                )
                if template_id is not None and person_id is not None
            ]

    @property
    def index(self) -> VectorIndex:
        return self._index

    def search(self, probe: np.ndarray, k: int, threshold: float) -> list[SearchCandidate]:
        with self._lock:
            if not self._size:
                return []
            labels, scores = self._index.search(unit(np.asarray(probe, dtype=np.float32)), k)
            found = [
                (self._template_ids[label] or "", self._person_ids[label] or "", float(score))
                for label, score in zip(labels.tolist(), scores, strict=True)
            ]
        return [
            SearchCandidate(template_id=template_id, person_id=person_id, score=score, rank=rank,
                            above_threshold=bool(score >= threshold))
            for rank, (template_id, person_id, score) in enumerate(found, start=1)
        ]

    def update(self, rows: Iterable[Row], generation: int) -> GalleryUpdate:
        """Make the gallery hold exactly `rows` (the store's templates at `generation`)."""
        labels = {template_id: label for label, template_id in enumerate(self._template_ids) if template_id}
        kept = np.zeros(self.next_label, bool)
        new: list[tuple[str, str, int, np.ndarray]] = []
        for template_id, person_id, vector in rows:
            vector = _checked(template_id, vector)
            fingerprint = digest(vector)
            label = labels.get(template_id)
            if label is not None and self._person_ids[label] == person_id and self._digests[label] == fingerprint:
                kept[label] = True
            else:
                new.append((template_id, person_id, fingerprint, vector))
        del labels
        with self._lock:
            gone = np.flatnonzero(~kept & np.fromiter((t is not None for t in self._template_ids), bool, len(kept)))
            if len(gone):
                self._index.remove(gone)
            for label in gone.tolist():
                self._template_ids[label] = self._person_ids[label] = None
            if new:
                first = self.next_label
                self._index.add(unit(np.stack([vector for *_, vector in new])),
                                np.arange(first, first + len(new), dtype=np.int64))
                for template_id, person_id, fingerprint, _ in new:
                    self._template_ids.append(template_id)
                    self._person_ids.append(person_id)
                    self._digests.append(fingerprint)
            self._size += len(new) - len(gone)
            self.generation = generation
        return GalleryUpdate(generation, len(new), len(gone))


def build_gallery(rows: Iterable[Row], generation: int, *, kind: str = "auto", exact_max: int = 20_000,
                  expected: int | None = None) -> Gallery:
    """A gallery of `rows`; vectors are made unit length. `expected`: how many rows are coming,
    if known, so that a large gallery's graph is sized once and filled block by block (the rows
    are never all in memory at once)."""
    template_ids: list[str | None] = []
    person_ids: list[str | None] = []
    digests = array("q")
    held: list[np.ndarray] = []  # unit vectors not in a graph: all of them, for an exact index
    graph: HnswIndex | None = None
    block = np.empty((_BLOCK, DIMENSIONS), np.float32)
    filled = 0

    def flush() -> None:
        nonlocal graph
        held.append(unit(block[:filled]))
        count = len(template_ids)
        if graph is None and index_kind(count, kind, exact_max) == "hnsw":
            graph = HnswIndex.empty(max(expected or 0, count))
        if graph is not None:
            vectors = np.concatenate(held)
            held.clear()
            if len(vectors):
                graph.add(vectors, np.arange(count - len(vectors), count), threads=_BUILD_THREADS)

    for template_id, person_id, vector in rows:
        vector = _checked(template_id, vector)
        template_ids.append(template_id)
        person_ids.append(person_id)
        digests.append(digest(vector))
        block[filled] = vector
        filled += 1
        if filled == _BLOCK:
            flush()
            filled = 0
    flush()
    if graph is not None:
        return Gallery(graph, "hnsw", generation, template_ids, person_ids, digests)
    vectors = np.concatenate(held)
    exact = ExactIndex(vectors, np.arange(len(vectors), dtype=np.int64))
    return Gallery(exact, "exact", generation, template_ids, person_ids, digests)
