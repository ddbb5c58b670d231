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
"""

from __future__ import annotations

import resource
import time

import numpy as np

from edge.faces.encoding import DIMENSIONS, unit
from edge.faces.index import build_gallery

_EXACT_CHUNK = 65_536  # rows of the exact reference search at a time, to bound memory
# Face-like templates (see the module docstring).
_COMMON = 0.92  # length of the shared direction before normalising
_SPREAD = 0.16  # total variance around it
_SPECTRUM_POWER = 0.87
_GENUINE_COSINE = 0.955
# Uniform templates: noise per dimension; |noise| about 0.68, cosine to the source about 0.83.
_UNIFORM_NOISE = 0.06


def _face_like(rng: np.random.Generator, size: int, queries: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    spectrum = np.arange(1, DIMENSIONS + 1, dtype=np.float64) ** -_SPECTRUM_POWER
    spectrum *= _SPREAD / spectrum.sum()
    basis, _ = np.linalg.qr(rng.standard_normal((DIMENSIONS, DIMENSIONS)))
    shape = (np.sqrt(spectrum)[:, None] * basis.T).astype(np.float32)  # z @ shape: variation in the random basis
    common = unit(rng.standard_normal(DIMENSIONS).astype(np.float32)) * _COMMON
    vectors = np.empty((size, DIMENSIONS), np.float32)
    for start in range(0, size, _EXACT_CHUNK):
        n = min(_EXACT_CHUNK, size - start)
        vectors[start : start + n] = unit(common + rng.standard_normal((n, DIMENSIONS), dtype=np.float32) @ shape)
    sources = rng.integers(0, size, queries)
    # |noise|^2 = 1/cos^2 - 1 puts a unit vector plus noise at the genuine cosine from where it started.
    noise_scale = np.sqrt((1 / _GENUINE_COSINE**2 - 1) / _SPREAD)
    probes = unit(vectors[sources] + noise_scale * rng.standard_normal((queries, DIMENSIONS), dtype=np.float32) @ shape)
    return vectors, sources, probes


def _uniform(rng: np.random.Generator, size: int, queries: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    vectors = unit(rng.standard_normal((size, DIMENSIONS), dtype=np.float32))
    sources = rng.integers(0, size, queries)
    probes = unit(vectors[sources] + rng.standard_normal((queries, DIMENSIONS), dtype=np.float32) * _UNIFORM_NOISE)
    return vectors, sources, probes


TEMPLATE_KINDS = {"faces": _face_like, "uniform": _uniform}


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


def run(
    size: int, queries: int, kind: str, exact_max: int, top_k: int, templates: str = "faces", seed: int = 0
) -> dict:
    rng = np.random.default_rng(seed)
    vectors, _, probes = TEMPLATE_KINDS[templates](rng, size, queries)

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
        "templates": templates,
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
