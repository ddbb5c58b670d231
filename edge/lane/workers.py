"""The lane's two worker loops: one per camera, each always taking that camera's newest frame.

The plate camera's worker also keeps the lane's clock (timeouts, auto-clear), announces what changed
outside the lane's lock, and feeds the service's watchdog: its progress is the lane's progress. The
face camera's worker runs the face steps only while a crossing is being read. A frame that fails
is logged and skipped: the next frame is a fresh chance.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

import numpy as np

from edge.capture import CameraReader

log = logging.getLogger(__name__)

_FRAME_WAIT_S = 0.5  # how long a worker waits for a new frame before it checks timeouts anyway


class WorkedLane(Protocol):
    """What the worker loops need of the lane (LaneRuntime provides it)."""

    frames_processed: int

    def plate_frame(self, image: np.ndarray, at: float) -> None: ...
    def face_frame(self, image: np.ndarray, at: float) -> None: ...
    def reading_faces(self) -> bool: ...
    def tick(self, now: float) -> None: ...
    def announce_if_changed(self) -> None: ...
    def beat(self) -> None: ...


class CameraWorkers:
    def __init__(self, lane_id: str, lane: WorkedLane, cameras: dict[str, CameraReader]):
        self._lane_id = lane_id
        self._lane = lane
        self._cameras = cameras
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run_plate_camera, name=f"{lane_id}-plate", daemon=True),
            threading.Thread(target=self._run_face_camera, name=f"{lane_id}-face", daemon=True),
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout=5)

    def _run_plate_camera(self) -> None:
        camera, lane = self._cameras["plate"], self._lane
        seq = 0
        while not self._stop.is_set():
            frame = camera.wait_newer(seq, timeout=_FRAME_WAIT_S)
            if frame is not None:
                seq = frame.seq
                try:
                    lane.plate_frame(frame.image, frame.captured_at)
                except Exception:
                    log.exception("plate frame %d could not be processed", frame.seq, extra={"lane": self._lane_id})
                lane.frames_processed += 1
            lane.tick(time.time())
            lane.announce_if_changed()
            lane.beat()

    def _run_face_camera(self) -> None:
        camera, lane = self._cameras["face"], self._lane
        seq = 0
        while not self._stop.is_set():
            frame = camera.wait_newer(seq, timeout=_FRAME_WAIT_S)
            if frame is None:
                continue
            seq = frame.seq
            if not lane.reading_faces():
                continue
            try:
                lane.face_frame(frame.image, frame.captured_at)
            except Exception:
                log.exception("face frame %d could not be processed", frame.seq, extra={"lane": self._lane_id})
