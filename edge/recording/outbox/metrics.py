"""The outbox's Prometheus metrics: how much waits for the centre, and since when nothing arrived there."""

from __future__ import annotations

from edge.recording.outbox.publisher import OutboxPublisher
from edge.recording.outbox.queue import Outbox
from edge.service.metrics import Family


def outbox_families(outbox: Outbox, publisher: OutboxPublisher | None) -> list[Family]:
    families = [Family("edge_outbox_depth", "Events waiting for the centre's acknowledgement.", "gauge",
                       [({}, outbox.depth())])]
    last = outbox.last_delivery()
    if last is not None:
        families.append(Family("edge_outbox_last_delivery_timestamp_seconds",
                               "When the centre's broker last acknowledged an event.", "gauge", [({}, last)]))
    if publisher is not None:
        families.append(Family("edge_outbox_connected", "1 while connected to the centre's broker.", "gauge",
                               [({}, 1.0 if publisher.status().connected else 0.0)]))
    return families
