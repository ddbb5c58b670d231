"""One lane at run time: cameras, devices, readers, the state machine and the current crossing.

Threads feed the lane: the camera workers (edge/lane/workers.py: presence, plates, faces) and the
device pollers (loop, documents, health). Every input ends in one of two places, both under the
lane's lock: the state machine (`feed`) or the current crossing's evidence (`_take`, typed pieces
from edge/lane/evidence.py). A new decision revision is recorded (audit first, then the outbox)
before anyone sees it; an officer action is recorded before it takes effect; the barrier opens
only through the crossing's rules (edge/lane/decisions.py); a crossing's end is recorded too, so a
crossing a crash left open comes back (`restore`); the kiosk's view is edge/lane/view.py.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import date

import numpy as np

from edge.capture import CameraReader, CameraStatus
from edge.config import LaneConfig
from edge.lane.context import LaneContext, PlateFrameReader
from edge.lane.crossing import ActionRefused, ActionResult, Crossing, OfficerAction
from edge.lane.decisions import CrossingLedger, Gatekeeper
from edge.lane.devices import DeviceCallbacks, LaneDevices
from edge.lane.evidence import (
    DocumentRescan,
    EvidenceIntake,
    FacesCompared,
    LaneConditions,
    NewEvidence,
    document_seen,
    plate_seen,
)
from edge.lane.machine import (
    BarrierOpened,
    EvidenceComplete,
    LaneEvent,
    LaneSnapshot,
    LaneState,
    LaneStateMachine,
    VehicleArrived,
    VehicleLeft,
)
from edge.lane.presence import PresenceDetector
from edge.lane.view import CrossingMedia, LaneView, Preview, Previews, preview_scale
from edge.lane.workers import CameraWorkers
from edge.plates.voting import PlateVoter, VotingPolicy, vote
from edge.pubsub import Broadcaster
from edge.recording.recovery import CLOSED_AT_RESTART, OpenCrossing
from edge.watchlist.staleness import Staleness
from hardware.barrier import BarrierCommand, BarrierStatus
from hardware.health import DeviceHealth, DeviceState
from hardware.reader import DocumentRead, ReaderEvent, RescanRequired

log = logging.getLogger(__name__)

_READING_STATES = (LaneState.PRESENT, LaneState.READING, LaneState.DECISION_PENDING)
RESTORED_NOTE = ("restored after a restart: its live evidence is gone; check that the vehicle at the barrier "
                 "is the recorded one before acting")


class LaneRuntime:
    def __init__(self, config: LaneConfig, context: LaneContext, broadcaster: Broadcaster):
        self.config = config
        self._context = context
        self._broadcaster = broadcaster
        self._lock = threading.RLock()
        self._machine = LaneStateMachine(config.id, config.timeouts, now=time.time())
        self._presence = PresenceDetector(config.presence, config.cameras.plate.roi)
        self._voter = PlateVoter(VotingPolicy(**config.plates.voting.model_dump()))
        self._faces = context.faces(config) if context.faces is not None else None
        self._plate_reader = context.plate_reader(config) if context.plate_reader is not None else None
        self._crossing: Crossing | None = None
        self._intake = EvidenceIntake()
        self._media = CrossingMedia()
        self._ledger = CrossingLedger(config.id, context.recorder, context.history)
        self._device_health: dict[str, DeviceHealth] = {}
        self._barrier: BarrierStatus | None = None
        self.cameras = {
            role: CameraReader(
                f"{config.id}/{role}", camera.url, fps=camera.fps, stall_timeout=camera.stall_timeout_s,
                backoff_initial=camera.backoff_initial_s, backoff_max=camera.backoff_max_s,
                on_status=self._camera_changed,
            )
            for role, camera in (("plate", config.cameras.plate), ("face", config.cameras.face))
        }
        self.devices = LaneDevices(
            config, self._record_barrier_command,
            DeviceCallbacks(self._loop_changed, self.document, self._health_changed, self._barrier_changed),
        )
        self._gate = Gatekeeper(config, context.recorder, lambda: self.devices.barrier, self._barrier_opened)
        self._previews = Previews(self.cameras)
        self._changed = threading.Event()  # something the kiosk shows changed outside the lane lock
        self._workers = CameraWorkers(config.id, self, self.cameras)
        self.decisions = self._ledger.decisions  # decision revisions by outcome, for metrics (the ledger counts)
        self.frames_processed = 0
        self.reads: dict[str, int] = {"plate": 0, "document": 0, "face": 0}  # reads that reached a crossing
        self.heartbeat: Callable[[str], None] | None = None  # the service's watchdog

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        for camera in self.cameras.values():
            camera.start()
        self.devices.start()
        self._workers.start()

    def stop(self) -> None:
        """Stop taking inputs, then close the devices and cameras. A crossing still open stays open
        in the record (every decision and action is already there) and is restored at the next start."""
        self._workers.stop()
        self.devices.stop()
        for camera in self.cameras.values():
            camera.stop()
        with self._lock:  # anything still being recorded for the crossing finishes first
            crossing, state = self._crossing, self._machine.snapshot.state
        if crossing is not None:
            log.info("crossing open at stop (%s): it is restored at the next start", state.value,
                     extra={"lane": self.config.id, "crossing": crossing.crossing_id})

    def restore(self, found: OpenCrossing) -> None:
        """Before start(): take back the crossing the audit shows open at a crash or stop. One the
        officer had acted on (or the barrier had opened for) is closed: its vehicle may be gone.
        Any other waits for the officer again, marked restored; the restore never opens the barrier."""
        now = time.time()
        crossing = Crossing.restore(self.config, found.opened_at, found.decision, RESTORED_NOTE)
        with self._lock:
            if found.acted_on:
                crossing.action, crossing.barrier_opened = found.action, found.barrier_commanded
                done = (f"the officer had acted ({found.action.kind.value} by {found.action.actor})"
                        if found.action is not None else "the barrier had opened for it")
                self._ledger.closed(crossing, f"{CLOSED_AT_RESTART}: {done} before it; the vehicle may be gone", now)
                return
            self._crossing = crossing
            self._machine.restore(crossing.crossing_id, now, RESTORED_NOTE)
            self._ledger.restored(crossing, {"decision": found.decision.to_json(), "opened_at": found.opened_at,
                                             "note": RESTORED_NOTE})
        log.warning("crossing restored after a restart: decision r%d %s waits for the officer",
                    found.decision.revision, found.decision.outcome,
                    extra={"lane": self.config.id, "crossing": crossing.crossing_id})

    # -- what the kiosk reads ---------------------------------------------------------------

    def view(self) -> LaneView:
        with self._lock:
            return LaneView(
                lane_id=self.config.id, name=self.config.name, training=self.config.training,
                snapshot=self._machine.snapshot,
                cameras={role: camera.status() for role, camera in self.cameras.items()},
                devices=[health.to_json() for health in self._device_health.values()],
                barrier=self._barrier.to_json() if self._barrier is not None else None,
                crossing=self._media.crossing_json(self._crossing) if self._crossing is not None else None)

    def officer_answer(self) -> tuple[str, str] | None:
        """The open crossing's id and the officer's action on it; None before the officer acts."""
        crossing = self._crossing  # one read, no lock: the demo's waiting driver asks ten times a second
        action = crossing.action if crossing is not None else None
        return (crossing.crossing_id, action.kind.value) if crossing is not None and action is not None else None

    def preview(self, role: str) -> Preview | None:
        """The newest frame of camera `role` as a small JPEG."""
        return self._previews.get(role)

    def crossing_image(self, crossing_id: str, kind: str) -> bytes | None:
        """One of the current crossing's images (edge.lane.view.CROSSING_IMAGES) as JPEG, or None."""
        with self._lock:
            if self._crossing is None or self._crossing.crossing_id != crossing_id:
                return None
            return self._media.image(kind)

    def latest_frame(self, role: str) -> np.ndarray | None:
        frame = self.cameras[role].latest()
        return frame.image if frame is not None else None

    def test_barrier(self, actor: str) -> None:
        """A technician's test pulse; only while no vehicle is at the lane. Raises ActionRefused."""
        with self._lock:
            state = self._machine.snapshot.state
            if state is not LaneState.IDLE:
                raise ActionRefused(f"the lane is {state.value}: test the barrier only while the lane is idle")
            self._gate.pulse(actor, "technician test pulse")

    def degraded(self) -> list[str]:
        """Every fault of this lane, in words; empty when all is well."""
        faults = [
            f"{status.camera_id} camera {status.state}" + (f": {status.error}" if status.error else "")
            for status in (camera.status() for camera in self.cameras.values())
            if status.state != "live"
        ]
        with self._lock:
            faults += [
                f"{h.device} {h.state.value}" + (f": {h.last_error}" if h.last_error else "")
                for h in self._device_health.values()
                if h.state is not DeviceState.ONLINE
            ]
            if self._barrier is not None:
                faults += [f"barrier: {fault}" for fault in self._barrier.faults]
        return faults

    # -- the state machine and the crossing -------------------------------------------------

    def feed(self, event: LaneEvent) -> None:
        """Apply an event from any thread (presence detector, devices, readers)."""
        with self._lock:
            snapshot = self._machine.handle(event)
            if snapshot is not None:
                self._follow(snapshot)
        if snapshot is not None:
            self._announce()

    def tick(self, now: float) -> None:
        with self._lock:
            snapshot = self._machine.tick(now)
            if snapshot is not None:
                self._follow(snapshot)
            if self._crossing is not None and self._machine.snapshot.state is LaneState.DECISION_PENDING:
                self._gate.auto_clear(self._crossing)
        if snapshot is not None:
            self._announce()

    def _follow(self, snapshot: LaneSnapshot) -> None:
        """Keep the crossing in step with the state machine (called under the lock)."""
        cid = snapshot.crossing_id
        if cid is None:
            if self._crossing is not None:
                self._ledger.closed(self._crossing, snapshot.note or "closed", snapshot.since)
            self._crossing = None
            self._forget()
            if self._faces is not None:
                self._faces.reset()
            return
        if self._crossing is None or self._crossing.crossing_id != cid:
            self._crossing = Crossing(cid, self.config, opened_at=snapshot.since)
            self._forget()
            self._take(snapshot.since, LaneConditions(self._staleness(), tuple(self.degraded())))

    def _forget(self) -> None:
        self._intake.reset()
        self._media.forget()

    def _staleness(self) -> Staleness | None:
        return self._context.staleness() if self._context.staleness is not None else None

    def _take(self, now: float, new: NewEvidence) -> None:
        """Add to the current crossing and record a new decision revision (called under the lock)."""
        crossing = self._crossing
        if crossing is None:
            return
        # The evidence's own day (today, live): a replay of a recorded or synthetic day decides as it did.
        decision = crossing.update(now, date.fromtimestamp(now), self._intake.fold(crossing.evidence, new))
        if decision is not None:
            self._ledger.decided(decision)
        if self._machine.snapshot.state is LaneState.READING and self._evidence_complete(crossing):
            self._machine.handle(EvidenceComplete(at=now, crossing_id=crossing.crossing_id))

    def _evidence_complete(self, crossing: Crossing) -> bool:
        e, policy = crossing.evidence, self.config.policy
        voted = e.plate is not None and e.plate.frames >= self.config.plates.voting.min_frames
        return (
            (voted or not policy.require_plate)
            and (e.document is not None or e.document_rescan is not None or not policy.require_document)
            and (e.face_verification is not None or not policy.require_face_match)
        )

    # -- officer actions and the barrier ----------------------------------------------------

    def act(self, action: OfficerAction) -> ActionResult:
        """Take an officer's action: record it, then (if it allows) open the barrier. Raises ActionRefused."""
        with self._lock:
            crossing = self._crossing
            if crossing is None or crossing.crossing_id != action.crossing_id:
                raise ActionRefused("this crossing is no longer at the lane")
            if self._machine.snapshot.state is not LaneState.DECISION_PENDING:
                raise ActionRefused("the lane is still reading; wait for the decision")
            result = self._gate.act(crossing, action)
        self._announce()
        return result

    def _barrier_opened(self, crossing: Crossing) -> None:
        snapshot = self._machine.handle(BarrierOpened(at=time.time(), crossing_id=crossing.crossing_id))
        if snapshot is not None:
            self._follow(snapshot)

    def _record_barrier_command(self, command: BarrierCommand) -> None:
        self._ledger.barrier_command(self._crossing.crossing_id if self._crossing is not None else None, command)

    # -- device callbacks (poller threads) --------------------------------------------------

    def _loop_changed(self, occupied: bool) -> None:
        now = time.time()
        self.feed(VehicleArrived(at=now, source="loop") if occupied else VehicleLeft(at=now))

    def document(self, event: ReaderEvent) -> None:
        """A document reader event (the reader poller calls this)."""
        now = event.received_at.timestamp()
        if self._machine.snapshot.state is LaneState.IDLE:
            # A traveller on foot, or a driver faster than the loop: the document opens the crossing.
            self.feed(VehicleArrived(at=now, source="document reader"))
        with self._lock:
            if self._crossing is not None and self._crossing.restored is not None:
                log.info("document ignored: the restored crossing's decision cannot change; the officer decides",
                         extra={"lane": self.config.id, "crossing": self._crossing.crossing_id})
                return
            if isinstance(event, RescanRequired):
                self._take(now, DocumentRescan(event.reason))
            elif isinstance(event, DocumentRead):
                self.reads["document"] += 1
                self._media.portrait(event.portrait)
                faces = None
                if self._faces is not None:
                    self._faces.set_portrait(event.portrait)
                    faces = FacesCompared(*self._faces.results())
                self._take(now, document_seen(event.mrz, self._context.lookup, now, faces))
        self._announce()

    # Health and status callbacks may come from inside a driver's own lock (the barrier's, while
    # an officer's open holds the lane lock and waits for it), so they take no lane lock: they
    # store (one atomic assignment) and ask the plate worker to announce.

    def _health_changed(self, health: DeviceHealth) -> None:
        self._device_health[health.device] = health
        self._context.recorder.device_health(self.config.id, health)
        self._changed.set()

    def _barrier_changed(self, status: BarrierStatus) -> None:
        self._barrier = status
        self._changed.set()

    def _camera_changed(self, status: CameraStatus) -> None:
        # The camera reader logs its own state changes; the kiosk needs them with the lane's state,
        # and the supervisor's report its uptime.
        self._context.recorder.camera_status(self.config.id, status)
        self._changed.set()

    def _announce(self) -> None:
        self._changed.clear()
        # "at": when it left the lane, so the kiosk's browser test can report push -> screen time.
        self._broadcaster.publish({"type": "lane", "lane": self.view().to_json(), "at": time.time()})

    # -- the camera workers' steps (edge/lane/workers.py) -----------------------------------

    def announce_if_changed(self) -> None:
        if self._changed.is_set():
            self._announce()

    def beat(self) -> None:
        if self.heartbeat is not None:
            self.heartbeat(self.config.id)

    def reading_faces(self) -> bool:
        return self._faces is not None and self._reading()

    def _reading(self) -> bool:
        # A restored crossing's decision cannot change (edge/lane/crossing.py): reading for it is wasted work.
        crossing = self._crossing
        return self._machine.snapshot.state in _READING_STATES and (crossing is None or crossing.restored is None)

    def plate_frame(self, image: np.ndarray, at: float) -> None:
        """One plate-camera frame taken at `at`: presence, then the plate while a crossing is read.
        The camera worker calls it for every frame it takes; a replay of a scene calls it in scene time."""
        for event in self._presence.update(image, at):
            self.feed(event)
        if self._reading() and self._plate_reader is not None:
            self._read_plate(self._plate_reader, image, at)

    def _read_plate(self, reader: PlateFrameReader, image: np.ndarray, at: float) -> None:
        reads = reader.read_frame(image, timestamp=at)
        announced = self._voter.add(reads, at)
        if not announced and reads and self._crossing is not None and self._crossing.evidence.plate is None:
            # The vote needs several frames; until then the officer sees this frame's best read,
            # marked provisional (one frame), and the decision counts it as such.
            announced = [vote([max(reads, key=lambda read: read.confidence)])]
        for plate in announced:
            self.reads["plate"] += 1
            seen = plate_seen(plate, self._context.lookup, at)
            with self._lock:
                self._media.plate(plate, preview_scale(image))
                self._take(at, seen)
            log.info("plate %s (%.0f%%)", plate.text, 100 * plate.confidence,
                     extra={"lane": self.config.id, "crossing": self._machine.snapshot.crossing_id})
            self._announce()

    def face_frame(self, image: np.ndarray, at: float) -> None:
        """One face-camera frame while a crossing is read: the traveller's faces, and their results."""
        assert self._faces is not None  # the worker asks reading_faces() first
        changed = self._faces.offer(image, at)
        if changed:
            self.reads["face"] += 1  # a new or better fused face template
        with self._lock:  # under the lane lock, so a reset for the next crossing cannot slip in between
            if self._crossing is not None:
                changed = self._media.follow_face(self._faces.best_face(), preview_scale(image)) or changed
        if changed:
            with self._lock:
                self._take(at, FacesCompared(*self._faces.results()))
            self._announce()
