"""One thread per camera that keeps only the newest frame and keeps the stream alive."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

import numpy as np

from edge.capture.model import (
    CameraState,
    CameraStatus,
    CaptureError,
    CorruptFrame,
    Frame,
    FrameSource,
    InvalidCameraURL,
    mask_password,
)
from edge.capture.sources import open_source

log = logging.getLogger(__name__)

FPS_WINDOW = 2.0  # seconds of frame times the measured fps is taken over


class CameraReader:
    """Reads one camera on its own thread; consumers always get the newest frame.

    There is no queue: a frame that is replaced before anyone took it is counted as dropped, so a
    slow consumer works on what the camera sees now, never on a backlog. A lost stream is reopened
    with exponential back-off (`backoff_initial` doubling up to `backoff_max`); after `fail_after`
    failures in a row the state says FAILED while it keeps retrying at `backoff_max`. A stream
    that stays open but sends nothing is STALLED after `stall_timeout` and is reopened after
    `reconnect_after` (cameras that hang often keep their connection open). `on_status` is called
    on this reader's thread at every state change; it must not block.
    """

    def __init__(
        self,
        camera_id: str,
        url: str,
        *,
        fps: float | None = None,
        stall_timeout: float = 2.0,
        backoff_initial: float = 0.5,
        backoff_max: float = 10.0,
        on_status: Callable[[CameraStatus], None] | None = None,
        fail_after: int = 5,
        reconnect_after: float = 10.0,
        open_timeout: float = 10.0,
    ) -> None:
        self.camera_id = camera_id
        self.url = url
        self._fps = fps
        self._stall_timeout = stall_timeout
        self._backoff_initial = backoff_initial
        self._backoff_max = max(backoff_max, backoff_initial)
        self._on_status = on_status
        self._fail_after = fail_after
        self._reconnect_after = max(reconnect_after, stall_timeout)
        self._open_timeout = open_timeout

        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._state = CameraState.STARTING
        self._since = time.time()
        self._error: str | None = None
        self._latest: Frame | None = None
        self._latest_taken = True
        self._last_frame_at: float | None = None
        self._frame_times: deque[float] = deque()
        self._frames = self._dropped = self._corrupt = self._reconnects = 0
        self._recovering = False  # lost or never opened since the last frame: the next frame is a reconnect

    # --- consumer side -------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError(f"camera {self.camera_id} reader already started")
        self._thread = threading.Thread(target=self._run, name=f"camera-{self.camera_id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
        if self._thread is not None:
            # A V4L2/RTSP open can block for its timeout; the thread is a daemon if it overruns.
            self._thread.join(timeout=self._open_timeout + self._stall_timeout + 1.0)

    def latest(self) -> Frame | None:
        with self._changed:
            if self._latest is not None:
                self._latest_taken = True
            return self._latest

    def wait_newer(self, after_seq: int, timeout: float) -> Frame | None:
        """The newest frame with seq > after_seq, waiting up to `timeout` s; None if none came."""
        with self._changed:
            self._changed.wait_for(
                lambda: self._stopping.is_set() or (self._latest is not None and self._latest.seq > after_seq),
                timeout,
            )
            frame = self._latest
            if frame is None or frame.seq <= after_seq:
                return None
            self._latest_taken = True
            return frame

    def status(self) -> CameraStatus:
        with self._changed:
            return self._status_locked()

    # --- reader thread -------------------------------------------------------------------

    def _forget_old_frame_times(self, now: float) -> None:
        # Done on every frame, not only when someone asks for the status: a lane nobody watches
        # (no kiosk, no metrics scraper, no crossing) would otherwise keep every frame's time.
        times = self._frame_times
        while times and now - times[0] > FPS_WINDOW:
            times.popleft()

    def _status_locked(self) -> CameraStatus:
        now = time.monotonic()
        self._forget_old_frame_times(now)
        times = self._frame_times
        fps = (len(times) - 1) / (now - times[0]) if len(times) >= 2 and now > times[0] else 0.0
        return CameraStatus(
            camera_id=self.camera_id, url=mask_password(self.url), state=self._state, since=self._since,
            last_frame_at=self._last_frame_at, fps=round(fps, 2), frames=self._frames,
            dropped=self._dropped, corrupt=self._corrupt, reconnects=self._reconnects, error=self._error,
        )  # fmt: skip

    def _set_state(self, state: CameraState, error: str | None = None) -> None:
        with self._changed:
            if error is not None:
                self._error = error
            if state == self._state:
                return
            self._state = state
            self._since = time.time()
            status = self._status_locked()
        log.log(logging.INFO if state == CameraState.LIVE else logging.WARNING,
                "camera %s %s%s", self.camera_id, state, f": {error}" if error else "")  # fmt: skip
        if self._on_status is not None:
            try:
                self._on_status(status)
            except Exception:
                log.exception("camera %s: on_status callback failed", self.camera_id)

    def _publish(self, image: np.ndarray) -> None:
        now = time.monotonic()
        # Every consumer (plate reader, presence, kiosk preview) shares this one array: a read-only
        # view makes an in-place edit fail loudly instead of changing the others' frame.
        image = image.view()
        image.flags.writeable = False
        with self._changed:
            if self._latest is not None and not self._latest_taken:
                self._dropped += 1
            if self._recovering:
                self._reconnects += 1
                self._recovering = False
            self._frames += 1
            seq = self._latest.seq + 1 if self._latest is not None else 1
            self._latest = Frame(self.camera_id, seq, time.time(), now, image)
            self._latest_taken = False
            self._last_frame_at = self._latest.captured_at
            self._frame_times.append(now)
            self._forget_old_frame_times(now)
            self._changed.notify_all()
        self._set_state(CameraState.LIVE)

    def _lost(self, error: str, failures: int) -> None:
        """Record a failure to open or a lost stream, then wait out the back-off."""
        state = CameraState.FAILED if failures >= self._fail_after else CameraState.RECONNECTING
        with self._changed:
            self._recovering = True
        self._set_state(state, error)
        delay = min(self._backoff_initial * 2 ** (failures - 1), self._backoff_max)
        self._stopping.wait(delay)

    def _open(self) -> FrameSource:
        return open_source(self.url, fps=self._fps, open_timeout=self._open_timeout,
                           read_timeout=self._stall_timeout)  # fmt: skip

    def _run(self) -> None:
        source: FrameSource | None = None
        failures = 0  # failures since the last frame; drives the back-off
        waiting_since = time.monotonic()  # last frame, or when the stream was opened
        try:
            while not self._stopping.is_set():
                if source is None:
                    try:
                        source = self._open()
                    except InvalidCameraURL as exc:
                        self._set_state(CameraState.FAILED, str(exc))
                        return  # a wrong URL stays wrong: retrying only fills the log
                    except Exception as exc:  # any failure to open is retried
                        failures += 1
                        self._lost(_describe(exc), failures)
                        continue
                    waiting_since = time.monotonic()
                try:
                    image = source.read()
                except CorruptFrame as exc:
                    with self._changed:
                        self._corrupt += 1
                        self._error = str(exc)
                    image = None
                except Exception as exc:  # whatever broke: reopen, never end the thread
                    source.close()
                    source = None
                    failures += 1
                    self._lost(_describe(exc), failures)
                    continue
                if image is not None:
                    failures = 0
                    waiting_since = time.monotonic()
                    self._publish(image)
                    continue
                silent = time.monotonic() - waiting_since
                if silent > self._reconnect_after:
                    source.close()
                    source = None
                    failures += 1
                    self._lost(f"camera {mask_password(self.url)}: no frame for {silent:.0f} s, reopening", failures)
                elif silent > self._stall_timeout:
                    self._set_state(CameraState.STALLED, f"camera {mask_password(self.url)}: no frame for "
                                                         f"{self._stall_timeout:g} s")  # fmt: skip
        finally:
            if source is not None:
                source.close()


def _describe(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, CaptureError) else f"{type(exc).__name__}: {exc}"
