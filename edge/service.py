"""The running crossing: lanes, kiosk server, and a clean stop.

`run_service(config)` owns the asyncio loop; lanes run their frame work in threads (OpenCV
releases the GIL), the kiosk is served by uvicorn on the same loop, and SIGINT/SIGTERM stop
everything in order: stop taking frames, then close the cameras, then the server.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from types import FrameType

import uvicorn

from edge.capture import CameraState
from edge.config import EdgeConfig
from edge.kiosk.app import create_app
from edge.kiosk.auth.web import create_auth
from edge.lane_runtime import LaneRuntime, LaneView, Preview
from edge.metrics import Family, render
from edge.pubsub import Broadcaster

log = logging.getLogger(__name__)


class Crossing:
    """Every lane of the crossing, seen through the interface the kiosk needs."""

    def __init__(self, config: EdgeConfig, broadcaster: Broadcaster):
        self.config = config
        self._broadcaster = broadcaster
        self.lanes = {lane.id: LaneRuntime(lane, broadcaster) for lane in config.lanes}

    def start(self) -> None:
        for lane in self.lanes.values():
            lane.start()

    def stop(self) -> None:
        for lane in self.lanes.values():
            lane.stop()

    # -- KioskBackend -----------------------------------------------------------------------

    def lane_views(self) -> list[LaneView]:
        return [lane.view() for lane in self.lanes.values()]

    def preview(self, lane_id: str, role: str) -> Preview | None:
        return self.lanes[lane_id].preview(role)

    def subscribe(self) -> asyncio.Queue[dict]:
        return self._broadcaster.subscribe()

    def unsubscribe(self, queue: asyncio.Queue[dict]) -> None:
        self._broadcaster.unsubscribe(queue)

    def readiness(self) -> tuple[bool, str]:
        not_live = [
            f"{status.camera_id} is {status.state}"
            for view in self.lane_views()
            for status in view.cameras.values()
            if status.state is not CameraState.LIVE
        ]
        return (not not_live, "\n".join(not_live) or "ready")

    def metrics(self) -> str:
        cameras = [status for view in self.lane_views() for status in view.cameras.values()]
        return render([
            Family("edge_camera_fps", "Frames per second delivered by each camera.", "gauge",
                   [({"camera": c.camera_id}, c.fps) for c in cameras]),
            Family("edge_camera_live", "1 when the camera delivers frames.", "gauge",
                   [({"camera": c.camera_id}, float(c.state is CameraState.LIVE)) for c in cameras]),
            Family("edge_lane_frames_total", "Plate-camera frames processed by the lane.", "counter",
                   [({"lane": lane_id}, lane.frames_processed) for lane_id, lane in self.lanes.items()]),
        ])


class _KioskServer(uvicorn.Server):
    """uvicorn's server, which also tells the kiosk's open streams and websockets to end when a
    stop begins: uvicorn waits for them, and a kiosk browser never closes them by itself."""

    def __init__(self, closing: asyncio.Event, config: uvicorn.Config):
        super().__init__(config)
        self._closing = closing
        self._loop = asyncio.get_running_loop()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if not self.should_exit:
            log.info("%s received: stopping", signal.Signals(sig).name)
        # Called from a signal handler: hand the event to the loop rather than touch it here.
        self._loop.call_soon_threadsafe(self._closing.set)
        super().handle_exit(sig, frame)


async def serve(config: EdgeConfig) -> None:
    loop = asyncio.get_running_loop()
    crossing = Crossing(config, Broadcaster(loop))
    closing = asyncio.Event()
    server = _KioskServer(
        closing,
        uvicorn.Config(
            create_app(crossing, closing, create_auth(config.state_dir, config.kiosk.auth)),
            host=config.kiosk.host,
            port=config.kiosk.port,
            ssl_certfile=config.kiosk.tls_certfile,
            ssl_keyfile=config.kiosk.tls_keyfile,
            log_config=None,  # keep our own structured logging
            lifespan="off",
        ),
    )
    # uvicorn replaces these while it serves and re-raises the signal into them once it has shut
    # down; they make sure that re-raise ends here (a default SIGTERM would skip the clean stop).
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda s=sig: server.handle_exit(s, None))
    crossing.start()
    scheme = "https" if config.kiosk.tls_certfile else "http"
    log.info("crossing %s: %d lane(s); kiosk at %s://%s:%d", config.crossing.id, len(crossing.lanes),
             scheme, config.kiosk.host, config.kiosk.port)
    try:
        await server.serve()
    finally:
        await asyncio.to_thread(crossing.stop)
        log.info("stopped cleanly")


def run_service(config: EdgeConfig) -> int:
    asyncio.run(serve(config))
    return 0
