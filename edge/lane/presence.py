"""Vehicle presence from the plate camera: arrived, stopped, left.

The barrier's induction loop is the authoritative presence sensor where one is wired; this
detector covers lanes without one and lets the demo run on cameras alone. It compares a small,
brightness-normalised copy of each frame with a background learnt while the lane is empty, so
that slow light changes (clouds, dusk) do not look like vehicles, and a lighting jump that
changes the view at once and then holds still re-learns the background instead of opening a
crossing.
"""

from __future__ import annotations

import cv2
import numpy as np

from edge.config import PresenceConfig, RegionOfInterest
from edge.lane.machine import LaneEvent, VehicleArrived, VehicleLeft, VehicleStopped

_WIDTH = 160  # pixels across; presence needs shapes, not detail, and this keeps it well under 1 ms
# A pixel has changed when its brightness (in standard deviations of the frame) or its edge strength
# differs from the background: a dark car on dark asphalt differs little in brightness, but its
# outline, lights and plate are edges the empty road does not have.
_CHANGED_LEVEL = 0.3
_CHANGED_EDGE = 0.5
_MOVED = 0.35  # brightness difference between consecutive frames that counts as movement
_MIN_CONTRAST = 16.0  # grey levels
_BACKGROUND_TAU_S = 5.0  # how fast an empty lane's background follows slow light changes


def _normalised(image: np.ndarray, roi: RegionOfInterest | None) -> np.ndarray:
    # One scale for the whole frame, ROI or not, so that each working pixel averages the same
    # number of camera pixels (and of their noise).
    scale = _WIDTH / image.shape[1]
    if roi is not None:
        image = image[roi.y : roi.y + roi.height, roi.x : roi.x + roi.width]
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    size = (max(8, round(gray.shape[1] * scale)), max(8, round(gray.shape[0] * scale)))
    small = cv2.GaussianBlur(cv2.resize(gray, size, interpolation=cv2.INTER_AREA), (5, 5), 0)
    small = small.astype(np.float32)
    # Dividing by the frame's contrast cancels the light's gain; the floor stops a flat, dark view
    # (night, fog) from being stretched until sensor noise looks like movement.
    return (small - small.mean()) / max(float(small.std()), _MIN_CONTRAST)


def _edges(frame: np.ndarray) -> np.ndarray:
    return np.abs(cv2.Sobel(frame, cv2.CV_32F, 1, 0)) + np.abs(cv2.Sobel(frame, cv2.CV_32F, 0, 1))


class PresenceDetector:
    def __init__(self, config: PresenceConfig, roi: RegionOfInterest | None = None):
        self._config = config
        self._roi = roi
        self._background: np.ndarray | None = None
        self._background_edges: np.ndarray | None = None
        self._previous: np.ndarray | None = None
        self._previous_at = 0.0
        self.occupied = False
        self._stopped = False
        self._streak = 0  # consecutive frames that argue for changing `occupied`
        self._moving_in_streak = 0  # frames of that streak in which something moved
        self._still = 0  # consecutive frames without movement
        self.changed_fraction = 0.0

    def _learn(self, frame: np.ndarray) -> None:
        # A copy: the background is updated in place and must not alias the previous frame.
        self._background, self._background_edges = frame.copy(), _edges(frame)

    def update(self, image: np.ndarray, at: float) -> list[LaneEvent]:
        """Feed one frame taken at wall-clock `at`; returns the presence events it caused."""
        frame = _normalised(image, self._roi)
        if self._background is None or self._background.shape != frame.shape:
            self._learn(frame)
            self._previous, self._previous_at = frame, at
            return []
        # Updated in place below, unless a new background is learnt instead; both are learnt together.
        background, background_edges = self._background, self._background_edges
        assert background_edges is not None
        c = self._config
        edges = _edges(frame)
        foreground = (np.abs(frame - background) > _CHANGED_LEVEL) | (
            np.abs(edges - background_edges) > _CHANGED_EDGE
        )
        changed = float(foreground.mean())
        moved = float(np.mean(np.abs(frame - self._previous) > _MOVED))
        dt = max(at - self._previous_at, 0.0)
        self._previous, self._previous_at = frame, at
        self._still = self._still + 1 if moved <= c.still_fraction else 0
        self.changed_fraction = changed
        events: list[LaneEvent] = []
        if not self.occupied:
            if changed >= c.occupied_fraction:
                self._streak += 1
                self._moving_in_streak += moved > c.still_fraction
            else:
                self._streak = self._moving_in_streak = 0
            if self._streak >= c.confirm_frames:
                # A vehicle drives in: the view changes *while* things move. A change that appears at
                # once and then holds still is the light (floodlights, a cloud): learn it instead.
                if self._moving_in_streak >= 2:
                    self.occupied, self._stopped = True, False
                    events.append(VehicleArrived(at=at, source="camera"))
                else:
                    self._learn(frame)
                self._streak = self._moving_in_streak = 0
            elif self._streak == 0:
                # Follow slow light changes only where nothing is arriving, so a slow vehicle is not absorbed.
                alpha = 1.0 - float(np.exp(-dt / _BACKGROUND_TAU_S))
                quiet = ~foreground
                background[quiet] += alpha * (frame - background)[quiet]
                background_edges[quiet] += alpha * (edges - background_edges)[quiet]
            return events
        self._streak = self._streak + 1 if changed <= c.empty_fraction else 0
        if self._streak >= c.confirm_frames:
            self.occupied, self._streak = False, 0
            events.append(VehicleLeft(at=at))
            return events
        if not self._stopped and self._still >= c.confirm_frames:
            self._stopped = True
            events.append(VehicleStopped(at=at))
        return events
