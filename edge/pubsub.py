"""Fan-out of state updates from worker threads to the kiosk's websocket clients."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

_QUEUE_SIZE = 256


class Broadcaster:
    """Publish from any thread; each subscriber reads its own bounded asyncio queue.

    A client that stops reading (a frozen browser tab) must not grow memory without bound or slow
    the lane, so a full queue drops its oldest message. Messages are whole snapshots, so the
    next one replaces what was dropped.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self._loop = loop
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()
        self._lock = threading.Lock()

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(_QUEUE_SIZE)
        with self._lock:
            self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        with self._lock:
            self._subscribers.discard(queue)

    def publish(self, message: dict[str, Any]) -> None:
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._deliver, message)

    def _deliver(self, message: dict[str, Any]) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for queue in subscribers:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(message)
