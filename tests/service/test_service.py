"""The service as a newcomer runs it: a real process, a real HTTP server, real cameras (image folders)."""

from __future__ import annotations

import http.client
import json
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager

import cv2
import httpx
import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from edge.kiosk.auth.web import BACKGROUND_HEADER
from tests.conftest import service_config

pytestmark = pytest.mark.slow  # a real service, or a browser: seconds per test


@contextmanager
def _officer(service) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service.url, timeout=20) as client:
        response = client.post("/api/login", json={"username": "officer", "password": "officer"})
        assert response.status_code == 200, response.text
        yield client


def test_service_serves_lanes_cameras_health_and_stops_cleanly(service):
    service.wait_until("/healthz")
    service.wait_until("/readyz", 200)  # every camera live
    with _officer(service) as client:
        lanes = client.get("/api/lanes").json()
        assert [lane["lane_id"] for lane in lanes] == ["lane-1", "lane-2"]
        assert all(lane["snapshot"]["state"] == "idle" for lane in lanes)
        assert {cam["state"] for lane in lanes for cam in lane["cameras"].values()} == {"live"}

        snapshot = client.get("/api/lanes/lane-1/cameras/face.jpg")
        assert snapshot.status_code == 200
        image = cv2.imdecode(np.frombuffer(snapshot.content, np.uint8), cv2.IMREAD_COLOR)
        assert image.shape == (360, 640, 3)
        assert client.get("/api/lanes/lane-9/cameras/face.jpg").status_code == 404
        assert client.get("/api/lanes/lane-1/cameras/roof.jpg").status_code == 404

    metrics = service.get("/metrics")[1].decode()
    assert 'edge_camera_live{camera="lane-2/plate"} 1' in metrics

    assert service.stop(signal.SIGINT) == 0
    assert "stopped cleanly" in service.log()


def test_an_idle_kiosk_connection_outlives_a_client_s_keep_alive(service):
    """A client drops an idle connection after its own limit (httpx: 5 s); were the server's limit the
    same, a request sent at that instant would meet the server's close and fail with a reset."""
    service.wait_until("/healthz")
    connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=20)
    try:
        connection.request("GET", "/healthz")
        first = connection.getresponse()
        first.read()
        assert first.status == 200
        opened = connection.sock
        time.sleep(6)  # idle past a 5 s limit
        connection.request("GET", "/healthz")
        assert connection.getresponse().status == 200  # a closed connection raises RemoteDisconnected
        assert connection.sock is opened, "the same connection answered"
    finally:
        connection.close()


def test_lanes_cameras_and_the_feed_need_a_session(service):
    """They show faces, names and document numbers: only health, readiness and metrics are open."""
    service.wait_until("/readyz", 200)
    for path in ("/api/lanes", "/api/lanes/lane-1/cameras/face.jpg", "/api/lanes/lane-1/cameras/face/stream"):
        assert service.get(path)[0] == 401, path
    with connect(f"ws://127.0.0.1:{service.port}/ws") as ws, pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=10)
    assert closed.value.rcvd.code == 1008


def test_an_unattended_kiosk_is_logged_out_although_its_page_keeps_polling(tmp_path, start_service, folder_cameras):
    """The page's own timers (status polls, the feed) do not count as someone at the screen."""
    config = service_config(tmp_path, lambda lane, role: str(folder_cameras))
    config.write_text(config.read_text().replace("auth.demo_accounts = true",
                                                 "auth.demo_accounts = true\nauth.session_idle_s = 8"))
    service = start_service(config)
    service.wait_until("/readyz", 200)
    with _officer(service) as client:
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
        with connect(f"ws://127.0.0.1:{service.port}/ws", additional_headers={"Cookie": cookie}) as ws:
            assert json.loads(ws.recv(timeout=10))["type"] == "hello"
            background = {BACKGROUND_HEADER: "1"}
            statuses = [client.get("/api/status", headers=background).status_code]
            deadline = time.monotonic() + 40
            while statuses[-1] == 200 and time.monotonic() < deadline:
                time.sleep(0.5)
                statuses.append(client.get("/api/status", headers=background).status_code)
            assert statuses[0] == 200 and statuses[-1] == 401, statuses
            with pytest.raises(ConnectionClosed) as closed:
                while True:  # lane updates may still arrive until the feed notices the session ended
                    ws.recv(timeout=30)
    assert closed.value.rcvd.code == 1008


def test_websocket_greets_with_every_lane_then_streams_updates(service):
    service.wait_until("/readyz", 200)
    with _officer(service) as client:
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    # The sync client: Playwright's session-wide browser keeps an event loop running in this thread.
    with connect(f"ws://127.0.0.1:{service.port}/ws", additional_headers={"Cookie": cookie}) as ws:
        hello = json.loads(ws.recv(timeout=10))
    assert hello["type"] == "hello"
    assert [lane["lane_id"] for lane in hello["lanes"]] == ["lane-1", "lane-2"]


def test_mjpeg_stream_delivers_jpeg_parts(service):
    service.wait_until("/readyz", 200)
    with _officer(service) as client, client.stream("GET", "/api/lanes/lane-2/cameras/plate/stream") as stream:
        assert stream.headers["Content-Type"].startswith("multipart/x-mixed-replace")
        data = b""
        for chunk in stream.iter_bytes():
            data += chunk
            if data.count(b"\xff\xd9") >= 2:
                break
    assert data.startswith(b"--frame\r\nContent-Type: image/jpeg")


def test_sigterm_also_stops_cleanly(service):
    service.wait_until("/healthz")
    assert service.stop(signal.SIGTERM) == 0
    assert "stopped cleanly" in service.log()
