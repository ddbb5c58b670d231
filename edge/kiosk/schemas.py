"""The kiosk's JSON payloads as response models: FastAPI checks every answer against them, and the
schema (`python -m edge.kiosk.openapi`, committed as docs/kiosk-api.json) documents them.

The lane's own objects make these payloads (`to_json` in edge/lane, edge/capture, hardware); the models
name every field the page relies on. Nested records that carry free-form detail (an MRZ, a watchlist
hit, a barrier's status) allow extra keys, so that a field added at the source is never dropped here.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Payload(BaseModel):
    model_config = ConfigDict(extra="allow")


class Healthy(BaseModel):
    status: str


class LaneSnapshotOut(BaseModel):
    lane_id: str
    state: str  # idle | present | reading | decision_pending | passing
    since: float
    crossing_id: str | None
    overdue: bool
    note: str | None


class CameraStatusOut(BaseModel):
    camera_id: str
    url: str  # any password masked
    state: str  # live | connecting | reconnecting | stalled | ...
    since: float
    last_frame_at: float | None
    fps: float
    frames: int
    dropped: int
    corrupt: int
    reconnects: int
    error: str | None


class DeviceHealthOut(BaseModel):
    device: str
    state: str  # online | degraded | offline
    last_error: str | None
    changed_at: float | None


class ReasonOut(BaseModel):
    code: str
    outcome: str
    text: str
    advisory: bool


class DecisionOut(BaseModel):
    crossing_id: str
    lane_id: str
    revision: int
    outcome: str  # CLEAR | REFER | DENY
    reasons: list[ReasonOut]
    auto_clear: bool
    made_at: float
    evidence: Payload  # plate, document number, issuing state, face match: what this revision was about
    face_score: float | None
    hits: list[Payload]  # list, action


class OfficerActionOut(BaseModel):
    crossing_id: str
    lane_id: str
    kind: str  # confirm | refer | deny | override
    revision: int
    actor: str
    role: str
    at: float
    reason: str | None


class CrossingOut(BaseModel):
    crossing_id: str
    opened_at: float
    plate: Payload | None  # text, region, confidence, per-character confidences, frames, runner-ups
    document: Payload | None  # the MRZ read, with its checks
    document_rescan: str | None
    face: Payload | None  # the 1:1 result: score, threshold, match, reference
    face_candidates: list[Payload]  # the 1:N search's nearest watchlist faces
    hits: list[Payload]  # watchlist hits: list, reason, action, match, advisory, record, source
    decision: DecisionOut | None
    action: OfficerActionOut | None
    barrier_opened: bool
    restored: str | None  # the note of a crossing restored after a restart
    boxes: Payload  # plate quad and face box, in preview pixels
    images: dict[str, bool]  # which of plate, portrait, face can be fetched


class LaneViewOut(BaseModel):
    lane_id: str
    name: str
    snapshot: LaneSnapshotOut
    cameras: dict[str, CameraStatusOut]
    devices: list[DeviceHealthOut]
    barrier: Payload | None  # arm, loop, faults, health
    crossing: CrossingOut | None
    training: bool  # a training lane: its records are kept apart, and every screen says so


class ActionDone(BaseModel):
    action: OfficerActionOut
    barrier_opened: bool


class CheckpointStatus(BaseModel):
    watchlist: Payload  # stale, policy, max_age_s, oldest_age_s, reasons
    storage: Payload | None  # the storage alarm, while there is one
    audit: Payload  # the audit chain's start-up check


class CameraCheckOut(BaseModel):
    """The technician's numbers for the newest frame of one camera."""

    lane: str
    camera: str
    frame: Payload  # width, height
    scale: float  # frame pixels -> preview pixels
    roi: Payload | None
    focus: float
    exposure: Payload  # mean, dark_clipped, bright_clipped, histogram, problems
    plate: Payload | None = None  # plate camera: char_height_px, minimum_px, ok, text, quad
    face: Payload | None = None  # face camera: inter_eye_px, minimum_px, ok, problems, box


class DeviceTestDone(BaseModel):
    done: str


class RoiProposed(BaseModel):
    roi: Payload  # x, y, width, height
    command: str  # the `edge calibrate roi ...` line that writes it into the config


class Me(BaseModel):
    username: str
    role: str  # officer | technician | supervisor
    all_lanes: bool
    lanes: list[str]  # the lanes the account may see, when not all
    csrf_token: str  # sent back with every change
    session_ends_at: float


class LoggedOut(BaseModel):
    logged_out: str
