"""`edge camera check URL` for the technician on the ladder; `edge bench capture URL` for the numbers."""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import dataclass

from edge.capture import CameraReader, CameraState, CameraStatus, Frame


@dataclass(frozen=True)
class CameraReading:
    """What a consumer saw while reading one camera."""

    status: CameraStatus
    first_frame_s: float | None
    last_frame: Frame | None
    consumed: int
    latencies_ms: list[float]  # frame read -> consumer got it


def read_camera(url: str, *, fps: float | None, timeout: float, seconds: float) -> CameraReading:
    """Read `url` as a consumer would: up to `timeout` s for a first frame, then `seconds` s more."""
    reader = CameraReader("probe", url, fps=fps)
    started = time.monotonic()
    first_at: float | None = None
    last: Frame | None = None
    latencies: list[float] = []
    reader.start()
    try:
        while True:
            now = time.monotonic()
            end = started + timeout if first_at is None else first_at + seconds
            if now >= end or (first_at is None and reader.status().state == CameraState.FAILED):
                break
            frame = reader.wait_newer(last.seq if last else 0, timeout=min(0.2, end - now))
            if frame is None:
                continue
            latencies.append((time.monotonic() - frame.monotonic) * 1000)
            first_at = first_at or time.monotonic()
            last = frame
        status = reader.status()
    finally:
        reader.stop()
    first_frame_s = None if first_at is None else first_at - started
    return CameraReading(status, first_frame_s, last, len(latencies), latencies)


def register(sub: argparse._SubParsersAction) -> None:
    camera = sub.add_parser("camera", help="check cameras")
    camera_sub = camera.add_subparsers(dest="camera_command", required=True, metavar="ACTION")
    check = camera_sub.add_parser("check", help="open a camera URL and watch it briefly; exit 1 unless live")
    check.add_argument("url", help="usb:0, /dev/videoN, rtsp://..., http://..., a file or folder, synthetic://...")
    check.add_argument("--fps", type=float, help="frame rate for files, folders and the synthetic scene")
    check.add_argument("--timeout", type=float, default=15.0, help="seconds to wait for a first frame")
    check.add_argument("--seconds", type=float, default=2.0, help="seconds to watch after the first frame")
    check.set_defaults(func=_check)


def register_bench(bench_sub: argparse._SubParsersAction) -> None:
    bench = bench_sub.add_parser("capture", help="read a camera: fps, drops, corrupt frames, hand-over latency")
    bench.add_argument("url")
    bench.add_argument("--fps", type=float)
    bench.add_argument("--seconds", type=float, default=5.0)
    bench.add_argument("--timeout", type=float, default=15.0, help="seconds to wait for a first frame")
    bench.set_defaults(func=_bench)


def _check(args: argparse.Namespace) -> int:
    session = read_camera(args.url, fps=args.fps, timeout=args.timeout, seconds=args.seconds)
    status = session.status
    if session.last_frame is None:
        print(f"{status.url}: {status.state}, no frame: {status.error or 'no error reported'}")
        return 1
    height, width = session.last_frame.image.shape[:2]
    print(
        f"{status.url}: {status.state}, {width}x{height}, {status.fps:.1f} fps, first frame after "
        f"{session.first_frame_s:.2f} s; {status.corrupt} corrupt, {status.reconnects} reconnects"
        + (f"; last error: {status.error}" if status.error else "")
    )
    return 0 if status.state == CameraState.LIVE else 1


def _bench(args: argparse.Namespace) -> int:
    session = read_camera(args.url, fps=args.fps, timeout=args.timeout, seconds=args.seconds)
    status = session.status
    latencies = sorted(session.latencies_ms)
    shape = session.last_frame.image.shape if session.last_frame is not None else (None, None)
    result = {
        "url": status.url,
        "state": str(status.state),
        "first_frame_s": None if session.first_frame_s is None else round(session.first_frame_s, 3),
        "frames": status.frames,
        "consumed": session.consumed,
        "fps": status.fps,
        "dropped": status.dropped,
        "corrupt": status.corrupt,
        "reconnects": status.reconnects,
        "width": shape[1],
        "height": shape[0],
        "handover_p50_ms": round(statistics.median(latencies), 2) if latencies else None,
        "handover_p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 2) if latencies else None,
        "error": status.error,
    }
    print(json.dumps(result))
    return 0 if session.last_frame is not None else 1
