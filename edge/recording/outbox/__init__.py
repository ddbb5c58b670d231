"""Events to the centre: a durable outbox (SQLite) and its MQTT publisher (QoS 1, in order).

The service opens one Outbox(config.state_dir / config.outbox.path, source=config.checkpoint.id),
calls put() for each event, and runs OutboxPublisher(outbox, config.central) when [central] is set.
"""

from edge.recording.outbox.publisher import OutboxPublisher, PublisherStatus
from edge.recording.outbox.queue import Outbox, OutboxError, PendingEvent

__all__ = ["Outbox", "OutboxError", "OutboxPublisher", "PendingEvent", "PublisherStatus"]
