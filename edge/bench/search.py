"""`edge bench search --size N`: 1:N search latency and recall against exact search.

There are no million real faces to enrol, so templates are synthetic (seeded), in two kinds:

- `faces` (default): shaped like dlib descriptors of real faces. Measured on faces/lfw, unit
  descriptors share a common direction (their mean has norm 0.92) and vary around it with an
  effective dimension of about 27 (participation ratio of the covariance spectrum); unrelated
  faces have cosine 0.84 +- 0.035, two photos of one person 0.955 +- 0.018. The synthetic ones
  follow the same numbers: a common direction plus Gaussian variation with a power-law spectrum
  (i^-0.87, participation ratio 27) in a random basis; a probe is an enrolled template plus
  variation of the same shape scaled to cosine 0.955.
- `uniform`: random directions in all 128 dimensions, probes at cosine 0.83 to their source;
  the worst case for a graph index (nothing like real faces, which cluster).

recall_at_1 is how often the index's first answer is exact search's first answer.

Templates are made block by block from a seed, never all held at once, so the bench's memory is
the gallery's (as in the service) plus one block. After the timed searches, the gallery is saved,
loaded back (timed), searched again (the loaded copy must answer as the built one did), and given
a delta: `--delta` templates removed and as many new ones added, through `Gallery.update` over
every row, as a watchlist bundle does it in the service.
"""

from __future__ import annotations

import os
import resource
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from itertools import chain
from pathlib import Path
from typing import Protocol

import numpy as np

from edge.faces.encoding import DIMENSIONS, unit
from edge.faces.gallery import Gallery, Row, build_gallery
from edge.faces.gallery_file import load_gallery, save_gallery
from edge.faces.index import HNSW_EF_SEARCH, HnswIndex
from edge.service.proc import rss_mb

_BLOCK = 65_536  # templates made (and scanned by the exact reference) at a time
# Face-like templates (see the module docstring).
_COMMON = 0.92  # length of the shared direction before normalising
_SPREAD = 0.16  # total variance around it
_SPECTRUM_POWER = 0.87
_GENUINE_COSINE = 0.955
# Uniform templates: noise per dimension; |noise| about 0.68, cosine to the source about 0.83.
_UNIFORM_NOISE = 0.06


class TemplateMaker(Protocol):
    def templates(self, rng: np.random.Generator, n: int) -> np.ndarray: ...

    def probes(self, rng: np.random.Generator, sources: np.ndarray) -> np.ndarray: ...


class FaceLike:
    def __init__(self, seed: int):
        rng = np.random.default_rng(seed)
        spectrum = np.arange(1, DIMENSIONS + 1, dtype=np.float64) ** -_SPECTRUM_POWER
        spectrum *= _SPREAD / spectrum.sum()
        basis, _ = np.linalg.qr(rng.standard_normal((DIMENSIONS, DIMENSIONS)))
        self._shape = (np.sqrt(spectrum)[:, None] * basis.T).astype(np.float32)  # z @ shape: variation
        self._common = unit(rng.standard_normal(DIMENSIONS).astype(np.float32)) * _COMMON
        # |noise|^2 = 1/cos^2 - 1 puts a unit vector plus noise at the genuine cosine from where it started.
        self._noise_scale = np.sqrt((1 / _GENUINE_COSINE**2 - 1) / _SPREAD)

    def templates(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return unit(self._common + rng.standard_normal((n, DIMENSIONS), dtype=np.float32) @ self._shape)

    def probes(self, rng: np.random.Generator, sources: np.ndarray) -> np.ndarray:
        noise = rng.standard_normal(sources.shape, dtype=np.float32) @ self._shape
        return unit(sources + self._noise_scale * noise)


class Uniform:
    def __init__(self, seed: int):
        pass

    def templates(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return unit(rng.standard_normal((n, DIMENSIONS), dtype=np.float32))

    def probes(self, rng: np.random.Generator, sources: np.ndarray) -> np.ndarray:
        return unit(sources + rng.standard_normal(sources.shape, dtype=np.float32) * _UNIFORM_NOISE)


TEMPLATE_KINDS: dict[str, Callable[[int], TemplateMaker]] = {"faces": FaceLike, "uniform": Uniform}


class Templates:
    """`size` templates of one kind, made again identically block by block whenever asked."""

    def __init__(self, kind: str, size: int, seed: int):
        self._maker = TEMPLATE_KINDS[kind](seed)
        self._size = size
        self._seed = seed

    def blocks(self, first: int = 0) -> Iterator[tuple[int, np.ndarray]]:
        """(first row, templates) of each block, the rows numbered from `first`."""
        for number, start in enumerate(range(0, self._size, _BLOCK)):
            rng = np.random.default_rng([self._seed, number, first])
            yield first + start, self._maker.templates(rng, min(_BLOCK, self._size - start))

    def rows(self, first: int = 0, skip: int = 0) -> Iterator[Row]:
        """(t<row>, p<row>, vector) of every template, without the first `skip`."""
        for start, block in self.blocks(first):
            for offset in range(max(0, skip - start + first), len(block)):
                yield f"t{start + offset}", f"p{start + offset}", block[offset]

    def probes(self, queries: int) -> np.ndarray:
        """Probes of randomly chosen templates: each one its template plus genuine-like variation."""
        rng = np.random.default_rng([self._seed, 1 << 30])
        chosen = rng.integers(0, self._size, queries)
        sources = np.empty((queries, DIMENSIONS), np.float32)
        for start, block in self.blocks():
            inside = (chosen >= start) & (chosen < start + len(block))
            sources[inside] = block[chosen[inside] - start]
        return self._maker.probes(rng, sources)

    def exact_top1(self, probes: np.ndarray) -> np.ndarray:
        """The row exact search ranks first for each probe."""
        best_score = np.full(len(probes), -np.inf, dtype=np.float32)
        best_row = np.zeros(len(probes), dtype=np.int64)
        for start, block in self.blocks():
            scores = block @ probes.T
            rows = scores.argmax(axis=0)
            top = scores[rows, np.arange(len(probes))]
            better = top > best_score
            best_score[better] = top[better]
            best_row[better] = rows[better] + start
        return best_row


def _searched(gallery: Gallery, probes: np.ndarray, top_k: int) -> tuple[list[float], np.ndarray]:
    latencies, answers = [], []
    for probe in probes:
        started = time.perf_counter()
        candidates = gallery.search(probe, k=top_k, threshold=1.0)
        latencies.append((time.perf_counter() - started) * 1000)
        answers.append(int(candidates[0].template_id[1:]))
    return latencies, np.asarray(answers)


def _by_breadth(gallery: Gallery, probes: np.ndarray, top_k: int, exact: np.ndarray,
                breadths: tuple[int, ...]) -> list[dict]:
    """The HNSW graph's figures at each search breadth; the shipped breadth is set again afterwards."""
    assert isinstance(gallery.index, HnswIndex)
    figures = []
    for ef in breadths:
        gallery.index.set_search_breadth(ef)
        times, found = _searched(gallery, probes, top_k)
        figures.append({"ef": ef, **_figures(times, found, exact)})
    gallery.index.set_search_breadth(HNSW_EF_SEARCH)
    return figures


def run(size: int, queries: int, kind: str, exact_max: int, top_k: int, templates: str = "faces",
        seed: int = 0, delta: int = 1000, breadths: tuple[int, ...] = ()) -> dict:
    """`breadths`: HNSW search breadths (ef) to measure besides the shipped one, on the same graph."""
    made = Templates(templates, size, seed)
    probes = made.probes(queries)
    exact = made.exact_top1(probes)

    rss_before = rss_mb(os.getpid())
    started = time.perf_counter()
    gallery = build_gallery(made.rows(), generation=1, kind=kind, exact_max=exact_max, expected=size)
    build_s = time.perf_counter() - started
    gallery_mb = rss_mb(os.getpid()) - rss_before
    by_breadth = _by_breadth(gallery, probes, top_k, exact, breadths) if isinstance(gallery.index, HnswIndex) else []
    latencies, answers = _searched(gallery, probes, top_k)

    folder = Path(tempfile.mkdtemp(prefix="edge-bench-search-"))
    try:
        started = time.perf_counter()
        save_gallery(gallery, folder / "gallery")
        save_s = time.perf_counter() - started
        del gallery
        started = time.perf_counter()
        loaded = load_gallery(folder / "gallery")
        load_s = time.perf_counter() - started
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert loaded is not None
    _, loaded_answers = _searched(loaded, probes[:100], top_k)

    removed = min(delta, size)
    new = Templates(templates, delta, seed + 1)  # another seed: templates unlike any enrolled
    started = time.perf_counter()
    change = loaded.update(chain(made.rows(skip=removed), new.rows(first=size)), generation=2)
    delta_s = time.perf_counter() - started
    new_probe = next(new.blocks(first=size))[1][0] if delta else None
    return {
        "size": size,
        "kind": loaded.kind,
        "templates": templates,
        "queries": queries,
        "build_s": round(build_s, 1),
        **_figures(latencies, answers, exact),
        # Peak of the whole bench process (the gallery, one block of templates, and the reloaded
        # copy's ids while the built one is freed); gallery_mb is what the built gallery added.
        "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "gallery_mb": round(gallery_mb, 1),
        "save_s": round(save_s, 1),
        "load_s": round(load_s, 1),
        "loaded_answers_same": bool(np.array_equal(loaded_answers, answers[:100])),
        "delta": {"added": change.added, "removed": change.removed, "seconds": round(delta_s, 1),
                  "size_after": loaded.size,
                  "new_template_found": bool(new_probe is None
                                             or loaded.search(new_probe, 1, 1.0)[0].template_id == f"t{size}")},
        **({"ef": HNSW_EF_SEARCH, "by_ef": by_breadth} if by_breadth else {}),
    }


def _figures(latencies: list[float], answers: np.ndarray, exact: np.ndarray) -> dict:
    return {
        "p50_ms": round(float(np.percentile(latencies, 50)), 3),
        "p99_ms": round(float(np.percentile(latencies, 99)), 3),
        "recall_at_1": round(float(np.mean(answers == exact)), 4),
    }
