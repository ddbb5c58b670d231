"""One lane at run time: its cameras, its presence detector and its state machine.

A worker thread takes the newest plate-camera frame, runs the per-frame steps on it and feeds
the resulting events to the lane's state machine; everything the kiosk should see goes out
through the broadcaster as a whole lane snapshot. The state machine is touched only under the
lane's lock, so device callbacks from other threads can feed it too.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict, dataclass

import cv2
import numpy as np

from edge.capture import CameraReader, CameraStatus
from edge.config import LaneConfig
from edge.lane import LaneEvent, LaneSnapshot, LaneStateMachine
from edge.presence import PresenceDetector
from edge.pubsub import Broadcaster

log = logging.getLogger(__name__)

CAMERA_ROLES = ("plate", "face")
_PREVIEW_WIDTH = 640  # the kiosk shows cameras as tiles; full 720p would cost CPU and bandwidth for nothing
_PREVIEW_QUALITY = 70
_FRAME_WAIT_S = 0.5  # how long the worker waits for a new frame before it checks timeouts anyway


@dataclass(frozen=True)
class Preview:
    seq: int
    jpeg: bytes


@dataclass(frozen=True)
class LaneView:
    """What the kiosk shows of a lane: its state and the state of each camera."""

    lane_id: str
    name: str
    snapshot: LaneSnapshot
    cameras: dict[str, CameraStatus]

    def to_json(self) -> dict:
        return asdict(self)


def encode_preview(image: np.ndarray) -> bytes:
    height = round(image.shape[0] * _PREVIEW_WIDTH / image.shape[1])
    small = cv2.resize(image, (_PREVIEW_WIDTH, height), interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, _PREVIEW_QUALITY])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return jpeg.tobytes()


class LaneRuntime:
    def __init__(self, config: LaneConfig, broadcaster: Broadcaster):
        self.config = config
        self._broadcaster = broadcaster
        self._lock = threading.Lock()
        self._machine = LaneStateMachine(config.id, config.timeouts, now=time.time())
        self._presence = PresenceDetector(config.presence, config.cameras.plate.roi)
        self.cameras = {
            role: CameraReader(
                f"{config.id}/{role}",
                camera.url,
                fps=camera.fps,
                stall_timeout=camera.stall_timeout_s,
                backoff_initial=camera.backoff_initial_s,
                backoff_max=camera.backoff_max_s,
                on_status=self._camera_changed,
            )
            for role, camera in (("plate", config.cameras.plate), ("face", config.cameras.face))
        }
        self._previews: dict[str, Preview] = {}
        self._stop = threading.Event()
        self._worker = threading.Thread(target=self._run, name=f"lane-{config.id}", daemon=True)
        self.frames_processed = 0

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        for camera in self.cameras.values():
            camera.start()
        self._worker.start()

    def stop(self) -> None:
        self._stop.set()
        if self._worker.is_alive():
            self._worker.join(timeout=5)
        for camera in self.cameras.values():
            camera.stop()

    # -- what the kiosk reads ---------------------------------------------------------------

    def view(self) -> LaneView:
        with self._lock:
            snapshot = self._machine.snapshot
        return LaneView(
            lane_id=self.config.id,
            name=self.config.name,
            snapshot=snapshot,
            cameras={role: camera.status() for role, camera in self.cameras.items()},
        )

    def preview(self, role: str) -> Preview | None:
        """The newest frame of camera `role` as a small JPEG, encoded once per frame however many viewers."""
        frame = self.cameras[role].latest()
        if frame is None:
            return None
        with self._lock:
            cached = self._previews.get(role)
        if cached is not None and cached.seq == frame.seq:
            return cached
        preview = Preview(frame.seq, encode_preview(frame.image))
        with self._lock:
            self._previews[role] = preview
        return preview

    # -- inputs -----------------------------------------------------------------------------

    def feed(self, event: LaneEvent) -> None:
        """Apply an event from any thread (presence detector, devices, readers)."""
        with self._lock:
            snapshot = self._machine.handle(event)
        if snapshot is not None:
            self._announce(snapshot)

    def tick(self, now: float) -> None:
        with self._lock:
            snapshot = self._machine.tick(now)
        if snapshot is not None:
            self._announce(snapshot)

    def _announce(self, snapshot: LaneSnapshot) -> None:
        log.info(
            "lane %s: %s (%s)", snapshot.lane_id, snapshot.state, snapshot.note,
            extra={"lane": snapshot.lane_id, "crossing": snapshot.crossing_id},
        )
        self._broadcaster.publish({"type": "lane", "lane": self.view().to_json()})

    def _camera_changed(self, _status: CameraStatus) -> None:
        # The camera reader logs its own state changes; the kiosk needs them with the lane's state.
        self._broadcaster.publish({"type": "lane", "lane": self.view().to_json()})

    def _run(self) -> None:
        plate = self.cameras["plate"]
        seq = 0
        while not self._stop.is_set():
            frame = plate.wait_newer(seq, timeout=_FRAME_WAIT_S)
            if frame is not None:
                seq = frame.seq
                try:
                    for event in self._presence.update(frame.image, frame.captured_at):
                        self.feed(event)
                except Exception:
                    # One bad frame must not stop the lane; the next frame is a fresh chance.
                    log.exception("frame %d could not be processed", frame.seq, extra={"lane": self.config.id})
                self.frames_processed += 1
            self.tick(time.time())
