"""Camera capture: frame sources opened by URL, and a reader thread per camera that keeps only the
newest frame, reconnects lost streams and reports the camera's state."""

from edge.capture.model import (
    CameraState,
    CameraStatus,
    CaptureError,
    CorruptFrame,
    Frame,
    FrameSource,
    InvalidCameraURL,
)
from edge.capture.reader import CameraReader
from edge.capture.sources import open_source

__all__ = [
    "CameraReader",
    "CameraState",
    "CameraStatus",
    "CaptureError",
    "CorruptFrame",
    "Frame",
    "FrameSource",
    "InvalidCameraURL",
    "open_source",
]
