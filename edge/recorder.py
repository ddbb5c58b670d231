"""Everything a lane does that must be on record: audited first, then queued for the centre.

The audit append returns only once the record is durable, and it raises if it cannot be made
durable (disk full, a damaged log): the caller then refuses the action it was about to take.
The outbox copy follows; the centre may drop duplicates by event id.
"""

from __future__ import annotations

import logging
from typing import Any

from edge.audit import BARRIER_COMMAND, DECISION, DEVICE_FAULT, OFFICER_ACTION, AuditLog
from edge.crossing import Decision, OfficerAction
from edge.outbox.queue import Outbox
from hardware.barrier import BarrierCommand
from hardware.health import DeviceHealth

log = logging.getLogger(__name__)


class Recorder:
    def __init__(self, audit: AuditLog, outbox: Outbox | None):
        self._audit = audit
        self._outbox = outbox

    def _record(self, kind: str, *, actor: str, lane: str | None, crossing_id: str | None,
                payload: dict[str, Any], topic: str) -> None:
        self._audit.append(kind, actor=actor, lane=lane, crossing_id=crossing_id, payload=payload)
        if self._outbox is not None:
            try:
                self._outbox.put(topic, {"lane": lane, "crossing_id": crossing_id, **payload})
            except Exception:
                # The audit holds the record; a full outbox disk must not undo an audited action.
                log.exception("event %s could not be queued for the centre", kind,
                              extra={"lane": lane, "crossing": crossing_id})

    def decision(self, decision: Decision) -> None:
        self._record(DECISION, actor="lane", lane=decision.lane_id, crossing_id=decision.crossing_id,
                     payload=decision.to_json(), topic="decision")

    def officer_action(self, action: OfficerAction) -> None:
        self._record(OFFICER_ACTION, actor=f"{action.actor} ({action.role})", lane=action.lane_id,
                     crossing_id=action.crossing_id, payload=action.to_json(), topic="officer_action")

    def barrier_command(self, lane_id: str, crossing_id: str | None, command: BarrierCommand) -> None:
        self._record(BARRIER_COMMAND, actor=command.actor, lane=lane_id, crossing_id=crossing_id,
                     payload=command.to_json(), topic="barrier")

    def device_health(self, lane_id: str, health: DeviceHealth) -> None:
        try:
            self._record(DEVICE_FAULT, actor="device", lane=lane_id, crossing_id=None, payload=health.to_json(),
                         topic="device")
        except Exception:
            # A device report that cannot be recorded is logged; it must not stop the poller.
            log.exception("device health change could not be recorded", extra={"lane": lane_id})
