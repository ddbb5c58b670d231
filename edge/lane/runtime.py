"""One lane at run time: cameras, devices, readers, the state machine and the current crossing.

Threads feed the lane: the plate-camera worker (presence, plate reading), the face-camera
worker (faces), and the device pollers (loop, documents, health). Every input ends in one of two
places, both under the lane's lock: the state machine (`feed`) or the current crossing's
evidence (`_add_evidence`). A new decision revision is recorded (audit first, then the outbox)
before anyone sees it; an officer action is recorded before it takes effect; the barrier opens
only through the crossing's rules; a crossing's end is recorded too, so that after a crash the
crossing still open can be told apart and brought back (`restore`, see edge/recording/recovery.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Protocol

import cv2
import numpy as np

from edge.capture import CameraReader, CameraStatus
from edge.config import LaneConfig
from edge.faces.types import FaceObservation, SearchCandidate, VerificationResult
from edge.image_files import ImageFileError, decode_image
from edge.lane.crossing import ActionRefused, ActionResult, Crossing, Decision, OfficerAction
from edge.lane.devices import DeviceCallbacks, LaneDevices
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
from edge.plates.pipeline import PlateReader
from edge.plates.reads import PlateRead
from edge.plates.voting import PlateVoter, VotingPolicy, vote
from edge.pubsub import Broadcaster
from edge.recording.history import CrossingHistory, PastCrossing
from edge.recording.recorder import NotRecorded, Recorder
from edge.recording.recovery import CLOSED_AT_RESTART, OpenCrossing
from edge.watchlist.lookup import Lookup, WatchlistHit
from edge.watchlist.staleness import Staleness
from hardware.barrier import BarrierCommand, BarrierStatus, OpenFailed, OpenRefused
from hardware.health import DeviceHealth, DeviceState
from hardware.reader import DocumentRead, ReaderEvent, RescanRequired

log = logging.getLogger(__name__)

CAMERA_ROLES = ("plate", "face")
CROSSING_IMAGES = ("plate", "portrait", "face")  # plate crop, document portrait, best live face
_PREVIEW_WIDTH = 640  # the kiosk shows cameras as tiles; full 720p would cost CPU and bandwidth for nothing
_PREVIEW_QUALITY = 70
_FRAME_WAIT_S = 0.5  # how long a worker waits for a new frame before it checks timeouts anyway
_READING_STATES = (LaneState.PRESENT, LaneState.READING, LaneState.DECISION_PENDING)
RESTORED_NOTE = ("restored after a restart: its live evidence is gone; check that the vehicle at the barrier "
                 "is the recorded one before acting")


class TravellerFaces(Protocol):
    """The face steps of one lane (edge/lane/faces.py): frames in, 1:1 and 1:N results out."""

    def reset(self) -> None: ...
    def offer(self, image: np.ndarray, at: float) -> bool: ...  # True when the results changed
    def set_portrait(self, portrait: bytes | None) -> None: ...
    def results(self) -> tuple[VerificationResult | None, tuple[SearchCandidate, ...]]: ...
    def best_face(self) -> FaceObservation | None: ...


@dataclass(frozen=True)
class LaneContext:
    """What every lane of the crossing shares."""

    recorder: Recorder
    lookup: Lookup | None = None  # the watchlist; None when no watchlist is configured
    staleness: Callable[[], Staleness] | None = None
    plate_reader: Callable[[LaneConfig], PlateReader] | None = None
    faces: Callable[[LaneConfig], TravellerFaces] | None = None
    history: CrossingHistory | None = None


@dataclass(frozen=True)
class Preview:
    seq: int
    jpeg: bytes


@dataclass(frozen=True)
class LaneView:
    """What the kiosk shows of a lane: state, cameras, devices and the current crossing."""

    lane_id: str
    name: str
    snapshot: LaneSnapshot
    cameras: dict[str, CameraStatus]
    devices: list[dict] = field(default_factory=list)
    barrier: dict | None = None
    crossing: dict | None = None

    def to_json(self) -> dict:
        return asdict(self)


def encode_jpeg(image: np.ndarray, width: int = _PREVIEW_WIDTH) -> bytes:
    if image.shape[1] > width:
        height = round(image.shape[0] * width / image.shape[1])
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, _PREVIEW_QUALITY])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return jpeg.tobytes()


def preview_scale(image: np.ndarray) -> float:
    """Frame pixels -> preview pixels, as encode_jpeg scales (the kiosk draws boxes on the preview)."""
    return min(1.0, _PREVIEW_WIDTH / image.shape[1])


def _reencode(image_bytes: bytes | None) -> bytes | None:
    """A reader's portrait as JPEG whatever it came as (browsers do not all show JPEG 2000)."""
    if not image_bytes:
        return None
    try:
        return encode_jpeg(decode_image(image_bytes, "the reader's portrait"), width=400)
    except ImageFileError:
        return None  # the crossing goes on without the picture; the face step reports its own problem


def _hit_json(hit: WatchlistHit) -> dict:
    return {
        "list": hit.list_id, "reason": hit.record.reason, "action": hit.action.value, "match": hit.match.value,
        "advisory": hit.advisory, "record": hit.record.id, "source": hit.record.source,
    }


def _plate_json(plate: PlateRead) -> dict:
    return {
        "text": plate.text, "region": plate.region, "confidence": plate.confidence,
        "char_confidences": list(plate.char_confidences), "frames": plate.frames,
        "first_seen": plate.first_seen, "last_seen": plate.last_seen,
        "runner_ups": [{"text": r.text, "share": r.share} for r in plate.runner_ups],
    }


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
        self._hits: dict[str, tuple[WatchlistHit, ...]] = {}  # by source: plate, document, person
        self._images: dict[str, bytes] = {}  # this crossing's CROSSING_IMAGES, as JPEG
        self._face: FaceObservation | None = None  # its chip is encoded only when someone looks
        self._boxes: dict[str, Any] = {}  # plate quad and face box, in preview pixels
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
        self._previews: dict[str, Preview] = {}
        self._changed = threading.Event()  # something the kiosk shows changed outside the lane lock
        self._stop = threading.Event()
        self._workers = [
            threading.Thread(target=self._run_plate_camera, name=f"{config.id}-plate", daemon=True),
            threading.Thread(target=self._run_face_camera, name=f"{config.id}-face", daemon=True),
        ]
        self.frames_processed = 0
        self.decisions: dict[str, int] = {}  # by outcome, for metrics
        self.reads: dict[str, int] = {"plate": 0, "document": 0, "face": 0}  # reads that reached a crossing
        self.heartbeat: Callable[[str], None] | None = None  # the service's watchdog

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        for camera in self.cameras.values():
            camera.start()
        self.devices.start()
        for worker in self._workers:
            worker.start()

    def stop(self) -> None:
        """Stop taking inputs, then close the devices and cameras. A crossing still open stays open
        in the record (every decision and action is already there) and is restored at the next start."""
        self._stop.set()
        for worker in self._workers:
            if worker.is_alive():
                worker.join(timeout=5)
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
                self._close_crossing(crossing, f"{CLOSED_AT_RESTART}: {done} before it; the vehicle may be gone", now)
                return
            self._crossing = crossing
            self._machine.restore(crossing.crossing_id, now, RESTORED_NOTE)
            try:
                self._context.recorder.crossing_restored(self.config.id, crossing.crossing_id, {
                    "decision": found.decision.to_json(), "opened_at": found.opened_at, "note": RESTORED_NOTE})
            except NotRecorded as exc:
                # Restoring is safe unrecorded (it opens nothing); the officer's action on it is recorded or refused.
                log.error("crossing restore %s", exc, extra={"lane": self.config.id, "crossing": crossing.crossing_id})
        log.warning("crossing restored after a restart: decision r%d %s waits for the officer",
                    found.decision.revision, found.decision.outcome,
                    extra={"lane": self.config.id, "crossing": crossing.crossing_id})

    # -- what the kiosk reads ---------------------------------------------------------------

    def view(self) -> LaneView:
        with self._lock:
            return LaneView(
                lane_id=self.config.id,
                name=self.config.name,
                snapshot=self._machine.snapshot,
                cameras={role: camera.status() for role, camera in self.cameras.items()},
                devices=[health.to_json() for health in self._device_health.values()],
                barrier=self._barrier.to_json() if self._barrier is not None else None,
                crossing=self._crossing_json(),
            )

    def _crossing_json(self) -> dict | None:
        c = self._crossing
        if c is None:
            return None
        e = c.evidence
        verification = e.face_verification
        return {
            "crossing_id": c.crossing_id,
            "opened_at": c.opened_at,
            "plate": _plate_json(e.plate) if e.plate else None,
            "document": e.document.to_json() if e.document else None,
            "document_rescan": e.document_rescan,
            "face": asdict(verification) if verification else None,
            "face_candidates": [asdict(candidate) for candidate in e.face_candidates],
            "hits": [_hit_json(hit) for hit in e.hits],
            "decision": c.decision.to_json() if c.decision else None,
            "action": c.action.to_json() if c.action else None,
            "barrier_opened": c.barrier_opened,
            "restored": c.restored,
            "boxes": dict(self._boxes),
            "images": {kind: kind in self._images or (kind == "face" and self._face is not None)
                       for kind in CROSSING_IMAGES},
        }

    def preview(self, role: str) -> Preview | None:
        """The newest frame of camera `role` as a small JPEG, encoded once per frame however many viewers."""
        frame = self.cameras[role].latest()
        if frame is None:
            return None
        with self._lock:
            cached = self._previews.get(role)
        if cached is not None and cached.seq == frame.seq:
            return cached
        preview = Preview(frame.seq, encode_jpeg(frame.image))
        with self._lock:
            self._previews[role] = preview
        return preview

    def crossing_image(self, crossing_id: str, kind: str) -> bytes | None:
        """One of CROSSING_IMAGES of the current crossing as JPEG, or None."""
        with self._lock:
            if self._crossing is None or self._crossing.crossing_id != crossing_id:
                return None
            if kind == "face" and self._face is not None and "face" not in self._images:
                chip = cv2.cvtColor(self._face.chip, cv2.COLOR_RGB2BGR)
                self._images["face"] = encode_jpeg(chip)
            return self._images.get(kind)

    def latest_frame(self, role: str) -> np.ndarray | None:
        frame = self.cameras[role].latest()
        return frame.image if frame is not None else None

    def test_barrier(self, actor: str) -> None:
        """A technician's test pulse; only while no vehicle is at the lane. Raises ActionRefused."""
        with self._lock:
            state = self._machine.snapshot.state
            if state is not LaneState.IDLE:
                raise ActionRefused(f"the lane is {state.value}: test the barrier only while the lane is idle")
            barrier = self.devices.barrier
            if barrier is None:
                raise ActionRefused("this lane has no barrier wired to the service")
            try:
                barrier.open(reason="technician test pulse", actor=actor)  # the sink audits it first
            except (OpenRefused, OpenFailed) as exc:
                raise ActionRefused(f"the barrier did not open: {exc}") from exc

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

    # -- inputs -----------------------------------------------------------------------------

    def feed(self, event: LaneEvent) -> None:
        """Apply an event from any thread (presence detector, devices, readers)."""
        with self._lock:
            snapshot = self._machine.handle(event)
            if snapshot is not None:
                self._follow(snapshot)
        if snapshot is not None:
            self._announce(snapshot)

    def tick(self, now: float) -> None:
        with self._lock:
            snapshot = self._machine.tick(now)
            if snapshot is not None:
                self._follow(snapshot)
            self._maybe_auto_clear(now)
        if snapshot is not None:
            self._announce(snapshot)

    def _follow(self, snapshot: LaneSnapshot) -> None:
        """Keep the crossing in step with the state machine (called under the lock)."""
        cid = snapshot.crossing_id
        if cid is None:
            if self._crossing is not None:
                self._close_crossing(self._crossing, snapshot.note or "closed", snapshot.since)
            self._crossing = None
            self._forget_images()
            if self._faces is not None:
                self._faces.reset()
            return
        if self._crossing is None or self._crossing.crossing_id != cid:
            self._crossing = Crossing(cid, self.config, opened_at=snapshot.since)
            self._forget_images()
            self._add_evidence(snapshot.since, staleness=self._staleness(), degraded=tuple(self.degraded()))

    def _forget_images(self) -> None:
        self._hits = {}
        self._images = {}
        self._face = None
        self._boxes = {}

    def _close_crossing(self, crossing: Crossing, note: str, closed_at: float) -> None:
        """Record that the crossing is over and how (called under the lock); it goes to the history too."""
        log.info("crossing closed: %s", note, extra={"lane": self.config.id, "crossing": crossing.crossing_id})
        e, decision, action = crossing.evidence, crossing.decision, crossing.action
        try:
            self._context.recorder.crossing_closed(self.config.id, crossing.crossing_id, {
                "note": note, "opened_at": crossing.opened_at, "closed_at": closed_at,
                "revision": decision.revision if decision else None,
                "outcome": str(decision.outcome) if decision else None,
                "action": action.kind.value if action else None, "actor": action.actor if action else None,
                "barrier_opened": crossing.barrier_opened, "restored": crossing.restored is not None,
            })
        except NotRecorded as exc:
            # The vehicle has gone either way; without this record a restart would offer the crossing
            # again as restored (and the loop or the officer would then close it).
            log.error("crossing close %s", exc, extra={"lane": self.config.id, "crossing": crossing.crossing_id})
        history = self._context.history
        if history is None:
            return
        # The decision's evidence summary names the plate and document also for a restored crossing,
        # whose live evidence is gone.
        summary = decision.evidence if decision else None
        try:
            history.add(PastCrossing(
                crossing_id=crossing.crossing_id, lane_id=self.config.id, opened_at=crossing.opened_at,
                closed_at=closed_at, plate=summary.plate if summary else None,
                document_number=summary.document_number if summary else None,
                name=f"{e.document.surname}, {e.document.given_names}" if e.document else None,
                outcome=str(decision.outcome) if decision else None, action=action.kind.value if action else None,
                actor=action.actor if action else None, barrier_opened=crossing.barrier_opened, note=note,
            ))
        except Exception:
            # The history is a convenience; the audit log holds the record.
            log.exception("crossing could not be added to the history", extra={"lane": self.config.id})

    def _staleness(self) -> Staleness | None:
        return self._context.staleness() if self._context.staleness is not None else None

    def _add_evidence(self, now: float, **evidence: Any) -> None:
        """Add to the current crossing and record a new decision revision (called under the lock)."""
        crossing = self._crossing
        if crossing is None:
            return
        if "hits" in evidence:
            self._hits.update(evidence.pop("hits"))
            evidence["hits"] = tuple(hit for hits in self._hits.values() for hit in hits)
        # The evidence's own day (today, live): a replay of a recorded or synthetic day decides as it did.
        decision = crossing.update(now, date.fromtimestamp(now), **evidence)
        if decision is not None:
            self._record_decision(decision)
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

    def _record_decision(self, decision: Decision) -> None:
        # Codes with their words: four LANE_DEGRADED in a row tell an operator nothing; which parts are.
        log.info("decision r%d: %s %s", decision.revision, decision.outcome,
                 "; ".join(f"{r.code} ({r.text})" for r in decision.reasons) or "(no reasons)",
                 extra={"lane": self.config.id, "crossing": decision.crossing_id})
        try:
            self._context.recorder.decision(decision)
        except NotRecorded as exc:
            # An unrecorded decision is still shown (the officer must see the vehicle), but nothing
            # may act on it: actions re-check the recorder, which will refuse them too (the storage
            # alarm says why).
            log.error("decision r%d %s", decision.revision, exc,
                      extra={"lane": self.config.id, "crossing": decision.crossing_id})
        self.decisions[str(decision.outcome)] = self.decisions.get(str(decision.outcome), 0) + 1

    # -- officer actions and the barrier ----------------------------------------------------

    def act(self, action: OfficerAction) -> ActionResult:
        """Take an officer's action: record it, then (if it allows) open the barrier. Raises ActionRefused."""
        with self._lock:
            crossing = self._crossing
            if crossing is None or crossing.crossing_id != action.crossing_id:
                raise ActionRefused("this crossing is no longer at the lane")
            if self._machine.snapshot.state is not LaneState.DECISION_PENDING:
                raise ActionRefused("the lane is still reading; wait for the decision")
            result = crossing.check_action(action)
            try:
                self._context.recorder.officer_action(action)
            except NotRecorded as exc:
                raise ActionRefused(f"{exc}, so the action was not taken") from exc
            crossing.apply_action(result)
            if result.open_barrier:
                why = f"officer {action.kind.value}" + (f": {action.reason}" if action.reason else "")
                try:
                    self._open_barrier(crossing, actor=f"{action.actor} ({action.role})", reason=why)
                except ActionRefused:
                    # The attempt is on record; the officer may try again once the fault is cleared.
                    crossing.action = None
                    raise
        self._announce()
        return result

    def _maybe_auto_clear(self, now: float) -> None:
        crossing = self._crossing
        if crossing is None or self._machine.snapshot.state is not LaneState.DECISION_PENDING:
            return
        if crossing.auto_clear_due():
            try:
                self._open_barrier(crossing, actor="auto-clear", reason="auto-clear: CLEAR with no reasons")
            except ActionRefused as exc:
                log.warning("auto-clear did not open the barrier: %s", exc,
                            extra={"lane": self.config.id, "crossing": crossing.crossing_id})
                crossing.barrier_opened = True  # once per crossing: the officer takes it from here

    def _open_barrier(self, crossing: Crossing, *, actor: str, reason: str) -> None:
        """Called under the lock, for a crossing whose rules allow it; opens at most once."""
        barrier = self.devices.barrier
        if crossing.barrier_opened:
            raise ActionRefused("the barrier has already opened for this crossing")
        if barrier is None:
            raise ActionRefused("this lane has no barrier wired to the service")
        try:
            barrier.open(reason=f"{crossing.crossing_id}: {reason}", actor=actor)
        except (OpenRefused, OpenFailed) as exc:
            raise ActionRefused(f"the barrier did not open: {exc}") from exc
        crossing.barrier_opened = True
        snapshot = self._machine.handle(BarrierOpened(at=time.time(), crossing_id=crossing.crossing_id))
        if snapshot is not None:
            self._follow(snapshot)

    def _record_barrier_command(self, command: BarrierCommand) -> None:
        # The barrier driver calls this before sending; raising stops the command.
        crossing_id = self._crossing.crossing_id if self._crossing is not None else None
        self._context.recorder.barrier_command(self.config.id, crossing_id, command)

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
        lookup = self._context.lookup
        with self._lock:
            if self._crossing is not None and self._crossing.restored is not None:
                log.info("document ignored: the restored crossing's decision cannot change; the officer decides",
                         extra={"lane": self.config.id, "crossing": self._crossing.crossing_id})
                return
            if isinstance(event, RescanRequired):
                self._add_evidence(now, document_rescan=event.reason)
            elif isinstance(event, DocumentRead):
                self.reads["document"] += 1
                mrz = event.mrz
                hits: dict[str, tuple[WatchlistHit, ...]] = {}
                if lookup is not None:
                    hits["document"] = tuple(lookup.document(mrz.document_number, mrz.issuing_state, now=now))
                    dob = mrz.birth_date.isoformat() if mrz.birth_date else None
                    hits["person"] = tuple(lookup.person(mrz.surname, mrz.given_names, dob=dob,
                                                         nationality=mrz.nationality, now=now))
                faces: dict[str, Any] = {}
                portrait = _reencode(event.portrait)
                if portrait is not None:
                    self._images["portrait"] = portrait
                else:
                    self._images.pop("portrait", None)
                if self._faces is not None:
                    self._faces.set_portrait(event.portrait)
                    faces["face_verification"], faces["face_candidates"] = self._faces.results()
                self._add_evidence(now, document=mrz, document_rescan=None, hits=hits, **faces)
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

    def _camera_changed(self, _status: CameraStatus) -> None:
        # The camera reader logs its own state changes; the kiosk needs them with the lane's state.
        self._changed.set()

    def _announce(self, _snapshot: LaneSnapshot | None = None) -> None:
        self._changed.clear()
        # "at": when it left the lane, so the kiosk's browser test can report push -> screen time.
        self._broadcaster.publish({"type": "lane", "lane": self.view().to_json(), "at": time.time()})

    # -- camera workers ---------------------------------------------------------------------

    def _reading(self) -> bool:
        # A restored crossing's decision cannot change (edge/lane/crossing.py): reading for it is wasted work.
        crossing = self._crossing
        return self._machine.snapshot.state in _READING_STATES and (crossing is None or crossing.restored is None)

    def _run_plate_camera(self) -> None:
        camera = self.cameras["plate"]
        seq = 0
        while not self._stop.is_set():
            frame = camera.wait_newer(seq, timeout=_FRAME_WAIT_S)
            if frame is not None:
                seq = frame.seq
                try:
                    self.plate_frame(frame.image, frame.captured_at)
                except Exception:
                    # One bad frame must not stop the lane; the next frame is a fresh chance.
                    log.exception("plate frame %d could not be processed", frame.seq, extra={"lane": self.config.id})
                self.frames_processed += 1
            self.tick(time.time())
            if self._changed.is_set():
                self._announce()
            if self.heartbeat is not None:
                self.heartbeat(self.config.id)

    def plate_frame(self, image: np.ndarray, at: float) -> None:
        """One plate-camera frame taken at `at`: presence, then the plate while a crossing is read.
        The camera worker calls it for every frame it takes; a replay of a scene calls it in scene time."""
        for event in self._presence.update(image, at):
            self.feed(event)
        if self._reading():
            self._read_plate(image, at)

    def _read_plate(self, image: np.ndarray, at: float) -> None:
        reader = self._plate_reader
        if reader is None:
            return
        reads = reader.read_frame(image, timestamp=at)
        announced = self._voter.add(reads, at)
        if not announced and reads and self._crossing is not None and self._crossing.evidence.plate is None:
            # The vote needs several frames; until then the officer sees this frame's best read,
            # marked provisional (one frame), and the decision counts it as such.
            announced = [vote([max(reads, key=lambda read: read.confidence)])]
        for plate in announced:
            self.reads["plate"] += 1
            hits = self._context.lookup.plate(plate.text, now=at) if self._context.lookup is not None else []
            crop = encode_jpeg(plate.best_crop, width=400)
            scale = preview_scale(image)
            with self._lock:
                self._images["plate"] = crop
                self._boxes["plate"] = [[x * scale, y * scale] for x, y in plate.quad]
                self._add_evidence(at, plate=plate, hits={"plate": tuple(hits)})
            log.info("plate %s (%.0f%%)", plate.text, 100 * plate.confidence,
                     extra={"lane": self.config.id, "crossing": self._machine.snapshot.crossing_id})
            self._announce()

    def _run_face_camera(self) -> None:
        camera = self.cameras["face"]
        seq = 0
        while not self._stop.is_set():
            frame = camera.wait_newer(seq, timeout=_FRAME_WAIT_S)
            if frame is None or self._faces is None or not self._reading():
                seq = frame.seq if frame is not None else seq
                continue
            seq = frame.seq
            try:
                changed = self._faces.offer(frame.image, frame.captured_at)
                if changed:
                    self.reads["face"] += 1  # a new or better fused face template
                changed = self._keep_best_face(preview_scale(frame.image)) or changed
                if changed:
                    verification, candidates = self._faces.results()
                    with self._lock:
                        self._add_evidence(frame.captured_at, face_verification=verification,
                                           face_candidates=candidates)
                    self._announce()
            except Exception:
                log.exception("face frame %d could not be processed", frame.seq, extra={"lane": self.config.id})

    def _keep_best_face(self, scale: float) -> bool:
        """Follow the traveller's best face (its box for the kiosk); True when it changed."""
        assert self._faces is not None
        with self._lock:  # under the lane lock, so a reset for the next crossing cannot slip in between
            best = self._faces.best_face()
            if best is None or best is self._face or self._crossing is None:
                return False
            self._face = best
            self._images.pop("face", None)
            box = best.box
            self._boxes["face"] = {"left": box.left * scale, "top": box.top * scale,
                                   "width": box.width * scale, "height": box.height * scale}
            return True
