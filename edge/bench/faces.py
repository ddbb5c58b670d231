"""`edge bench faces DIR`: verification and identification on a labelled face folder.

Every image is encoded once, as a still (HOG with one upsampling step, the CNN when HOG finds
nothing), without the live quality gates: a benchmark photo is the one there is. Rates are
taken at the configured threshold; the threshold is never fitted to the folder being measured.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge.config import FacesConfig
from edge.faces import dlib_models
from edge.faces.datasets import pair_identities, read_identities, read_pairs
from edge.faces.encoding import face_encoder
from edge.faces.evaluation import (
    false_match_rate,
    false_non_match_rate,
    identification_rates,
    threshold_at_rate,
)
from edge.faces.fusion import NoUsableFace, fuse
from edge.faces.stills import main_face, read_rgb, still_observer


@dataclass(frozen=True, eq=False)
class EncodedImage:
    vector: np.ndarray | None  # None: no face found
    quality: float
    detector: str | None
    observe_ms: float  # detection, landmarks, chip and quality
    encode_ms: float


def encode_images(folder: Path, names: list[str], config: FacesConfig) -> dict[str, EncodedImage]:
    observer = still_observer(config)
    encoder = face_encoder(config)
    dlib_models.load_all()
    encoded = {}
    for name in names:
        rgb = read_rgb(folder / name)
        start = time.perf_counter()
        try:
            face = main_face(rgb, observer)
        except NoUsableFace:
            encoded[name] = EncodedImage(None, 0.0, None, (time.perf_counter() - start) * 1000, 0.0)
            continue
        observed = time.perf_counter()
        vector = encoder.encode([face.chip])[0]
        done = time.perf_counter()
        encoded[name] = EncodedImage(
            vector, face.quality.score, face.detector, (observed - start) * 1000, (done - observed) * 1000
        )
    return encoded


def _timings(encoded: dict[str, EncodedImage]) -> dict[str, float | int]:
    total = np.array([e.observe_ms + e.encode_ms for e in encoded.values()])
    found = [e for e in encoded.values() if e.vector is not None]
    return {
        "images": len(encoded),
        "failed_to_detect": sum(e.vector is None for e in encoded.values()) / max(len(encoded), 1),
        "cnn_fallbacks": sum(e.detector == "cnn" for e in found),
        "median_ms": round(float(np.median(total)), 1) if len(total) else 0.0,
        "p95_ms": round(float(np.percentile(total, 95)), 1) if len(total) else 0.0,
        "detect_median_ms": round(float(np.median([e.observe_ms for e in encoded.values()])), 1) if encoded else 0.0,
        "encode_median_ms": round(float(np.median([e.encode_ms for e in found])), 1) if found else 0.0,
    }


def _scores(encoded: dict[str, EncodedImage], pairs: list[tuple[str, str]]) -> tuple[np.ndarray, int]:
    """Scores of the pairs whose both images have a face, and how many pairs had a failure."""
    scores, failed = [], 0
    for first, second in pairs:
        a, b = encoded[first].vector, encoded[second].vector
        if a is None or b is None:
            failed += 1
        else:
            scores.append(float(np.dot(a, b)))
    return np.asarray(scores, dtype=np.float32), failed


def verification(folder: Path, config: FacesConfig, *, all_impostors: bool, target_fmr: float = 0.001) -> dict:
    """On pairs.tsv; a folder with only identities.csv is compared all against all."""
    if not (folder / "pairs.tsv").is_file() and (folder / "identities.csv").is_file():
        identities = read_identities(folder)
        every = list(itertools.combinations(identities, 2))
        genuine_pairs = [(a, b) for a, b in every if identities[a] == identities[b]]
        impostor_pairs = [(a, b) for a, b in every if identities[a] != identities[b]]
    else:
        pairs = read_pairs(folder)
        identities = pair_identities(pairs)
        genuine_pairs = [(p.first, p.second) for p in pairs if p.same]
        if all_impostors:
            impostor_pairs = [
                (a, b) for a, b in itertools.combinations(sorted(identities), 2) if identities[a] != identities[b]
            ]
        else:
            impostor_pairs = [(p.first, p.second) for p in pairs if not p.same]
    encoded = encode_images(folder, sorted(identities), config)
    return verification_result(encoded, genuine_pairs, impostor_pairs, config.threshold, target_fmr)


def verification_result(
    encoded: dict[str, EncodedImage],
    genuine_pairs: list[tuple[str, str]],
    impostor_pairs: list[tuple[str, str]],
    threshold: float,
    target_fmr: float,
) -> dict:
    genuine, genuine_failed = _scores(encoded, genuine_pairs)
    impostor, impostor_failed = _scores(encoded, impostor_pairs)
    result = {
        "pairs": len(genuine_pairs) + len(impostor_pairs),
        "genuine": len(genuine_pairs),
        "impostors": len(impostor_pairs),
        "threshold": threshold,
        "fmr": round(false_match_rate(impostor, threshold, impostor_failed) or 0.0, 6),
        "fnmr": round(false_non_match_rate(genuine, threshold, genuine_failed) or 0.0, 6),
        **_timings(encoded),
    }
    # For reading only: what a threshold fitted to this very folder would give. The gap to "fnmr"
    # shows how well the configured threshold carried over from the calibration set.
    try:
        fitted = threshold_at_rate(impostor, target_fmr)
        result["fitted_threshold_here"] = round(fitted, 6)
        result["fnmr_at_fitted_threshold"] = round(false_non_match_rate(genuine, fitted, genuine_failed) or 0.0, 6)
    except ValueError:
        pass
    return result


def calibration_scores(folder: Path, config: FacesConfig, min_impostors: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Genuine scores, every-different-identity impostor scores, failed genuine pairs (for calibrate).

    A folder with fewer than `min_impostors` different-identity pairs is refused before any image
    is encoded."""
    pairs = read_pairs(folder)
    identities = pair_identities(pairs)
    impostor_pairs = [
        (a, b) for a, b in itertools.combinations(sorted(identities), 2) if identities[a] != identities[b]
    ]
    if len(impostor_pairs) < min_impostors:
        raise ValueError(f"{len(impostor_pairs)} impostor pairs in {folder}; at least {min_impostors} needed")
    encoded = encode_images(folder, sorted(identities), config)
    genuine, failed = _scores(encoded, [(p.first, p.second) for p in pairs if p.same])
    impostors, _ = _scores(encoded, impostor_pairs)
    return genuine, impostors, failed


def _identify(gallery: dict[str, np.ndarray], probes: list[tuple[str, np.ndarray]]) -> tuple[np.ndarray, ...]:
    """For each (identity, vector) probe: mated top score, whether rank 1 is right, non-mated top score
    (the best score once the probe's own identity is left out of the gallery)."""
    names = sorted(gallery)
    matrix = np.stack([gallery[n] for n in names])
    mated_top, correct, non_mated_top = [], [], []
    for identity, vector in probes:
        scores = matrix @ vector
        best = int(np.argmax(scores))
        mated_top.append(scores[best])
        correct.append(names[best] == identity)
        others = scores[[n != identity for n in names]]
        non_mated_top.append(others.max() if len(others) else -1.0)
    return np.asarray(mated_top), np.asarray(correct, dtype=bool), np.asarray(non_mated_top)


def identification(folder: Path, config: FacesConfig, fpir: float = 0.01) -> dict:
    """Enrol the first image of each identity; probe with the rest. Also compares, per identity, the
    single best probe image (by quality) with the fusion of the best few."""
    identities = (
        read_identities(folder) if (folder / "identities.csv").is_file() else pair_identities(read_pairs(folder))
    )
    encoded = encode_images(folder, list(identities), config)
    vectors = {name: e.vector for name, e in encoded.items() if e.vector is not None}  # the images with a face
    by_identity: dict[str, list[str]] = {}
    for name, identity in identities.items():
        by_identity.setdefault(identity, []).append(name)
    gallery: dict[str, np.ndarray] = {}
    probes: list[tuple[str, np.ndarray]] = []
    single: list[tuple[str, np.ndarray]] = []
    fused: list[tuple[str, np.ndarray]] = []
    failed = 0
    for identity, names in by_identity.items():
        enrolled = next((n for n in names if n in vectors), None)
        if enrolled is None:
            failed += len(names) - 1
            continue
        gallery[identity] = vectors[enrolled]
        rest = [n for n in names if n != enrolled]
        usable = sorted((n for n in rest if n in vectors), key=lambda n: -encoded[n].quality)
        failed += len(rest) - len(usable)
        probes += [(identity, vectors[n]) for n in usable]
        if len(usable) >= 2:
            single.append((identity, vectors[usable[0]]))
            fused.append((identity, fuse(np.stack([vectors[n] for n in usable[: config.best_frames]]))))
    mated_top, correct, _ = _identify(gallery, probes)
    # Non-mated searches: every image with a face, enrolled ones too, against the gallery without
    # its own identity (a person who is not on the list).
    everyone = [(identities[n], vector) for n, vector in vectors.items()]
    non_mated_top = _identify(gallery, everyone)[2]
    fnir, fpir_here = identification_rates(mated_top, correct, non_mated_top, config.threshold, failed)
    result = {
        "identities": len(gallery),
        "probes": len(probes) + failed,
        "non_mated_searches": len(non_mated_top),
        "threshold": config.threshold,
        "fnir": round(fnir or 0.0, 6),
        "fpir": round(fpir_here or 0.0, 6),
        **_timings(encoded),
    }
    if len(non_mated_top) >= round(1 / fpir):
        at = threshold_at_rate(non_mated_top, fpir)
        fnir_at, _ = identification_rates(mated_top, correct, non_mated_top, at, failed)
        result[f"fnir_at_fpir_{fpir:g}"] = round(fnir_at or 0.0, 6)
        result[f"threshold_at_fpir_{fpir:g}"] = round(at, 6)
    result.update(_fusion_comparison(gallery, single, fused))
    return result


def _fusion_comparison(gallery: dict[str, np.ndarray], single: list, fused: list) -> dict:
    """Margin = the mate's score minus the best other identity's: how far the right person stands out."""
    if not single:
        return {}
    names = sorted(gallery)
    matrix = np.stack([gallery[n] for n in names])
    out: dict[str, float | int] = {"fusion_identities": len(single)}
    for label, probes in (("single_best", single), ("fused", fused)):
        margins = []
        for identity, vector in probes:
            scores = matrix @ vector
            others = scores[[n != identity for n in names]]
            margins.append(float(scores[names.index(identity)] - (others.max() if len(others) else -1.0)))
        out[f"{label}_rank1"] = round(float(np.mean(np.asarray(margins) > 0)), 4)
        out[f"{label}_mean_margin"] = round(float(np.mean(margins)), 4)
    return out


def fused_verification(folder: Path, config: FacesConfig, live: int, target_fmr: float = 0.001) -> dict:
    """The kiosk's 1:1 protocol: `live` images of a traveller fused, against one "document" image.

    Every identity with at least live + 1 usable images takes each image in turn as the document,
    and the `live` images after it (in name order, wrapping round) as the live frames. Genuine: the
    fused frames against their document; impostors: against every image of every other identity.
    The same frames one at a time give the single-image figures beside it. FNMR is read at the
    threshold that holds `target_fmr` on these impostors, and at the configured threshold."""
    identities = (
        read_identities(folder) if (folder / "identities.csv").is_file() else pair_identities(read_pairs(folder))
    )
    encoded = encode_images(folder, sorted(identities), config)
    by_identity: dict[str, list[np.ndarray]] = {}
    for name in sorted(encoded):
        if (vector := encoded[name].vector) is not None:
            by_identity.setdefault(identities[name], []).append(vector)
    eligible = {identity: vectors for identity, vectors in by_identity.items() if len(vectors) > live}
    scores: dict[str, tuple[list[float], list[float]]] = {"fused": ([], []), "single": ([], [])}
    for identity, vectors in eligible.items():
        others = np.stack([v for other, vs in by_identity.items() if other != identity for v in vs])
        for d, document in enumerate(vectors):
            frames = [vectors[(d + k) % len(vectors)] for k in range(1, live + 1)]
            for label, probes in (("fused", [fuse(np.stack(frames))]), ("single", frames)):
                genuine, impostor = scores[label]
                genuine += [float(probe @ document) for probe in probes]
                impostor += [float(s) for probe in probes for s in others @ probe]
    result: dict[str, object] = {"identities": len(eligible), "documents": sum(map(len, eligible.values())),
                                 "live_frames": live, "target_fmr": target_fmr}
    for label, (genuine, impostor) in scores.items():
        genuine_scores, impostor_scores = np.asarray(genuine), np.asarray(impostor)
        part: dict[str, object] = {
            "genuine": len(genuine), "impostors": len(impostor),
            "fnmr_at_config_threshold": round(false_non_match_rate(genuine_scores, config.threshold) or 0.0, 6),
            "fmr_at_config_threshold": round(false_match_rate(impostor_scores, config.threshold) or 0.0, 6),
        }
        if len(impostor) >= round(1 / target_fmr):
            at = threshold_at_rate(impostor_scores, target_fmr)
            part.update(threshold_at_target=round(at, 6),
                        fnmr_at_target=round(false_non_match_rate(genuine_scores, at) or 0.0, 6))
        result[label] = part
    return result
