"""The service as a newcomer runs it: a real process, a real HTTP server, real cameras (image folders)."""

from __future__ import annotations

import json
import signal

import cv2
import numpy as np
from websockets.sync.client import connect


def test_service_serves_lanes_cameras_health_and_stops_cleanly(service):
    service.wait_until("/healthz")
    service.wait_until("/readyz", 200)  # every camera live
    lanes = json.loads(service.get("/api/lanes")[1])
    assert [lane["lane_id"] for lane in lanes] == ["lane-1", "lane-2"]
    assert all(lane["snapshot"]["state"] == "idle" for lane in lanes)
    assert {cam["state"] for lane in lanes for cam in lane["cameras"].values()} == {"live"}

    code, jpeg = service.get("/api/lanes/lane-1/cameras/face.jpg")
    assert code == 200
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (360, 640, 3)
    assert service.get("/api/lanes/lane-9/cameras/face.jpg")[0] == 404
    assert service.get("/api/lanes/lane-1/cameras/roof.jpg")[0] == 404

    metrics = service.get("/metrics")[1].decode()
    assert 'edge_camera_live{camera="lane-2/plate"} 1' in metrics
    paths = json.loads(service.get("/openapi.json")[1])["paths"]
    assert {"/healthz", "/readyz", "/metrics", "/api/lanes"} <= set(paths)

    assert service.stop(signal.SIGINT) == 0
    assert "stopped cleanly" in service.log()


def test_websocket_greets_with_every_lane_then_streams_updates(service):
    service.wait_until("/readyz", 200)

    # The sync client: Playwright's session-wide browser keeps an event loop running in this thread.
    with connect(f"ws://127.0.0.1:{service.port}/ws") as ws:
        hello = json.loads(ws.recv(timeout=10))
    assert hello["type"] == "hello"
    assert [lane["lane_id"] for lane in hello["lanes"]] == ["lane-1", "lane-2"]


def test_mjpeg_stream_delivers_jpeg_parts(service):
    service.wait_until("/readyz", 200)
    import urllib.request

    with urllib.request.urlopen(f"{service.url}/api/lanes/lane-2/cameras/plate/stream", timeout=10) as stream:
        assert stream.headers["Content-Type"].startswith("multipart/x-mixed-replace")
        data = b""
        while data.count(b"\xff\xd9") < 2:
            data += stream.read1(65536)
    assert data.startswith(b"--frame\r\nContent-Type: image/jpeg")


def test_sigterm_also_stops_cleanly(service):
    service.wait_until("/healthz")
    assert service.stop(signal.SIGTERM) == 0
    assert "stopped cleanly" in service.log()
