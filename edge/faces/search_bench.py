"""`edge bench search --size N`: 1:N search latency and recall against exact search.

There are no million real faces to enrol, so the templates are random unit vectors in 128-d
(seeded). That is a hard case for an approximate index: real face descriptors cluster, random
ones spread evenly. Each probe is an enrolled template plus noise (cosine about 0.83 to it, where
unrelated templates sit near 0), as a live face is a noisy view of an enrolled one. recall_at_1
is how often the index's first answer is exact search's first answer.
"""

from __future__ import annotations

import resource
import time

import numpy as np

from edge.faces.encoding import DIMENSIONS, unit
from edge.faces.index import build_gallery

_PROBE_NOISE = 0.06  # per dimension; |noise| is about 0.68, so cosine to the source is about 0.83
_EXACT_CHUNK = 65_536  # rows of the exact reference search at a time, to bound memory


def _current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def _exact_top1(vectors: np.ndarray, probes: np.ndarray) -> np.ndarray:
    best_score = np.full(len(probes), -np.inf, dtype=np.float32)
    best_row = np.zeros(len(probes), dtype=np.int64)
    for start in range(0, len(vectors), _EXACT_CHUNK):
        scores = vectors[start : start + _EXACT_CHUNK] @ probes.T
        rows = scores.argmax(axis=0)
        top = scores[rows, np.arange(len(probes))]
        better = top > best_score
        best_score[better] = top[better]
        best_row[better] = rows[better] + start
    return best_row


def run(size: int, queries: int, kind: str, exact_max: int, top_k: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    vectors = unit(rng.standard_normal((size, DIMENSIONS), dtype=np.float32))
    sources = rng.integers(0, size, queries)
    probes = unit(vectors[sources] + rng.standard_normal((queries, DIMENSIONS), dtype=np.float32) * _PROBE_NOISE)

    rss_before = _current_rss_mb()
    started = time.perf_counter()
    rows = ((f"t{i}", f"p{i}", vectors[i]) for i in range(size))
    gallery = build_gallery(rows, generation=1, kind=kind, exact_max=exact_max)
    build_s = time.perf_counter() - started
    gallery_mb = _current_rss_mb() - rss_before

    latencies, answers = [], []
    for probe in probes:
        t0 = time.perf_counter()
        candidates = gallery.search(probe, k=top_k, threshold=1.0)
        latencies.append((time.perf_counter() - t0) * 1000)
        answers.append(int(candidates[0].template_id[1:]))
    exact = _exact_top1(vectors, probes)
    return {
        "size": size,
        "kind": gallery.kind,
        "queries": queries,
        "build_s": round(build_s, 1),
        "p50_ms": round(float(np.percentile(latencies, 50)), 3),
        "p99_ms": round(float(np.percentile(latencies, 99)), 3),
        # Peak of the whole bench process, which also holds the templates (size x 512 bytes) for the
        # exact reference; gallery_mb is what the built gallery itself added.
        "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "gallery_mb": round(gallery_mb, 1),
        "recall_at_1": round(float(np.mean(np.asarray(answers) == exact)), 4),
    }
