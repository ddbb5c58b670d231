"""Sources read through OpenCV's VideoCapture: V4L2/USB devices, RTSP streams (FFmpeg) and video files."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edge.capture.images import to_bgr
from edge.capture.model import CaptureError
from edge.capture.pacing import Pacer

DEFAULT_FILE_FPS = 10.0


def _timeouts(open_timeout: float, read_timeout: float) -> list[int]:
    # Without these FFmpeg waits ~30 s on a dead RTSP host and forever on a silent stream.
    return [
        cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, round(open_timeout * 1000),
        cv2.CAP_PROP_READ_TIMEOUT_MSEC, round(read_timeout * 1000),
    ]  # fmt: skip


class LiveCaptureSource:
    """A camera that pushes frames at its own rate (V4L2 device or RTSP stream).

    A failed read means the stream is gone (unplugged, network down, or no frame within the read
    timeout, after which FFmpeg's capture is unusable anyway), so it raises CaptureError and the
    reader reopens it.
    """

    def __init__(self, capture: cv2.VideoCapture, *, url: str, what: str) -> None:
        if not capture.isOpened():
            capture.release()
            raise CaptureError(url, f"cannot open {what}")
        self._capture = capture
        self._url = url

    def read(self) -> np.ndarray:
        ok, image = self._capture.read()
        if not ok:
            raise CaptureError(self._url, "stream lost: no frame within the read timeout")
        return to_bgr(image, self._url)

    def close(self) -> None:
        self._capture.release()


def open_device(
    device: int | str, *, url: str, fps: float | None, width: int | None, height: int | None,
    open_timeout: float, read_timeout: float,
) -> LiveCaptureSource:  # fmt: skip
    capture = cv2.VideoCapture(device, cv2.CAP_V4L2, _timeouts(open_timeout, read_timeout))
    # Ask before the first read: most USB cameras start at 640x480 unless told otherwise.
    for prop, value in ((cv2.CAP_PROP_FRAME_WIDTH, width), (cv2.CAP_PROP_FRAME_HEIGHT, height),
                        (cv2.CAP_PROP_FPS, fps)):  # fmt: skip
        if value is not None and capture.isOpened():
            capture.set(prop, value)
    return LiveCaptureSource(capture, url=url, what="V4L2 device (missing, busy, or no permission?)")


def open_rtsp(url: str, *, open_timeout: float, read_timeout: float) -> LiveCaptureSource:
    capture = cv2.VideoCapture(url, cv2.CAP_FFMPEG, _timeouts(open_timeout, read_timeout))
    return LiveCaptureSource(capture, url=url, what="RTSP stream (host down, wrong path or credentials?)")


class VideoFileSource:
    """A video file played as a camera: paced at its own frame rate (or the one asked), looping."""

    def __init__(self, path: Path, *, url: str, fps: float | None) -> None:
        self._url = url
        self._capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
        if not self._capture.isOpened():
            self._capture.release()
            raise CaptureError(url, f"cannot open video file {path} (not a video, or unsupported codec)")
        file_fps = self._capture.get(cv2.CAP_PROP_FPS)
        self.fps = fps or (file_fps if 0 < file_fps <= 1000 else DEFAULT_FILE_FPS)
        self._pacer = Pacer(self.fps)

    def read(self) -> np.ndarray:
        self._pacer.wait()
        ok, image = self._capture.read()
        if not ok:
            # End of the file: start again, as a camera would keep showing the lane.
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, image = self._capture.read()
            if not ok:
                raise CaptureError(self._url, "video file has no readable frames")
        return to_bgr(image, self._url)

    def close(self) -> None:
        self._capture.release()
