"""Vehicle presence from the plate camera: arrived, stopped, left.

The barrier's induction loop is the authoritative presence sensor where one is wired; this
detector covers lanes without one and lets the demo run on cameras alone. It compares a small,
brightness-normalised copy of each frame with a background learnt while the lane is empty, so
that slow light changes (clouds, dusk) do not look like vehicles, and a lighting jump that
changes the whole view at once re-learns the background instead of opening a crossing.
"""

from __future__ import annotations

import cv2
import numpy as np

from edge.config import PresenceConfig, Roi
from edge.lane import LaneEvent, VehicleArrived, VehicleLeft, VehicleStopped

_WIDTH = 160  # pixels across; presence needs shapes, not detail, and this keeps it well under 1 ms
_CHANGED = 0.6  # normalised-intensity difference that counts a pixel as changed (in standard deviations)
_MOVED = 0.35  # the same between consecutive frames, for "the vehicle is still"
_BACKGROUND_RATE = 0.05  # how fast an empty lane's background follows the light
_WHOLE_VIEW = 0.85  # a change this widespread while empty is the light, not a vehicle


def _normalised(image: np.ndarray, roi: Roi | None) -> np.ndarray:
    if roi is not None:
        image = image[roi.y : roi.y + roi.height, roi.x : roi.x + roi.width]
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    height = max(1, round(gray.shape[0] * _WIDTH / gray.shape[1]))
    small = cv2.GaussianBlur(cv2.resize(gray, (_WIDTH, height), interpolation=cv2.INTER_AREA), (5, 5), 0)
    small = small.astype(np.float32)
    return (small - small.mean()) / (small.std() + 1.0)


class PresenceDetector:
    def __init__(self, config: PresenceConfig, roi: Roi | None = None):
        self._config = config
        self._roi = roi
        self._background: np.ndarray | None = None
        self._previous: np.ndarray | None = None
        self.occupied = False
        self._stopped = False
        self._streak = 0  # consecutive frames that argue for changing `occupied`
        self._still = 0  # consecutive still frames while occupied
        self.changed_fraction = 0.0

    def update(self, image: np.ndarray, at: float) -> list[LaneEvent]:
        """Feed one frame taken at wall-clock `at`; returns the presence events it caused."""
        frame = _normalised(image, self._roi)
        if self._background is None or self._background.shape != frame.shape:
            self._background, self._previous = frame, frame
            return []
        c = self._config
        changed = float(np.mean(np.abs(frame - self._background) > _CHANGED))
        moved = float(np.mean(np.abs(frame - self._previous) > _MOVED))
        self._previous = frame
        self.changed_fraction = changed
        events: list[LaneEvent] = []
        if not self.occupied:
            if changed >= _WHOLE_VIEW:
                self._background, self._streak = frame, 0
                return events
            self._streak = self._streak + 1 if changed >= c.occupied_fraction else 0
            if self._streak >= c.confirm_frames:
                self.occupied, self._stopped, self._streak, self._still = True, False, 0, 0
                events.append(VehicleArrived(at=at, source="camera"))
            else:
                self._background += _BACKGROUND_RATE * (frame - self._background)
            return events
        self._streak = self._streak + 1 if changed <= c.empty_fraction else 0
        if self._streak >= c.confirm_frames:
            self.occupied, self._streak = False, 0
            events.append(VehicleLeft(at=at))
            return events
        self._still = self._still + 1 if moved <= c.still_fraction else 0
        if not self._stopped and self._still >= c.confirm_frames:
            self._stopped = True
            events.append(VehicleStopped(at=at))
        return events
