"""The checkpoint: every lane and what they share (audit log, outbox, history, watchlist, faces,
storage), seen by the kiosk through its KioskBackend interface. edge/service/runner.py serves it."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING

from edge.capture import CameraState
from edge.config import EdgeConfig
from edge.drills.desk import DrillDesk
from edge.kiosk.camera_check import CameraCheck
from edge.lane.context import LaneContext
from edge.lane.crossing import ActionRefused, ActionResult, OfficerAction
from edge.lane.faces import LaneFacesFactory
from edge.lane.runtime import LaneRuntime
from edge.lane.view import LaneView, Preview
from edge.plates.pipeline import PlateReader
from edge.pubsub import Broadcaster
from edge.recording.audit import CONFIG_CHANGE, AuditError, AuditLog
from edge.recording.audit.startup_check import ChainState, StartupChainCheck
from edge.recording.history import CrossingHistory, PastCrossing
from edge.recording.outbox.metrics import outbox_families
from edge.recording.outbox.publisher import OutboxPublisher
from edge.recording.outbox.queue import Outbox, OutboxError
from edge.recording.recorder import Recorder, outbox_marker
from edge.recording.recovery import START_EVENT, open_crossings
from edge.report import CheckpointReports
from edge.service.metrics import Family, render
from edge.service.storage import REASONS, StorageAlarm, StorageMonitor, probe
from edge.watchlist.runtime import WatchlistRuntime

if TYPE_CHECKING:
    from edge.drills.runner import TrainingDrills
    from edge.recording.training import TrainingRecords

log = logging.getLogger(__name__)

DEVICE_TEST = "device_test"  # audit kind: a technician's barrier pulse or reader replay, and its outcome


class CheckpointError(Exception):
    """The crossing cannot start; the message names the part and the problem."""


def disk_problem(state: Path) -> str:
    found = probe(state)
    return f" ({found[1]})" if found is not None else ""


class Checkpoint:
    """Every lane of the crossing and what they share, seen through the interface the kiosk needs."""

    def __init__(self, config: EdgeConfig, broadcaster: Broadcaster):
        self.config = config
        self._broadcaster = broadcaster
        state = config.state_dir
        try:
            state.mkdir(parents=True, exist_ok=True)
            self.audit = AuditLog(state / config.audit.dir)
        except (OSError, AuditError) as exc:
            raise CheckpointError(f"audit log in {state / config.audit.dir}: {exc}{disk_problem(state)}") from exc
        try:
            # SQLite creates its WAL files on opening: a state disk that takes no writes stops it here.
            self.outbox = Outbox(state / config.outbox.path, source=config.checkpoint.id)
            self.history_store = CrossingHistory(state / "history.sqlite")
        except (OutboxError, sqlite3.Error) as exc:
            raise CheckpointError(f"{exc}{disk_problem(state)}") from exc
        self.publisher = OutboxPublisher(self.outbox, config.central) if config.central is not None else None
        self._storage_raised: StorageAlarm | None = None
        self._storage_cleared: list[tuple[StorageAlarm, float]] = []  # to record once writes work again
        self.storage = StorageMonitor(state, on_change=self._storage_changed, on_writable=self._catch_up)
        self.chain_check = StartupChainCheck(self.audit.path, on_result=lambda _: self._publish_status())
        self.recorder = Recorder(self.audit, self.outbox, marker=outbox_marker(state), storage=self.storage)
        self.watchlist = WatchlistRuntime(config.watchlist, state, on_report=self.recorder.sync)
        self.faces = LaneFacesFactory(config.faces, self.watchlist, state / "faces" / "gallery")
        context = LaneContext(
            recorder=self.recorder,
            lookup=self.watchlist.lookup,
            staleness=self.watchlist.staleness,
            plate_reader=lambda lane: PlateReader.from_config(lane.plates, lane.cameras.plate.roi),
            faces=self.faces,
            history=self.history_store,
        )
        # Training lanes record apart, nothing of theirs reaches the outbox, and drills run on them.
        self.training: TrainingRecords | None = None
        self.drills: TrainingDrills | None = None
        contexts: dict[str, LaneContext] = {}
        training_lanes = [lane for lane in config.lanes if lane.training]
        if training_lanes:
            from edge.drills.lanes import training_side  # brings the synthetic world: training lanes only

            self.training, self.drills, contexts = training_side(training_lanes, context, state)
        self.lanes = {lane.id: LaneRuntime(lane, contexts.get(lane.id, context), broadcaster) for lane in config.lanes}
        self.camera_checks = CameraCheck(config.calibration, config.faces)
        self.reports = CheckpointReports(config)
        self.report = self.reports.report  # the supervisor page's figures (KioskBackend)
        self.drill_desk = DrillDesk(self.drills, config.drills_dir, lambda kind, actor, lane, payload:
                                    self._audit_or_refuse(kind, actor=actor, lane=lane, payload=payload))
        # The demo's simulated readers can present a document again (edge/synthetic/demo.py; raises
        # ActionRefused when it cannot); a real reader needs a person.
        self.replay_document: Callable[[str], None] | None = None

    def start(self) -> None:
        # Which configuration the lanes ran with is part of the record.
        try:
            started = self.audit.append(CONFIG_CHANGE, actor="service",
                                        payload={"event": START_EVENT, "config": self.config.model_dump(mode="json")})
            start_seq = started.seq
        except AuditError:
            # A full or read-only state disk: run with the alarm raised (the kiosk shows it and
            # refuses what it cannot record) rather than stop, which systemd would only repeat.
            log.exception("the service start could not be recorded (%s)", self.storage.check() or "the audit log")
            start_seq = self.audit.head.seq + 1
        self.chain_check.start()  # the log as it was before this start (and what follows it)
        self.recorder.catch_up()
        self._restore_crossings(start_seq)
        if self.training is not None:
            self.training.start({lane_id: lane for lane_id, lane in self.lanes.items() if lane.config.training})
        self.storage.start()
        if self.publisher is not None:
            self.publisher.start()
        self.watchlist.start()
        self.reports.warm_up()
        for lane in self.lanes.values():
            lane.start()

    def _restore_crossings(self, start_seq: int) -> None:
        try:
            live = [lane_id for lane_id, lane in self.lanes.items() if not lane.config.training]
            found = open_crossings(self.audit.path, live, before_seq=start_seq)
        except Exception:
            # Not restoring is the safe failure: the lanes start idle and the audit keeps what was decided.
            log.exception("the crossings open before this start could not be read from the audit log")
            return
        for lane_id, crossing in found.items():
            self.lanes[lane_id].restore(crossing)

    def stop(self) -> None:
        for lane in self.lanes.values():
            lane.stop()
        self.storage.stop()
        self.faces.close()
        self.watchlist.stop()
        if self.publisher is not None:
            self.publisher.stop()
        self.reports.close()
        self.history_store.close()
        self.outbox.close()
        self.audit.close()
        if self.training is not None:
            self.training.close()

    def _storage_changed(self, alarm: StorageAlarm | None) -> None:
        # Called with the recorder's lock held (a refused record probes at once): crossing-wide state
        # only, never a lane's (its lock may be waiting for the recorder). An alarm is recorded once
        # it clears (_catch_up), when the disk takes the record.
        if alarm is not None:
            self._storage_raised = self._storage_raised or alarm
        elif self._storage_raised is not None:
            self._storage_cleared.append((self._storage_raised, time.time()))
            self._storage_raised = None
        self._publish_status()

    def _publish_status(self) -> None:
        self._broadcaster.publish({"type": "status", **self._alarms()})

    def _alarms(self) -> dict:
        alarm = self.storage.alarm
        return {"storage": alarm.to_json() if alarm else None, "audit": self.chain_check.result.to_json()}

    def _catch_up(self) -> None:
        while self._storage_cleared:
            self.recorder.storage_alarm(*self._storage_cleared.pop(0))
        if self.recorder.behind:
            self.recorder.catch_up()

    # -- KioskBackend -----------------------------------------------------------------------

    def lane_views(self) -> list[LaneView]:
        return [lane.view() for lane in self.lanes.values()]

    def preview(self, lane_id: str, role: str) -> Preview | None:
        return self.lanes[lane_id].preview(role)

    def act(self, action: OfficerAction) -> ActionResult:
        lane = self.lanes.get(action.lane_id)
        if lane is None:
            raise ActionRefused(f"no lane {action.lane_id!r}")
        # A drill scores the action against the decision the officer was shown, so take it first.
        shown = lane.view().crossing if self.drills is not None and lane.config.training else None
        result = lane.act(action)
        if shown is not None and self.drills is not None:
            self.drills.took(action, shown)
        return result

    def officer_answer(self, lane_id: str) -> tuple[str, str] | None:
        """The lane's crossing and the officer's action on it, as the kiosk shows them, or None before
        the officer acts (the demo's waiting drivers follow it)."""
        return self.lanes[lane_id].officer_answer()

    def crossing_image(self, lane_id: str, crossing_id: str, kind: str) -> bytes | None:
        lane = self.lanes.get(lane_id)
        return lane.crossing_image(crossing_id, kind) if lane is not None else None

    def status(self) -> dict:
        staleness = self.watchlist.staleness()
        return {"watchlist": {"stale": staleness.stale, "policy": staleness.policy.value,
                              "max_age_s": staleness.max_age_s, "oldest_age_s": staleness.oldest_age_s,
                              "reasons": list(staleness.reasons)},
                **self._alarms()}

    def camera_check(self, lane_id: str, role: str) -> dict | None:
        lane = self.lanes[lane_id]
        image = lane.latest_frame(role)
        return self.camera_checks.measure(lane.config, role, image) if image is not None else None

    def device_test(self, lane_id: str, device: str, actor: str) -> str:
        """A technician's test of a lane device ("barrier": one pulse, only while the lane is idle;
        "reader": the document presented again), audited before it is tried and when refused.
        Returns what happened; raises ActionRefused with the reason it was not done."""
        self._audit_or_refuse(DEVICE_TEST, actor=actor, lane=lane_id, payload={"device": device, "event": "requested"})
        try:
            if device == "barrier":
                self.lanes[lane_id].test_barrier(actor)
                done = "the barrier was pulsed open; it closes by itself"
            elif self.lanes[lane_id].devices.reader is None:
                raise ActionRefused("this lane has no document reader wired to the service")
            elif self.replay_document is None:
                raise ActionRefused("this lane's reader is real hardware: place the document on the reader again")
            else:
                self.replay_document(lane_id)
                done = "the lane's last document was presented to the reader again"
        except ActionRefused as exc:
            self._audit_or_refuse(DEVICE_TEST, actor=actor, lane=lane_id,
                                  payload={"device": device, "event": "refused", "reason": str(exc)})
            raise
        return done

    def _audit_of(self, lane_id: str) -> AuditLog:
        """The audit log a lane's records go to: a training lane's own, or the live one."""
        if self.training is not None and self.lanes[lane_id].config.training:
            return self.training.audit
        return self.audit

    def _audit_or_refuse(self, kind: str, *, actor: str, lane: str, payload: dict) -> None:
        """Append a technician's record; if it cannot be written, refuse in words (a full disk is not a 500)."""
        try:
            self._audit_of(lane).append(kind, actor=actor, lane=lane, payload=payload)
        except AuditError as exc:
            raise ActionRefused(f"not recorded: {self.storage.check() or exc}") from exc

    def propose_roi(self, lane_id: str, roi: dict, command: str, actor: str) -> None:
        """A plate ROI drawn on the technician page goes on record; the config file is changed by
        `command` (the service does not rewrite its own config while lanes run with it)."""
        self._audit_or_refuse(CONFIG_CHANGE, actor=actor, lane=lane_id,
                              payload={"event": "plate roi proposed", "roi": roi, "command": command})

    def history(self, text: str, limit: int, lanes: Collection[str] | None = None) -> list[PastCrossing]:
        return self.history_store.search(text, limit, lanes)

    def subscribe(self) -> asyncio.Queue[dict]:
        return self._broadcaster.subscribe()

    def unsubscribe(self, queue: asyncio.Queue[dict]) -> None:
        self._broadcaster.unsubscribe(queue)

    def readiness(self) -> tuple[bool, str]:
        problems = [
            f"{status.camera_id} is {status.state}"
            for view in self.lane_views()
            for status in view.cameras.values()
            if status.state is not CameraState.LIVE
        ]
        alarm = self.storage.alarm
        if alarm is not None:
            problems.append(f"storage alarm: {alarm.problem}")
        chain = self.chain_check.result
        if chain.state is ChainState.BROKEN:
            problems.append(f"audit chain broken: {chain.problem}")
        return (not problems, "\n".join(problems) or "ready")

    def metrics(self) -> str:
        views = self.lane_views()
        cameras = [status for view in views for status in view.cameras.values()]
        decisions = [({"lane": lane_id, "outcome": outcome}, count)
                     for lane_id, lane in self.lanes.items() for outcome, count in lane.decisions.items()]
        devices = [({"device": d["device"], "state": state}, float(d["state"] == state))
                   for view in views for d in view.devices for state in ("online", "degraded", "offline")]
        reads = [({"lane": lane_id, "reader": reader}, count)
                 for lane_id, lane in self.lanes.items() for reader, count in lane.reads.items()]
        stale = self.watchlist.staleness()
        alarm = self.storage.alarm
        chain = self.chain_check.result
        return render([
            Family("edge_camera_fps", "Frames per second delivered by each camera.", "gauge",
                   [({"camera": c.camera_id}, c.fps) for c in cameras]),
            Family("edge_camera_live", "1 when the camera delivers frames.", "gauge",
                   [({"camera": c.camera_id}, float(c.state is CameraState.LIVE)) for c in cameras]),
            Family("edge_lane_frames_total", "Plate-camera frames processed by the lane.", "counter",
                   [({"lane": lane_id}, lane.frames_processed) for lane_id, lane in self.lanes.items()]),
            Family("edge_decisions_total", "Decision revisions made, by outcome.", "counter", decisions),
            Family("edge_reads_total", "Reads that reached a crossing, by reader (plate, document, face).",
                   "counter", reads),
            Family("edge_device_state", "1 for the state each serial device is in.", "gauge", devices),
            Family("edge_watchlist_age_seconds", "Age of the oldest applied watchlist (since the authority "
                   "created it); absent before the first sync.", "gauge",
                   [({}, stale.oldest_age_s)] if stale.oldest_age_s is not None else []),
            Family("edge_watchlist_stale", "1 while the watchlist copy is older than its max age.", "gauge",
                   [({"policy": stale.policy.value}, float(stale.stale))]),
            Family("edge_audit_records", "Records in the audit log.", "gauge", [({}, self.audit.head.seq)]),
            Family("edge_audit_chain_broken", "1 when the audit chain checked at start is broken; 0 when it "
                   "verified; absent while the check runs.", "gauge",
                   [({}, float(chain.state is ChainState.BROKEN))] if chain.state is not ChainState.CHECKING else []),
            Family("edge_storage_alarm", "1 while the state disk refuses writes, by reason (full, read_only, "
                   "denied, error).", "gauge",
                   [({"reason": reason}, float(alarm is not None and alarm.reason == reason)) for reason in REASONS]),
            *outbox_families(self.outbox, self.publisher),
        ])
