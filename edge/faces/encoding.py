"""128-d descriptors from aligned face chips, with the test-time augmentation the config asks for.

dlib's ResNet gives a descriptor per chip; the mirrored chip gives a second view of the same face
whose average with the first is steadier (measured on faces/lfw: FNMR at FMR 0.1% went from 13.3%
to 10.7% with unit-length descriptors). Jitter (dlib's random crops, flips and colour shifts)
costs one network pass per jitter. The result is always unit length, so dot products are cosine
similarities.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edge.faces import dlib_models

DIMENSIONS = 128


def unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


class FaceEncoder:
    def __init__(self, mirror: bool, jitters: int):
        self._mirror = mirror
        self._jitters = jitters

    def encode(self, chips: Sequence[np.ndarray]) -> np.ndarray:
        """One unit-length descriptor per chip, shape (len(chips), 128)."""
        if not chips:
            return np.zeros((0, DIMENSIONS), np.float32)
        views = list(chips)
        if self._mirror:
            views += [np.ascontiguousarray(chip[:, ::-1]) for chip in chips]
        network = dlib_models.recognition_network()
        with dlib_models.NETWORK_LOCK:
            raw = network.compute_face_descriptor(views, self._jitters)
        descriptors = unit(np.asarray([np.asarray(d) for d in raw], dtype=np.float32))
        n = len(chips)
        if self._mirror:
            descriptors = unit(descriptors[:n] + descriptors[n:])
        return descriptors
