"""The decision and barrier side of a lane: what goes on record, and the only ways the barrier opens.

`CrossingLedger` records each decision revision, a crossing's restore and its end (audit first, then
the outbox; the end goes to the officer's history too). `Gatekeeper` takes the officer's actions and
the auto-clear, and opens the barrier only for a crossing whose rules allow it, at most once, after
the action is on record. Both are called under the lane's lock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from edge.config import LaneConfig
from edge.lane.crossing import ActionRefused, ActionResult, Crossing, Decision, OfficerAction
from edge.recording.history import CrossingHistory, PastCrossing
from edge.recording.recorder import NotRecorded, Recorder
from hardware.barrier import BarrierCommand, ModbusBarrier, OpenFailed, OpenRefused

log = logging.getLogger(__name__)


class CrossingLedger:
    def __init__(self, lane_id: str, recorder: Recorder, history: CrossingHistory | None):
        self._lane_id = lane_id
        self._recorder = recorder
        self._history = history
        self.decisions: dict[str, int] = {}  # by outcome, for metrics

    def _extra(self, crossing_id: str | None) -> dict[str, str | None]:
        return {"lane": self._lane_id, "crossing": crossing_id}

    def decided(self, decision: Decision) -> None:
        # Codes with their words: four LANE_DEGRADED in a row tell an operator nothing; which parts are.
        log.info("decision r%d: %s %s", decision.revision, decision.outcome,
                 "; ".join(f"{r.code} ({r.text})" for r in decision.reasons) or "(no reasons)",
                 extra=self._extra(decision.crossing_id))
        try:
            self._recorder.decision(decision)
        except NotRecorded as exc:
            # An unrecorded decision is still shown (the officer must see the vehicle), but nothing
            # may act on it: actions re-check the recorder, which will refuse them too (the storage
            # alarm says why).
            log.error("decision r%d %s", decision.revision, exc, extra=self._extra(decision.crossing_id))
        self.decisions[str(decision.outcome)] = self.decisions.get(str(decision.outcome), 0) + 1

    def restored(self, crossing: Crossing, record: dict) -> None:
        try:
            self._recorder.crossing_restored(self._lane_id, crossing.crossing_id, record)
        except NotRecorded as exc:
            # Restoring is safe unrecorded (it opens nothing); the officer's action on it is recorded or refused.
            log.error("crossing restore %s", exc, extra=self._extra(crossing.crossing_id))

    def barrier_command(self, crossing_id: str | None, command: BarrierCommand) -> None:
        # The barrier driver calls this before sending; raising stops the command.
        self._recorder.barrier_command(self._lane_id, crossing_id, command)

    def closed(self, crossing: Crossing, note: str, closed_at: float) -> None:
        """Record that the crossing is over and how; it goes to the history too."""
        log.info("crossing closed: %s", note, extra=self._extra(crossing.crossing_id))
        decision, action = crossing.decision, crossing.action
        try:
            self._recorder.crossing_closed(self._lane_id, crossing.crossing_id, {
                "note": note, "opened_at": crossing.opened_at, "closed_at": closed_at,
                "revision": decision.revision if decision else None,
                "outcome": str(decision.outcome) if decision else None,
                "action": action.kind.value if action else None, "actor": action.actor if action else None,
                "barrier_opened": crossing.barrier_opened, "restored": crossing.restored is not None,
            })
        except NotRecorded as exc:
            # The vehicle has gone either way; without this record a restart would offer the crossing
            # again as restored (and the loop or the officer would then close it).
            log.error("crossing close %s", exc, extra=self._extra(crossing.crossing_id))
        if self._history is not None:
            self._add_to_history(self._history, crossing, note, closed_at)

    def _add_to_history(self, history: CrossingHistory, crossing: Crossing, note: str, closed_at: float) -> None:
        document, decision, action = crossing.evidence.document, crossing.decision, crossing.action
        # The decision's evidence summary names the plate and document also for a restored crossing,
        # whose live evidence is gone.
        summary = decision.evidence if decision else None
        try:
            history.add(PastCrossing(
                crossing_id=crossing.crossing_id, lane_id=self._lane_id, opened_at=crossing.opened_at,
                closed_at=closed_at, plate=summary.plate if summary else None,
                document_number=summary.document_number if summary else None,
                name=f"{document.surname}, {document.given_names}" if document else None,
                outcome=str(decision.outcome) if decision else None, action=action.kind.value if action else None,
                actor=action.actor if action else None, barrier_opened=crossing.barrier_opened, note=note,
            ))
        except Exception:
            # The history is a convenience; the audit log holds the record.
            log.exception("crossing could not be added to the history", extra={"lane": self._lane_id})


class Gatekeeper:
    """Officer actions and auto-clear; `opened` tells the lane's state machine the barrier went up."""

    def __init__(self, lane: LaneConfig, recorder: Recorder, barrier: Callable[[], ModbusBarrier | None],
                 opened: Callable[[Crossing], None]):
        self._lane = lane
        self._recorder = recorder
        self._barrier = barrier
        self._opened = opened

    def act(self, crossing: Crossing, action: OfficerAction) -> ActionResult:
        """Record the officer's action, then (if it allows) open the barrier. Raises ActionRefused."""
        result = crossing.check_action(action)
        try:
            self._recorder.officer_action(action)
        except NotRecorded as exc:
            raise ActionRefused(f"{exc}, so the action was not taken") from exc
        crossing.apply_action(result)
        if result.open_barrier:
            why = f"officer {action.kind.value}" + (f": {action.reason}" if action.reason else "")
            try:
                self.open(crossing, actor=f"{action.actor} ({action.role})", reason=why)
            except ActionRefused:
                # The attempt is on record; the officer may try again once the fault is cleared.
                crossing.action = None
                raise
        return result

    def auto_clear(self, crossing: Crossing) -> None:
        if not crossing.auto_clear_due():
            return
        try:
            self.open(crossing, actor="auto-clear", reason="auto-clear: CLEAR with no reasons")
        except ActionRefused as exc:
            log.warning("auto-clear did not open the barrier: %s", exc,
                        extra={"lane": self._lane.id, "crossing": crossing.crossing_id})
            crossing.barrier_opened = True  # once per crossing: the officer takes it from here

    def open(self, crossing: Crossing, *, actor: str, reason: str) -> None:
        """For a crossing whose rules allow it; opens at most once."""
        if crossing.barrier_opened:
            raise ActionRefused("the barrier has already opened for this crossing")
        self.pulse(actor, f"{crossing.crossing_id}: {reason}")
        crossing.barrier_opened = True
        self._opened(crossing)

    def pulse(self, actor: str, reason: str) -> None:
        """One OPEN pulse (the barrier's command sink audits it first). Raises ActionRefused."""
        barrier = self._barrier()
        if barrier is None:
            raise ActionRefused("this lane has no barrier wired to the service")
        try:
            barrier.open(reason=reason, actor=actor)
        except (OpenRefused, OpenFailed) as exc:
            raise ActionRefused(f"the barrier did not open: {exc}") from exc
