"""The synthetic scene as a camera: renders the lane at wall-clock time, paced at a frame rate.

Rendering at time.time() (not at a frame counter) keeps the plate camera, the face camera and
the simulated devices in other processes looking at the same moment of the same scene.
"""

from __future__ import annotations

import importlib
import time

import numpy as np

from edge.capture.images import to_bgr
from edge.capture.model import CaptureError
from edge.capture.pacing import Pacer

CAMERAS = ("plate", "face")


class SyntheticSource:
    def __init__(self, lane_id: str, camera: str, *, seed: int, fps: float, url: str) -> None:
        try:
            # Imported here so that capture works without the scene renderer and its fonts.
            scene_for = importlib.import_module("edge.synthetic").scene_for
        except (ImportError, AttributeError) as exc:
            raise CaptureError(url, f"synthetic scene not available: {exc}") from None
        self._scene = scene_for(lane_id, seed)
        self._camera = camera
        self._url = url
        self.fps = fps
        self._pacer = Pacer(fps)

    def read(self) -> np.ndarray:
        self._pacer.wait()
        return to_bgr(self._scene.render(self._camera, time.time()), self._url)

    def close(self) -> None:
        """The scene holds nothing open."""
