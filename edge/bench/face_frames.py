"""`edge bench face-frames`: detection + quality per 1280x720 face-camera frame, and encoding per face.

Frames come from the synthetic lane (edge.synthetic), the driver at the car window, where its
ground truth says a whole face is in view. Ground truth is only used to count what was missed.
Detection is timed twice per frame: scanning the whole frame (a traveller's first frame), and
looking first where the previous frame's face was (every later frame at the lane).
"""

from __future__ import annotations

import time

import cv2
import numpy as np

from edge.config import FacesConfig
from edge.faces import dlib_models
from edge.faces.detection import as_tuple, overlap
from edge.faces.detectors import frame_detector
from edge.faces.encoding import face_encoder
from edge.faces.observe import FaceObserver

TrueBox = tuple[float, float, float, float]  # (x, y, w, h) in frame pixels, as the scene drew the face


def lane_face_frames(count: int, seed: int, step_s: float = 1.3) -> list[tuple[TrueBox, np.ndarray]]:
    """(true face box, RGB frame) for `count` face-camera frames of the synthetic lane that show a face."""
    from edge.synthetic.scene import FACE_CAMERA, scene_for  # the synthetic scene is only for benches and tests

    scene = scene_for("lane-1", seed)
    frames: list[tuple[TrueBox, np.ndarray]] = []
    t = 0.0
    while len(frames) < count and t < count * 60:
        truth = scene.truth_at(t)
        if truth.face_box is not None:
            frames.append((truth.face_box, cv2.cvtColor(scene.render(FACE_CAMERA, t), cv2.COLOR_BGR2RGB)))
        t += step_s
    return frames


def _matching(faces: list, truth: TrueBox):
    return next((f for f in faces if overlap(as_tuple(f.box), truth) > 0.3), None)


def _stats(values: list[float]) -> tuple[float, float]:
    if not values:
        return 0.0, 0.0
    return round(float(np.median(values)), 1), round(float(np.percentile(values, 95)), 1)


def run(config: FacesConfig, count: int, seed: int, step_s: float) -> dict:
    """Each frame twice: scanned whole, and with the previous frame's face as the place to look first."""
    observer = FaceObserver(config, frame_detector(config))
    encoder = face_encoder(config)
    frames = lane_face_frames(count, seed, step_s)
    dlib_models.load_all()  # outside the timings: a service loads them once at start
    full_ms, tracked_ms, encode_ms, sizes = [], [], [], []
    found = tracked_found = accepted = 0
    previous = None
    for truth, rgb in frames:
        sizes.append(truth[2])
        start = time.perf_counter()
        faces = observer.observe(rgb)
        full_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        tracked = observer.observe(rgb, near=previous)
        tracked_ms.append((time.perf_counter() - start) * 1000)
        previous = tracked[0].box if tracked else None
        tracked_found += _matching(tracked, truth) is not None
        match = _matching(faces, truth)
        if match is None:
            continue
        found += 1
        accepted += match.quality.accepted
        start = time.perf_counter()
        encoder.encode([match.chip])
        encode_ms.append((time.perf_counter() - start) * 1000)
    median, p95 = _stats(full_ms)
    tracked_median, tracked_p95 = _stats(tracked_ms)
    return {
        "frames": len(frames),
        "face_px_median": round(float(np.median(sizes)), 1) if sizes else 0.0,
        "found": found,
        "accepted": accepted,
        "failed_to_detect": round(1 - found / len(frames), 4) if frames else 0.0,
        "median_ms": median,
        "p95_ms": p95,
        "tracked_found": tracked_found,
        "tracked_median_ms": tracked_median,
        "tracked_p95_ms": tracked_p95,
        "encode_median_ms": _stats(encode_ms)[0],
        "encode_passes": 2 if config.mirror else 1,
    }
