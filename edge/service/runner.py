"""The running service: the kiosk server around the checkpoint (edge/service/checkpoint.py), and a clean stop.

`run_service(config)` owns the asyncio loop; lanes run their frame work in threads (OpenCV
releases the GIL), the kiosk is served by uvicorn on the same loop, and SIGINT/SIGTERM stop
everything in order: stop taking frames, then close the cameras, then the server.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sqlite3
import time
from functools import partial
from types import FrameType
from typing import TYPE_CHECKING

import uvicorn

from edge.config import EdgeConfig
from edge.kiosk.app import create_app
from edge.kiosk.auth.web import create_auth
from edge.pubsub import Broadcaster
from edge.service.checkpoint import Checkpoint, CheckpointError, disk_problem
from edge.service.systemd import Notifier, ProgressWatchdog

if TYPE_CHECKING:
    from edge.synthetic.demo import DemoWorld

log = logging.getLogger(__name__)

_READY_WAIT_S = 8.0  # start -> READY=1 must stay within systemd's 10 s
# How long an idle kiosk connection stays open. uvicorn's default (5 s) equals httpx's keep-alive
# expiry, so an httpx client (the tests, scripts) could send its next request on a connection the
# server was closing at that instant and get a connection reset. At 30 s such a client drops the
# connection first. The kiosk's browser polls every second, and retries a request that a closing
# connection failed.
_KEEP_ALIVE_S = 30


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
    world = None
    if config.demo.simulators or any(lane.training for lane in config.lanes):
        # Imported only for the demo and training lanes: it brings the synthetic scene and the simulators.
        from edge.synthetic.demo import start_demo

        config, world = await asyncio.to_thread(start_demo, config)
    try:
        await _serve(config, loop, world)
    finally:
        if world is not None:
            world.stop()


async def _serve(config: EdgeConfig, loop: asyncio.AbstractEventLoop, world: DemoWorld | None) -> None:
    crossing = Checkpoint(config, Broadcaster(loop))
    if world is not None:
        crossing.replay_document = world.replay_document
        world.follow_officers(crossing.officer_answer)  # waiting cars go when the officer has answered
        if crossing.drills is not None:
            world.follow_drills(crossing.drills.borrowed)  # a drill's driver hands over whose passport it says
    try:
        auth = create_auth(config.state_dir, config.kiosk.auth)
    except sqlite3.Error as exc:
        raise CheckpointError(f"kiosk accounts: {exc}{disk_problem(config.state_dir)}") from exc
    closing = asyncio.Event()
    server = _KioskServer(
        closing,
        uvicorn.Config(
            create_app(crossing, closing, auth, config.kiosk),
            host=config.kiosk.host,
            port=config.kiosk.port,
            ssl_certfile=config.kiosk.tls_certfile,
            ssl_keyfile=config.kiosk.tls_keyfile,
            log_config=None,  # keep our own structured logging
            lifespan="off",
            timeout_keep_alive=_KEEP_ALIVE_S,
        ),
    )
    # uvicorn replaces these while it serves and re-raises the signal into them once it has shut
    # down; they make sure that re-raise ends here (a default SIGTERM would skip the clean stop).
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, partial(server.handle_exit, sig, None))
    notifier = Notifier.from_environment()
    watchdog = ProgressWatchdog.from_environment(notifier, list(crossing.lanes))
    for lane in crossing.lanes.values():
        lane.heartbeat = watchdog.beat if watchdog is not None else None
    crossing.start()
    scheme = "https" if config.kiosk.tls_certfile else "http"
    log.info("crossing %s: %d lane(s); kiosk at %s://%s:%d", config.checkpoint.id, len(crossing.lanes),
             scheme, config.kiosk.host, config.kiosk.port)
    tasks = [asyncio.create_task(_announce_ready(server, crossing, notifier))]
    if watchdog is not None:
        tasks.append(asyncio.create_task(watchdog.run()))
    try:
        await server.serve()
    finally:
        notifier.stopping("draining lanes")
        for task in tasks:
            task.cancel()
        await asyncio.to_thread(crossing.stop)
        log.info("stopped cleanly")


async def _announce_ready(server: uvicorn.Server, crossing: Checkpoint, notifier: Notifier) -> None:
    """READY=1 once the kiosk serves and every camera delivers, or after _READY_WAIT_S with the
    reasons in STATUS: a dead camera makes a degraded lane, not a service that never starts."""
    started = time.monotonic()
    while True:
        ready, detail = crossing.readiness()
        waited = time.monotonic() - started
        if server.started and (ready or waited >= _READY_WAIT_S):
            status = "all lanes up" if ready else "degraded: " + detail.replace("\n", "; ")
            notifier.ready(status)
            log.info("ready (%s) after %.1f s", status, waited)
            return
        await asyncio.sleep(0.2)


def run_service(config: EdgeConfig) -> int:
    try:
        asyncio.run(serve(config))
    except CheckpointError as exc:
        # A state disk that takes no writes at start (full, read-only) cannot hold a single record:
        # refusing to start, with the reason in the journal, is all that is left (systemd retries).
        log.error("cannot start the crossing: %s", exc)
        return 2
    return 0
