"""Vector indexes for 1:N search: unit vectors under integer labels, searched by inner product.

Small watchlists are searched exactly (one matrix-vector product). Large ones use an HNSW graph
(hnswlib), chosen after measuring faiss-cpu, usearch and hnswlib on this machine class (2 shared
cores, noisy). With 100,000 random unit vectors and the same graph settings (M=16, search breadth
64) all three found the exact nearest template 91-93% of the time; query p50/p99 were hnswlib
0.19/0.34 ms, faiss HNSW 0.25/6.6 ms, usearch 0.96/3.5 ms. faiss IVF-flat builds fast but, on
templates shaped like real face descriptors, reached only 0.94 while scanning an eighth of the
lists; faiss IVF-SQ8 at 1,000,000 reached 0.85. Both indexes take additions and removals in place,
so a watchlist bundle changes the index without a rebuild (gallery.py works out what changed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from edge.faces.encoding import DIMENSIONS

# HNSW graph degree, build breadth and search breadth, measured with face-like templates (`edge
# bench search`, 200,000 templates, recall@1 at search breadth 800, build on 2 idle cores): M=32
# with ef_construction=100 0.981 (built in 60 s), M=48 0.987 (63 s), M=24 with ef_construction=200
# 0.986 (85 s), M=32 with 200 0.990 (99 s). Real descriptors crowd into one cone (unrelated faces
# at cosine 0.84), so the graph needs more edges than random data does; a wider build costs more
# time than a wider search, and a million templates must build within 15 minutes.
HNSW_M = 48
HNSW_EF_CONSTRUCTION = 100
HNSW_EF_SEARCH = 800


class VectorIndex(Protocol):
    def search(self, probe: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(labels, scores) of the k most similar vectors, best first."""
        ...

    def add(self, vectors: np.ndarray, labels: np.ndarray) -> None:
        """Unit vectors under new labels."""
        ...

    def remove(self, labels: np.ndarray) -> None: ...

    def save(self, folder: Path) -> None: ...


class ExactIndex:
    VECTORS = "vectors.npy"
    LABELS = "labels.npy"

    def __init__(self, vectors: np.ndarray, labels: np.ndarray):
        self._vectors = vectors
        self._labels = labels

    def search(self, probe: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        scores = self._vectors @ probe
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        order = top[np.argsort(-scores[top], kind="stable")]
        return self._labels[order], scores[order]

    def add(self, vectors: np.ndarray, labels: np.ndarray) -> None:
        self._vectors = np.concatenate([self._vectors, vectors])
        self._labels = np.concatenate([self._labels, labels.astype(np.int64)])

    def remove(self, labels: np.ndarray) -> None:
        keep = ~np.isin(self._labels, labels)
        self._vectors, self._labels = self._vectors[keep], self._labels[keep]

    def save(self, folder: Path) -> None:
        np.save(folder / self.VECTORS, self._vectors, allow_pickle=False)
        np.save(folder / self.LABELS, self._labels, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, count: int) -> ExactIndex:
        vectors = np.load(folder / cls.VECTORS, allow_pickle=False)
        labels = np.load(folder / cls.LABELS, allow_pickle=False)
        if vectors.shape != (count, DIMENSIONS) or vectors.dtype != np.float32 or labels.shape != (count,):
            raise ValueError(f"{folder}: expected {count} float32 vectors of {DIMENSIONS} and their labels, "
                             f"found {vectors.dtype} {vectors.shape} and {labels.shape}")
        return cls(vectors, labels.astype(np.int64))


class HnswIndex:
    FILE = "index.hnsw"

    def __init__(self, index, deleted: int = 0):
        self._index = index
        # Removed templates still hold their slots until new ones take them; hnswlib's Python
        # binding does not say how many, so the index counts them.
        self._deleted = deleted
        self._index.set_ef(HNSW_EF_SEARCH)
        # One query is one thread; the lanes' searches run in parallel threads of their own.
        self._index.set_num_threads(1)

    @classmethod
    def empty(cls, capacity: int) -> HnswIndex:
        import hnswlib  # imported here: only large watchlists pay for it

        index = hnswlib.Index(space="ip", dim=DIMENSIONS)
        # Removed templates leave their slots to the next ones added (allow_replace_deleted).
        index.init_index(max_elements=max(capacity, 1), ef_construction=HNSW_EF_CONSTRUCTION, M=HNSW_M,
                         allow_replace_deleted=True)
        return cls(index)

    @property
    def count(self) -> int:
        """Vectors held (removed ones not counted)."""
        return self._index.get_current_count() - self._deleted

    def set_search_breadth(self, ef: int) -> None:
        """How many candidates a search keeps (hnswlib's ef): recall against time, for benches."""
        self._index.set_ef(ef)

    def search(self, probe: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, self.count)
        labels, distances = self._index.knn_query(probe, k=k)
        # hnswlib's "ip" distance is 1 - inner product.
        return labels[0].astype(np.int64), (1.0 - distances[0]).astype(np.float32)

    def add(self, vectors: np.ndarray, labels: np.ndarray, threads: int = 1) -> None:
        free = self._index.get_max_elements() - self._index.get_current_count() + self._deleted
        if len(vectors) > free:
            # Grow by half again at least, so that a stream of small bundles does not copy the graph each time.
            grown = self._index.get_max_elements() + max(len(vectors) - free, self._index.get_max_elements() // 2)
            self._index.resize_index(grown)
        self._index.set_num_threads(threads)
        try:
            self._index.add_items(vectors, labels, replace_deleted=True)
        finally:
            self._index.set_num_threads(1)
        self._deleted -= min(self._deleted, len(vectors))  # new templates fill removed ones' slots first

    def remove(self, labels: np.ndarray) -> None:
        for label in labels:
            self._index.mark_deleted(int(label))
        self._deleted += len(labels)

    def save(self, folder: Path) -> None:
        self._index.save_index(str(folder / self.FILE))

    @classmethod
    def load(cls, folder: Path, count: int) -> HnswIndex:
        """The saved index, which the gallery's ids say holds `count` templates (and maybe removed ones)."""
        import hnswlib

        index = hnswlib.Index(space="ip", dim=DIMENSIONS)
        index.load_index(str(folder / cls.FILE), allow_replace_deleted=True)
        if index.get_current_count() < count:
            raise ValueError(f"{folder / cls.FILE} holds {index.get_current_count()} templates, not {count}")
        return cls(index, deleted=index.get_current_count() - count)


def index_kind(size: int, configured: str, exact_max: int) -> str:
    if configured != "auto":
        return configured
    return "exact" if size <= exact_max else "hnsw"
