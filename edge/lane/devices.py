"""A lane's serial devices at run time: the barrier and the document reader, each on its own poller.

The pollers turn device input into lane inputs (the loop occupied or cleared, a document read,
a re-scan needed) and report every health change; they never raise into the lane. The barrier
is opened only through `open_barrier`, whose audit record is written by the sink before the
driver sends a byte.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from edge.config import LaneConfig
from hardware.barrier import ArmState, BarrierCommandSink, BarrierStatus, ModbusBarrier
from hardware.health import DeviceHealth
from hardware.link import SerialLink
from hardware.reader import DocumentReader, ReaderEvent

log = logging.getLogger(__name__)

_READER_WAIT_S = 0.5  # one reader poll waits this long for bytes, so stop() is never slow


@dataclass(frozen=True)
class DeviceCallbacks:
    """How the devices talk to their lane; each is called from a poller thread."""

    loop_changed: Callable[[bool], None]  # vehicle loop occupied (True) or clear (False)
    document: Callable[[ReaderEvent], None]
    health_changed: Callable[[DeviceHealth], None]
    barrier_changed: Callable[[BarrierStatus], None]


class LaneDevices:
    def __init__(self, lane: LaneConfig, sink: BarrierCommandSink, callbacks: DeviceCallbacks):
        self._callbacks = callbacks
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.barrier: ModbusBarrier | None = None
        self.reader: DocumentReader | None = None
        if lane.barrier is not None:
            name = f"{lane.id}/barrier"
            link = SerialLink.for_device(name, lane.barrier.link, callbacks.health_changed)
            self.barrier = ModbusBarrier(name, lane.barrier, link, sink)
            poller = threading.Thread(target=self._poll_barrier, args=(lane.barrier.poll_interval_s,), name=name,
                                      daemon=True)
            self._threads.append(poller)
        if lane.reader is not None:
            name = f"{lane.id}/reader"
            link = SerialLink.for_device(name, lane.reader.link, callbacks.health_changed)
            self.reader = DocumentReader(name, lane.reader, link)
            self._threads.append(threading.Thread(target=self._poll_reader, name=name, daemon=True))

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        if self.barrier is not None:
            self.barrier.close()
        if self.reader is not None:
            self.reader.close()

    def health(self) -> list[DeviceHealth]:
        found = []
        if self.barrier is not None:
            found.append(self.barrier.status.health)
        if self.reader is not None:
            found.append(self.reader.health)
        return found

    def _poll_barrier(self, interval_s: float) -> None:
        assert self.barrier is not None
        last: BarrierStatus | None = None
        while not self._stop.is_set():
            try:
                status = self.barrier.poll()
            except Exception:
                # The driver reports device trouble through health; anything else is a bug worth a
                # log line, never a dead poller.
                log.exception("barrier poll failed")
                self._stop.wait(interval_s)
                continue
            if last is None or status != last:
                self._callbacks.barrier_changed(status)
            # The loop is only trusted while the arm state is known: an unreadable board says nothing.
            known = status.arm is not ArmState.UNKNOWN and status.loop_occupied is not None
            was = last is not None and last.arm is not ArmState.UNKNOWN and last.loop_occupied is not None
            if known and (last is None or not was or status.loop_occupied != last.loop_occupied):
                self._callbacks.loop_changed(bool(status.loop_occupied))
            last = status
            self._stop.wait(interval_s)

    def _poll_reader(self) -> None:
        assert self.reader is not None
        while not self._stop.is_set():
            try:
                events = self.reader.poll(_READER_WAIT_S)
            except Exception:
                log.exception("reader poll failed")
                self._stop.wait(_READER_WAIT_S)
                continue
            for event in events:
                self._callbacks.document(event)
