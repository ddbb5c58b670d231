"""Camera capture against real streams: an HTTP MJPEG server, video files and image folders on disk."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge import cli
from edge.capture import (
    CameraReader,
    CameraState,
    CameraStatus,
    CaptureError,
    CorruptFrame,
    InvalidCameraURL,
    open_source,
)
from edge.capture.mjpeg import MultipartParser
from edge.capture.reader import FPS_WINDOW
from tests.support.mjpeg_server import BOUNDARY, MjpegServer, frame_image
from tests.support.rtsp_server import HEIGHT, WIDTH, RtspServer

DEADLINE = 15.0  # generous: two cores shared with other jobs


def wait_until(condition: Callable[[], bool], what: str, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def wait_for_state(reader: CameraReader, state: CameraState) -> CameraStatus:
    wait_until(lambda: reader.status().state == state, f"state {state} (now {reader.status()})")
    return reader.status()


def grey(image: np.ndarray) -> int:
    return round(float(image.mean()))


@pytest.fixture
def server() -> Iterator[MjpegServer]:
    started = MjpegServer().start()
    yield started
    started.stop()


@pytest.fixture
def readers() -> Iterator[list[CameraReader]]:
    """Readers a test appends here are stopped after it, pass or fail."""
    started: list[CameraReader] = []
    yield started
    for reader in started:
        reader.stop()


def start_reader(readers: list[CameraReader], url: str, **options) -> CameraReader:
    options = {"stall_timeout": 1.0, "backoff_initial": 0.05, "backoff_max": 0.2, "open_timeout": 3.0} | options
    reader = CameraReader("lane-1/plate", url, **options)
    readers.append(reader)
    reader.start()
    return reader


def take_frames(reader: CameraReader, count: int) -> list:
    frames, seq = [], 0
    for _ in range(count):
        frame = reader.wait_newer(seq, timeout=DEADLINE)
        assert frame is not None, f"no frame after seq {seq}: {reader.status()}"
        frames.append(frame)
        seq = frame.seq
    return frames


def write_video(path: Path, values: list[int], fps: float = 5.0) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (64, 48))
    assert writer.isOpened()
    for value in values:
        writer.write(np.full((48, 64, 3), value, dtype=np.uint8))
    writer.release()
    return path


# --- HTTP MJPEG ----------------------------------------------------------------------------------


def test_mjpeg_stream_goes_live_with_frames_in_order(server, readers):
    reader = start_reader(readers, server.url)
    frames = take_frames(reader, 5)
    assert [f.seq for f in frames] == sorted({f.seq for f in frames})
    for frame in frames:
        assert frame.camera_id == "lane-1/plate"
        assert frame.image.shape == (48, 64, 3) and frame.image.dtype == np.uint8
    assert frames[0].captured_at <= frames[-1].captured_at and frames[0].monotonic < frames[-1].monotonic
    with pytest.raises(ValueError, match="read-only"):
        frames[0].image[0, 0] = 0  # shared by every consumer of the camera
    status = reader.status()
    assert status.state == CameraState.LIVE
    assert status.frames >= 5 and status.fps > 0 and status.last_frame_at is not None
    assert status.reconnects == 0 and status.corrupt == 0 and status.error is None


def test_mjpeg_server_restart_reconnects_and_frames_flow_again(server, readers):
    reader = start_reader(readers, server.url)
    before = take_frames(reader, 3)[-1]
    assert reader.status().state == CameraState.LIVE
    server.stop()

    lost = wait_for_state(reader, CameraState.RECONNECTING)
    assert lost.error is not None and f"127.0.0.1:{server.port}" in lost.error
    assert ("closed" in lost.error) or ("refused" in lost.error)

    restarted = MjpegServer(port=server.port).start()
    try:
        live = wait_for_state(reader, CameraState.LIVE)
        after = reader.wait_newer(before.seq, timeout=DEADLINE)
        assert after is not None and after.seq > before.seq
        assert live.reconnects >= 1
        assert live.error is not None  # the cause stays visible after recovery
    finally:
        restarted.stop()


def test_camera_gives_up_to_failed_while_server_is_down_and_recovers(readers):
    server = MjpegServer().start()
    port = server.port
    server.stop()
    seen: list[CameraState] = []
    reader = start_reader(readers, server.url, fail_after=3, on_status=lambda s: seen.append(s.state))
    failed = wait_for_state(reader, CameraState.FAILED)
    assert "refused" in failed.error and failed.frames == 0
    assert seen[:2] == [CameraState.RECONNECTING, CameraState.FAILED]

    # FAILED keeps retrying slowly: a camera that comes back is picked up.
    restarted = MjpegServer(port=port).start()
    try:
        wait_for_state(reader, CameraState.LIVE)
        assert reader.status().reconnects == 1
    finally:
        restarted.stop()


def test_corrupt_parts_are_counted_and_skipped(server, readers):
    reader = start_reader(readers, server.url)
    take_frames(reader, 2)
    kinds = ("garbage", "truncated", "empty", "bad-inside")
    server.send_corrupt(*kinds)
    wait_until(lambda: reader.status().corrupt == len(kinds), "all corrupt parts counted")
    sent_before = server.frames_sent
    wait_until(lambda: server.frames_sent > sent_before + 2, "good frames after the corrupt ones")
    newest = reader.wait_newer(reader.latest().seq, timeout=DEADLINE)
    assert newest is not None
    status = reader.status()
    assert status.state == CameraState.LIVE and status.reconnects == 0
    assert status.corrupt == len(kinds)
    assert "JPEG" in status.error


def test_silent_stream_is_stalled_then_live_again(server, readers):
    reader = start_reader(readers, server.url, stall_timeout=0.5, reconnect_after=60.0)
    take_frames(reader, 2)
    server.pause()
    stalled = wait_for_state(reader, CameraState.STALLED)
    assert "no frame" in stalled.error
    assert stalled.reconnects == 0
    server.resume()
    wait_for_state(reader, CameraState.LIVE)
    assert reader.status().reconnects == 0


def test_stream_stalled_too_long_is_reopened(server, readers):
    reader = start_reader(readers, server.url, stall_timeout=0.3, reconnect_after=0.8)
    take_frames(reader, 2)
    server.pause()
    wait_until(lambda: "reopening" in (reader.status().error or ""), "a forced reopen of the silent stream")
    server.resume()
    wait_for_state(reader, CameraState.LIVE)
    assert reader.status().reconnects >= 1


def test_stream_without_content_length_is_split_at_boundaries(readers):
    server = MjpegServer(content_length=False).start()
    try:
        reader = start_reader(readers, server.url)
        frames = take_frames(reader, 3)
        assert all(f.image.shape == (48, 64, 3) for f in frames)
        assert reader.status().corrupt == 0
    finally:
        server.stop()


def test_multipart_parser_handles_any_chunking():
    bodies = [cv2.imencode(".jpg", frame_image(i))[1].tobytes() for i in (1, 2, 3)]
    stream = (
        b"".join(f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n\r\n".encode() + body + b"\r\n" for body in bodies)
        + f"--{BOUNDARY}--\r\n".encode()
    )
    for chunk_size in (1, 7, 4096):
        parser = MultipartParser(f"--{BOUNDARY}", "http://camera")
        parts = []
        for i in range(0, len(stream), chunk_size):
            parts += parser.feed(stream[i : i + chunk_size])
        assert parts == bodies, chunk_size


def test_http_errors_name_the_problem(server):
    with pytest.raises(CaptureError, match="HTTP 404"):
        open_source(f"http://127.0.0.1:{server.port}/nothing-here")


def test_basic_auth_from_url_and_masked_password(readers):
    server = MjpegServer(credentials=("officer", "s3cret")).start()
    try:
        with pytest.raises(CaptureError, match="HTTP 401") as refused:
            open_source(server.url.replace("http://", "http://officer:wrong@"))
        assert "wrong" not in str(refused.value) and "officer:***@" in str(refused.value)

        reader = start_reader(readers, server.url.replace("http://", "http://officer:s3cret@"))
        take_frames(reader, 2)
        assert reader.status().url == server.url.replace("http://", "http://officer:***@")
    finally:
        server.stop()


# --- RTSP (through OpenCV's FFmpeg backend) ------------------------------------------------------


@pytest.mark.slow  # seconds of real streams and timeouts
def test_rtsp_stream_plays_and_reconnects_after_server_restart(readers):
    server = RtspServer().start()
    reader = start_reader(readers, server.url)
    try:
        before = take_frames(reader, 3)[-1]
        assert before.image.shape == (HEIGHT, WIDTH, 3) and before.image.dtype == np.uint8
        assert reader.status().state == CameraState.LIVE
    finally:
        server.stop()
    lost = wait_for_state(reader, CameraState.RECONNECTING)
    assert lost.error is not None and server.url in lost.error

    restarted = RtspServer(port=server.port).start()
    try:
        wait_for_state(reader, CameraState.LIVE)
        after = reader.wait_newer(before.seq, timeout=DEADLINE)
        assert after is not None and after.seq > before.seq
        assert reader.status().reconnects >= 1
    finally:
        restarted.stop()


@pytest.mark.slow  # seconds of real streams and timeouts
def test_silent_rtsp_stream_is_lost_after_the_read_timeout_and_reopened(readers):
    server = RtspServer().start()
    try:
        reader = start_reader(readers, server.url, stall_timeout=1.0)
        take_frames(reader, 2)
        server.pause()
        lost = wait_for_state(reader, CameraState.RECONNECTING)
        assert "no frame within the read timeout" in lost.error
        server.resume()
        wait_for_state(reader, CameraState.LIVE)
        assert reader.status().reconnects >= 1
    finally:
        server.stop()


# --- files and folders ---------------------------------------------------------------------------


def test_video_file_plays_in_order_and_loops(tmp_path):
    values = [0, 40, 80, 120]
    path = write_video(tmp_path / "lane.avi", values)
    for url in (str(path), path.as_uri()):
        source = open_source(url, fps=200)
        try:
            seen = [grey(source.read()) for _ in range(len(values) + 2)]
        finally:
            source.close()
        expected = values + values[:2]
        assert all(abs(a - b) <= 3 for a, b in zip(seen, expected, strict=True)), seen


def test_video_file_runs_at_its_own_rate_unless_told(tmp_path):
    path = write_video(tmp_path / "lane.avi", [0, 40], fps=7.0)
    source = open_source(str(path))
    try:
        assert source.fps == 7.0
    finally:
        source.close()


def test_image_folder_plays_sorted_skips_non_images_and_loops(tmp_path):
    for name, value in (("b.png", 20), ("a.jpg", 10), ("c.bmp", 30)):
        cv2.imwrite(str(tmp_path / name), np.full((48, 64, 3), value, dtype=np.uint8))
    (tmp_path / "a.txt").write_text("a.jpg\t1 2 3 4\tABC123\n")
    gray = np.full((48, 64), 40, dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "d.png"), gray)
    source = open_source(str(tmp_path), fps=200)
    try:
        frames = [source.read() for _ in range(6)]
    finally:
        source.close()
    assert [grey(f) for f in frames] == [10, 20, 30, 40, 10, 20]
    assert all(f.shape == (48, 64, 3) and f.dtype == np.uint8 for f in frames)


def test_corrupt_image_in_folder_is_counted_and_skipped(tmp_path, readers):
    cv2.imwrite(str(tmp_path / "1.png"), np.full((48, 64, 3), 10, dtype=np.uint8))
    (tmp_path / "2.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    cv2.imwrite(str(tmp_path / "3.png"), np.full((48, 64, 3), 30, dtype=np.uint8))
    source = open_source(str(tmp_path), fps=200)
    try:
        assert grey(source.read()) == 10
        with pytest.raises(CorruptFrame, match=r"2\.jpg"):
            source.read()
        assert grey(source.read()) == 30
    finally:
        source.close()

    reader = start_reader(readers, str(tmp_path), fps=100)
    wait_until(lambda: reader.status().corrupt >= 2, "the bad image counted on two passes")
    status = reader.status()
    assert status.state == CameraState.LIVE and status.frames >= 3 and status.reconnects == 0


def test_empty_folder_is_a_clear_error(tmp_path):
    (tmp_path / "notes.txt").write_text("no images here")
    with pytest.raises(CaptureError, match="no images in folder"):
        open_source(str(tmp_path))


def test_image_folder_fps_comes_from_the_url_then_the_caller_then_the_default(tmp_path):
    cv2.imwrite(str(tmp_path / "1.png"), np.full((48, 64, 3), 10, dtype=np.uint8))
    for url, fps, expected in ((str(tmp_path), None, 10.0), (str(tmp_path), 25.0, 25.0)):
        source = open_source(url, fps=fps)
        assert source.fps == expected
        source.close()
    with pytest.raises(InvalidCameraURL, match="fps must be"):
        open_source(str(tmp_path), fps=-1)


# --- synthetic scene -----------------------------------------------------------------------------


def test_synthetic_lane_feeds_its_plate_and_face_cameras(readers):
    plate = start_reader(readers, "synthetic://lane-1/plate?seed=3", fps=20)
    face = start_reader(readers, "synthetic://lane-1/face?seed=3", fps=20)
    plate_frames, face_frames = take_frames(plate, 2), take_frames(face, 2)
    for frame in plate_frames + face_frames:
        assert frame.image.shape == (720, 1280, 3) and frame.image.dtype == np.uint8
    # Two cameras on one scene see different views of it.
    difference = np.abs(plate_frames[-1].image.astype(np.int16) - face_frames[-1].image.astype(np.int16))
    assert difference.mean() > 10
    assert plate.status().state == face.status().state == CameraState.LIVE


def test_synthetic_fps_comes_from_the_url_then_the_caller_then_the_default():
    for url, fps, expected in (
        ("synthetic://lane-1/plate?seed=3&fps=5", 20.0, 5.0),
        ("synthetic://lane-1/plate?seed=3", 20.0, 20.0),
        ("synthetic://lane-1/face?seed=3", None, 10.0),
    ):
        source = open_source(url, fps=fps)
        assert source.fps == expected, url
        source.close()


# --- newest-frame semantics ----------------------------------------------------------------------


def test_slow_consumer_gets_the_newest_frame_and_drops_are_counted(server, readers):
    reader = start_reader(readers, server.url, stall_timeout=0.3, reconnect_after=60.0)
    first = reader.wait_newer(0, timeout=DEADLINE)
    assert first is not None
    # The consumer is "busy" while the camera moves on by at least five frames, then the camera stops.
    wait_until(lambda: reader.status().frames >= first.seq + 5, "five more frames")
    server.pause()
    stalled = wait_for_state(reader, CameraState.STALLED)
    newest = reader.latest()
    assert newest.seq == stalled.frames >= first.seq + 5
    assert grey(newest.image) == (server.frames_sent * 7) % 256  # the camera's last frame, not an old one
    # Every frame but the two the consumer took was replaced before anyone saw it.
    assert reader.status().dropped == stalled.frames - 2
    assert reader.latest() is newest and reader.status().dropped == stalled.frames - 2


@pytest.mark.slow  # seconds of real streams and timeouts
def test_frame_times_stay_within_the_fps_window_when_nobody_asks_for_the_status(tmp_path, readers):
    # A lane nobody watches never calls status(); the times kept for the fps must not grow with
    # every frame of a months-long run. 500 fps at most, so 1600 frames span over 3 s > FPS_WINDOW.
    cv2.imwrite(str(tmp_path / "1.png"), np.full((48, 64, 3), 10, dtype=np.uint8))
    reader = start_reader(readers, str(tmp_path), fps=500)
    seq = 0
    while seq < 1600:
        frame = reader.wait_newer(seq, timeout=DEADLINE)
        assert frame is not None, f"no frame after seq {seq}"
        seq = frame.seq
    times = list(reader._frame_times)  # private: memory is not part of the public status
    assert len(times) < seq and times[-1] - times[0] <= FPS_WINDOW


def test_wait_newer_times_out_without_a_new_frame_and_returns_at_stop(server, readers):
    reader = start_reader(readers, server.url, stall_timeout=0.3)
    take_frames(reader, 1)
    server.pause()
    wait_for_state(reader, CameraState.STALLED)
    newest = reader.latest()
    assert reader.wait_newer(newest.seq, timeout=0.3) is None
    assert reader.wait_newer(newest.seq - 1, timeout=0.3) is newest
    reader.stop()
    assert reader.wait_newer(newest.seq, timeout=DEADLINE) is None


# --- bad URLs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://camera/stream", "unsupported camera URL scheme 'ftp'"),
        ("", "empty camera URL"),
        ("usb:front", "expected usb:N"),
        ("usb:0?zoom=2", "unknown parameter 'zoom'"),
        ("usb:0?width=wide", "width='wide' is not a number"),
        ("synthetic://lane-1/rear", "camera one of"),
        ("synthetic://lane-1/plate?fps=0", "fps must be"),
        ("synthetic://lane-1/plate?seed=x", "seed='x' is not a number"),
        ("http:///video.mjpg", "no host"),
    ],
)
def test_invalid_urls_are_rejected_with_the_reason(url, message):
    with pytest.raises(InvalidCameraURL, match=message):
        open_source(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/nonexistent/lane.mp4", "no such file or folder"),
        ("usb:9", r"no such device /dev/video9"),
        ("/dev/video9", r"no such device /dev/video9"),
    ],
)
def test_missing_devices_and_files_are_clear_errors(url, message):
    with pytest.raises(CaptureError, match=message):
        open_source(url)


def test_invalid_url_fails_at_once_without_crashing(readers):
    reader = start_reader(readers, "ftp://camera/stream")
    failed = wait_for_state(reader, CameraState.FAILED)
    assert "unsupported camera URL scheme" in failed.error
    assert reader.latest() is None and reader.wait_newer(0, timeout=0.1) is None


def test_unopenable_url_ends_in_failed_after_retries(readers):
    reader = start_reader(readers, "/nonexistent/lane.mp4", fail_after=3)
    failed = wait_for_state(reader, CameraState.FAILED)
    assert "no such file or folder" in failed.error
    assert failed.frames == 0 and failed.reconnects == 0


def test_rtsp_failure_is_clear_and_hides_the_password():
    with pytest.raises(CaptureError, match="cannot open RTSP stream") as refused:
        open_source("rtsp://officer:s3cret@127.0.0.1:1/stream", open_timeout=2.0)
    assert "s3cret" not in str(refused.value) and "officer:***@" in str(refused.value)


def test_status_callback_that_raises_does_not_stop_the_camera(server, readers):
    calls: list[CameraStatus] = []

    def broken(status: CameraStatus) -> None:
        calls.append(status)
        raise RuntimeError("kiosk gone")

    reader = start_reader(readers, server.url, on_status=broken)
    take_frames(reader, 3)
    assert [c.state for c in calls] == [CameraState.LIVE]
    assert reader.status().state == CameraState.LIVE


# --- command line --------------------------------------------------------------------------------


def test_camera_check_reports_a_live_camera(server, capsys):
    assert cli.main(["camera", "check", server.url, "--seconds", "0.5"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{server.url}: live, 64x48,") and "0 corrupt" in out


def test_camera_check_names_the_problem_and_exits_1(capsys):
    assert cli.main(["camera", "check", "ftp://camera/stream"]) == 1
    assert "unsupported camera URL scheme 'ftp'" in capsys.readouterr().out


def test_bench_capture_prints_one_json_object(tmp_path, capsys):
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i}.png"), np.full((48, 64, 3), i * 50, dtype=np.uint8))
    assert cli.main(["bench", "capture", str(tmp_path), "--fps", "50", "--seconds", "0.5"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["state"] == "live" and (result["width"], result["height"]) == (64, 48)
    assert result["frames"] >= result["consumed"] > 0 and result["corrupt"] == 0
    assert result["handover_p50_ms"] is not None and result["error"] is None
