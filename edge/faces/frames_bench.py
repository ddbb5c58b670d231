"""`edge bench face-frames`: detection + quality per 1280x720 face-camera frame, and encoding per face.

Frames come from the synthetic lane (edge.synthetic), the driver at the car window, where its
ground truth says a whole face is in view. Ground truth is only used to count what was missed.
"""

from __future__ import annotations

import time

import cv2
import numpy as np

from edge.config import FacesConfig
from edge.faces.detection import FaceDetector
from edge.faces.encoding import FaceEncoder
from edge.faces.observe import FaceObserver


def overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def lane_face_frames(count: int, seed: int, step_s: float = 1.3) -> list[tuple[tuple[float, ...], np.ndarray]]:
    """(true face box, RGB frame) for `count` face-camera frames of the synthetic lane that show a face."""
    from edge.synthetic.scene import FACE_CAMERA, scene_for  # the synthetic scene is only for benches and tests

    scene = scene_for("lane-1", seed)
    frames: list[tuple[tuple[float, ...], np.ndarray]] = []
    t = 0.0
    while len(frames) < count and t < count * 60:
        truth = scene.truth_at(t)
        if truth.face_box is not None:
            frames.append((truth.face_box, cv2.cvtColor(scene.render(FACE_CAMERA, t), cv2.COLOR_BGR2RGB)))
        t += step_s
    return frames


def run(config: FacesConfig, count: int, seed: int) -> dict:
    observer = FaceObserver(config, FaceDetector.for_frames(config))
    encoder = FaceEncoder(config.mirror, config.jitters)
    frames = lane_face_frames(count, seed)
    if frames:
        # Load the models outside the timings: a service loads them once at start.
        encoder.encode([face.chip for face in observer.observe(frames[0][1])])
    observe_ms, encode_ms, found, accepted, sizes = [], [], 0, 0, []
    for truth, rgb in frames:
        start = time.perf_counter()
        faces = observer.observe(rgb)
        observe_ms.append((time.perf_counter() - start) * 1000)
        sizes.append(truth[2])
        match = next(
            (f for f in faces if overlap((f.box.left, f.box.top, f.box.width, f.box.height), truth) > 0.3), None
        )
        if match is None:
            continue
        found += 1
        accepted += match.quality.accepted
        start = time.perf_counter()
        encoder.encode([match.chip])
        encode_ms.append((time.perf_counter() - start) * 1000)
    return {
        "frames": len(frames),
        "face_px_median": round(float(np.median(sizes)), 1) if sizes else 0.0,
        "found": found,
        "accepted": accepted,
        "failed_to_detect": round(1 - found / len(frames), 4) if frames else 0.0,
        "median_ms": round(float(np.median(observe_ms)), 1) if observe_ms else 0.0,
        "p95_ms": round(float(np.percentile(observe_ms, 95)), 1) if observe_ms else 0.0,
        "encode_median_ms": round(float(np.median(encode_ms)), 1) if encode_ms else 0.0,
        "encode_passes": 2 if config.mirror else 1,
    }
