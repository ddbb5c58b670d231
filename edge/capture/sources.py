"""Opening a camera by URL, the way pyserial's serial_for_url opens a port.

usb:0  usb:0?width=1280&height=720&fps=15  /dev/video2      V4L2 device
rtsp://user:pass@10.0.0.5/stream1                            RTSP (FFmpeg)
http://10.0.0.6/video.mjpg                                   HTTP MJPEG
/data/lane.mp4  file:///data/lane.mp4                        video file (loops)
/data/frames/   file:///data/frames                          image folder (sorted, loops)
synthetic://lane-1/plate?seed=7&fps=10                       synthetic scene (plate or face camera)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from edge.capture.folder import ImageFolderSource
from edge.capture.mjpeg import MjpegSource
from edge.capture.model import CaptureError, FrameSource, InvalidCameraURL
from edge.capture.opencv_source import VideoFileSource, open_device, open_rtsp
from edge.capture.pacing import check_fps
from edge.capture.synthetic_source import CAMERAS, SyntheticSource

DEFAULT_FPS = 10.0  # image folders and the synthetic scene, unless the URL or caller says otherwise
_SCHEMES = "usb:N, /dev/videoN, rtsp://, http://, https://, file path or file://, folder, synthetic://"


def _params(url: str, query: str, allowed: dict[str, type]) -> dict[str, Any]:
    params: dict[str, Any] = {}  # each value of its `allowed` type
    for name, text in parse_qsl(query, keep_blank_values=True):
        if name not in allowed:
            raise InvalidCameraURL(url, f"unknown parameter {name!r} (known: {', '.join(allowed)})")
        try:
            params[name] = allowed[name](text)
        except ValueError:
            raise InvalidCameraURL(url, f"parameter {name}={text!r} is not a number") from None
    return params


def _fps(url: str, from_url: float | None, from_caller: float | None) -> float | None:
    """The URL's fps wins over the caller's; None leaves it to the source (a default, or the device's own)."""
    chosen = from_url if from_url is not None else from_caller
    return None if chosen is None else check_fps(chosen, url)


def _open_device(url: str, device: int | str, query: str, fps: float | None, open_timeout: float,
                 read_timeout: float) -> FrameSource:  # fmt: skip
    node = Path(f"/dev/video{device}" if isinstance(device, int) else device)
    params = _params(url, query, {"width": int, "height": int, "fps": float})
    if not node.exists():
        raise CaptureError(url, f"no such device {node} (camera unplugged, or a different index?)")
    return open_device(
        device, url=url, fps=_fps(url, params.get("fps"), fps), width=params.get("width"),
        height=params.get("height"), open_timeout=open_timeout, read_timeout=read_timeout,
    )  # fmt: skip


def _open_path(url: str, path: Path, fps: float | None) -> FrameSource:
    if path.is_dir():
        return ImageFolderSource(path, url=url, fps=_fps(url, None, fps) or DEFAULT_FPS)
    if path.is_file():
        return VideoFileSource(path, url=url, fps=_fps(url, None, fps))
    # Not InvalidCameraURL: the file may appear later (a USB stick being mounted).
    raise CaptureError(url, f"no such file or folder: {path}")


def _open_synthetic(url: str, fps: float | None) -> FrameSource:
    parts = urlsplit(url)
    camera = parts.path.strip("/")
    if not parts.netloc or camera not in CAMERAS:
        raise InvalidCameraURL(url, f"expected synthetic://<lane-id>/<camera> with camera one of {CAMERAS}")
    params = _params(url, parts.query, {"seed": int, "fps": float})
    return SyntheticSource(
        unquote(parts.netloc), camera, seed=int(params.get("seed", 0)),
        fps=_fps(url, params.get("fps"), fps) or DEFAULT_FPS, url=url,
    )  # fmt: skip


def open_source(
    url: str, *, fps: float | None = None, open_timeout: float = 10.0, read_timeout: float = 5.0
) -> FrameSource:
    """Open the camera at `url`; raises CaptureError (InvalidCameraURL if the URL itself is wrong).

    `fps` paces sources that have no rate of their own (folders, the synthetic scene; a video
    file defaults to its own rate) and is requested from V4L2 devices; an `fps=` in the URL wins.
    RTSP and HTTP cameras run at the rate they are configured for. `open_timeout` bounds
    connecting; `read_timeout` is how long a live RTSP/V4L2 stream may go without a frame
    before it counts as lost.
    """
    url = url.strip()
    if not url:
        raise InvalidCameraURL(url, "empty camera URL")
    if fps is not None:
        check_fps(fps, url)
    if url.startswith("/dev/video"):
        device, _, query = url.partition("?")
        return _open_device(url, device, query, fps, open_timeout, read_timeout)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "":
        # A plain path is taken as written: file names may contain '?' or '#'.
        return _open_path(url, Path(url), fps)
    if scheme == "file":
        return _open_path(url, Path(unquote(parts.path)), fps)
    if scheme == "usb":
        if not parts.path.isdigit():
            raise InvalidCameraURL(url, "expected usb:N with N the device index, e.g. usb:0")
        return _open_device(url, int(parts.path), parts.query, fps, open_timeout, read_timeout)
    if scheme in ("rtsp", "rtsps"):
        return open_rtsp(url, open_timeout=open_timeout, read_timeout=read_timeout)
    if scheme in ("http", "https"):
        return MjpegSource(url, open_timeout=open_timeout)
    if scheme == "synthetic":
        return _open_synthetic(url, fps)
    raise InvalidCameraURL(url, f"unsupported camera URL scheme {scheme!r} (use {_SCHEMES})")
