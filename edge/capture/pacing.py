"""Pacing for sources that could deliver frames as fast as we ask (files, folders, the synthetic scene)."""

from __future__ import annotations

import time

from edge.capture.model import InvalidCameraURL


def check_fps(fps: float, url: str) -> float:
    if not fps > 0 or fps > 1000:
        raise InvalidCameraURL(url, f"fps must be between 0 and 1000, got {fps}")
    return float(fps)


class Pacer:
    """Hands out ticks at a fixed rate on a schedule, so a slow read does not slow the clock.

    A caller that falls more than one period behind restarts the schedule instead of bursting
    frames to catch up: a camera never delivers a backlog either.
    """

    def __init__(self, fps: float) -> None:
        self.period = 1.0 / fps
        self._next: float | None = None

    def wait(self) -> None:
        now = time.monotonic()
        if self._next is None or now - self._next > self.period:
            self._next = now
        elif self._next > now:
            time.sleep(self._next - now)
        self._next += self.period
