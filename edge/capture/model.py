"""What capture hands to the rest of the edge: frames, camera status, and the source interface."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

import numpy as np


def mask_password(url: str) -> str:
    """`url` with any password replaced by ***: camera URLs often carry credentials, and URLs end
    up in logs, errors and the technician page."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


class CameraState(StrEnum):
    STARTING = "starting"  # reader started, no frame yet
    LIVE = "live"  # frames arriving
    STALLED = "stalled"  # stream open, but no new frame within the stall timeout
    RECONNECTING = "reconnecting"  # stream lost or not opened yet; retrying with back-off
    FAILED = "failed"  # gave up (or the URL can never work); see CameraStatus.error


@dataclass(frozen=True)
class Frame:
    camera_id: str
    seq: int  # 1, 2, 3 ... per reader; a gap means frames were dropped for being stale
    captured_at: float  # time.time() when the frame was read
    monotonic: float  # time.monotonic() at the same moment, for intervals
    image: np.ndarray  # BGR uint8, HxWx3


@dataclass(frozen=True)
class CameraStatus:
    camera_id: str
    url: str  # with any password masked, so it can be shown on the technician page
    state: CameraState
    since: float  # time.time() when the camera entered `state`
    last_frame_at: float | None  # time.time() of the newest frame, None before the first
    fps: float  # measured over the last couple of seconds
    frames: int  # frames read since start
    dropped: int  # frames replaced by a newer one before any consumer took them
    corrupt: int  # frames that failed to decode or were empty, skipped
    reconnects: int  # times the stream was lost (or never opened) and then opened again
    error: str | None  # the last error, kept after recovery so a technician can see what happened


class FrameSource(Protocol):
    """One opened camera stream.

    `read()` returns the next frame as BGR uint8 HxWx3, or None when no frame arrived within the
    source's short poll interval (the caller decides when that becomes a stall). It raises
    `CorruptFrame` for a frame that cannot be decoded (the stream is still usable) and
    `CaptureError` when the stream is lost (it must be closed and reopened).
    """

    def read(self) -> np.ndarray | None: ...

    def close(self) -> None: ...


class CaptureError(Exception):
    """A camera URL could not be opened or its stream was lost."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = mask_password(url)
        super().__init__(f"camera {self.url}: {reason}")
        self.reason = reason


class InvalidCameraURL(CaptureError):
    """The URL itself is wrong (unknown scheme, bad parameter): retrying cannot help."""


class CorruptFrame(CaptureError):
    """One frame could not be decoded; the stream itself goes on."""
