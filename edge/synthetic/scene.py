"""The synthetic crossing of one lane: what is there at time t, and what each camera sees.

A `Scene` is a pure function of (lane, seed, t): the timeline says which vehicle is where, the
vehicle and its traveller are drawn from a generator seeded by the slot, and rendering adds
only deterministic per-frame noise. Separate processes (cameras, simulated document reader,
barrier loop) therefore agree on what happens at time t without talking to each other.

Ground truth (`truth_at`) exists so that tests and benchmarks can check the readers; nothing
in the product may read it to make a decision.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from edge.synthetic.timeline import (
    PURPOSE_FRAME,
    PURPOSE_LANE,
    PURPOSE_VEHICLE,
    SLOT_S,
    SlotPlan,
    generator,
    loop_occupied,
    moment,
    slot_index,
    slot_plan,
)
from edge.synthetic.views import add_sensor_noise, face_box, plate_quad, render_face_view, render_plate_view
from edge.synthetic.visits import Visit, VisitAssets, build_assets, random_rig, random_visit, vehicle_pose
from edge.synthetic.waiting import WaitingCars
from edge.synthetic.world import background
from hardware.mrz import TravelDocument

PLATE_CAMERA, FACE_CAMERA = "plate", "face"
CAMERAS = (PLATE_CAMERA, FACE_CAMERA)
# A day of documents: a longer window is a caller's mistake, not a request worth 4000 slots.
_MAX_DOCUMENT_WINDOW_S = 86_400.0


@dataclass(frozen=True)
class SceneTruth:
    """What is really at the lane at time t (for tests and benchmarks only)."""

    t: float
    phase: str  # "empty" | "arriving" | "stopped" | "leaving"
    vehicle_id: int | None
    plate_text: str | None
    plate_region: str | None
    # Plate corners in the plate camera frame (TL, TR, BR, BL), when the whole plate is in view.
    plate_quad: tuple[tuple[float, float], ...] | None
    # Driver's face (x, y, w, h) in the face camera frame, when the whole face is in view.
    face_box: tuple[float, float, float, float] | None
    document: TravelDocument | None
    mrz_lines: tuple[str, str] | None
    loop_occupied: bool  # the vehicle is over the barrier's induction loop
    night: bool


class Scene:
    """One lane's synthetic crossing; see the module docstring."""

    def __init__(self, lane_id: str, seed: int) -> None:
        self.lane_id = lane_id
        self.seed = seed
        self.rig = random_rig(generator(seed, lane_id, PURPOSE_LANE))
        self._lock = threading.Lock()
        self._backgrounds: dict[tuple[str, bool], np.ndarray] = {}
        self.plan = lru_cache(maxsize=256)(self._plan)
        self.visit = lru_cache(maxsize=64)(self._visit)
        self._assets_lock = threading.Lock()
        self._cached_assets = lru_cache(maxsize=4)(self._build_assets)
        self._waiting: WaitingCars | None = None
        self._restaged: dict[int, Visit] = {}  # slot -> the visit a drill put there instead

    def wait_at_barrier(self, wait_limit_s: float, now: float, cadence_s: float = SLOT_S) -> WaitingCars:
        """From now on, in this process, each car waits at the barrier until it is released (see
        waiting.py); returns the schedule to release them with. The first call decides."""
        with self._lock:
            if self._waiting is None:
                self._waiting = WaitingCars(self.plan, self.lane_id, wait_limit_s, now, cadence_s)
            return self._waiting

    @property
    def waiting(self) -> WaitingCars | None:
        """The waiting cars `wait_at_barrier` set up, or None while cars keep the pure timeline."""
        return self._waiting

    def plan_at(self, t: float) -> SlotPlan:
        """The plan of the car at the lane at time t: the pure timeline's, or the waiting cars'."""
        waiting = self._waiting
        return waiting.plan_at(_finite(t)) if waiting is not None else self.plan(slot_index(_finite(t), self.lane_id))

    def _plan(self, slot: int) -> SlotPlan:
        return slot_plan(self.seed, self.lane_id, slot)

    def restage(self, slot: int, visit: Visit) -> None:
        """Put `visit` in the slot instead of the pure timeline's (a drill's scenario car), in this
        process; before the car comes, so that every camera and the stage hand see the same car."""
        with self._assets_lock:
            self._restaged[slot] = visit
            self.visit.cache_clear()
            self._cached_assets.cache_clear()

    def _visit(self, slot: int) -> Visit | None:
        if slot in self._restaged:
            return self._restaged[slot]
        plan = self.plan(slot)
        if not plan.has_vehicle:
            return None
        return random_visit(generator(self.seed, self.lane_id, PURPOSE_VEHICLE, slot % (1 << 63)), plan, slot)

    def assets(self, slot: int) -> VisitAssets:
        # Both cameras' threads want a new vehicle's assets at the same moment: build them once.
        with self._assets_lock:
            return self._cached_assets(slot)

    def _build_assets(self, slot: int) -> VisitAssets:
        visit = self.visit(slot)
        if visit is None:
            raise ValueError(f"slot {slot} of lane {self.lane_id} has no vehicle")
        return build_assets(visit)

    def background(self, camera: str, night: bool) -> np.ndarray:
        key = (camera, night)
        with self._lock:
            if key not in self._backgrounds:
                cam = self.rig.plate_camera if camera == PLATE_CAMERA else self.rig.face_camera
                self._backgrounds[key] = background(cam, self.rig.world, night)
            return self._backgrounds[key]

    def truth_at(self, t: float) -> SceneTruth:
        plan = self.plan_at(t)
        m = moment(plan, t)
        visit = self.visit(plan.slot) if m.phase != "empty" else None
        if visit is None:
            return SceneTruth(t, "empty", None, None, None, None, None, None, None, False, plan.night)
        assets = self.assets(plan.slot)
        travel = m.travel_m + visit.stop_offset_m
        rotation, translation = vehicle_pose(self.rig.world, visit, travel)
        quad = plate_quad(self.rig, assets, rotation, translation)
        return SceneTruth(
            t=t,
            phase=m.phase,
            vehicle_id=visit.vehicle_id,
            plate_text=visit.plate.text,
            plate_region=visit.plate.region,
            plate_quad=None if quad is None else tuple((float(x), float(y)) for x, y in quad),
            face_box=face_box(self.rig, assets, rotation, translation),
            document=visit.traveller.document,
            mrz_lines=visit.traveller.mrz,
            loop_occupied=loop_occupied(-travel, visit.car.length),
            night=plan.night,
        )

    def render(self, camera: str, t: float) -> np.ndarray:
        """The camera's 1280x720 BGR frame at time t; the same (camera, t) gives the same frame."""
        if camera not in CAMERAS:
            raise ValueError(f"unknown camera {camera!r}; the scene has {', '.join(CAMERAS)}")
        plan = self.plan_at(t)
        m = moment(plan, t)
        frame = self.background(camera, plan.night).copy()
        rng = generator(self.seed, self.lane_id, PURPOSE_FRAME, CAMERAS.index(camera),
                        round(t * 1000) % (1 << 63))
        visit = self.visit(plan.slot) if m.phase != "empty" else None
        if visit is None:
            add_sensor_noise(frame, plan.night, rng)
            return frame
        assets = self.assets(plan.slot)
        if camera == PLATE_CAMERA:
            render_plate_view(frame, self.rig, visit, assets, m, rng)
        else:
            render_face_view(frame, self.rig, visit, assets, m, rng)
        return frame

    def document_presented(self, t0: float, t1: float) -> list[tuple[float, tuple[str, str]]]:
        """Passports handed to the reader in [t0, t1): (time, the two MRZ lines), in time order."""
        if _finite(t1) - _finite(t0) > _MAX_DOCUMENT_WINDOW_S:
            raise ValueError(
                f"asked for documents over {t1 - t0:.0f} s; at most {_MAX_DOCUMENT_WINDOW_S:.0f} s at once")
        waiting = self._waiting
        plans = waiting.plans_between(t0, t1) if waiting is not None else \
            [self.plan(slot) for slot in range(slot_index(t0, self.lane_id), slot_index(t1, self.lane_id) + 1)]
        events = []
        for plan in plans:
            # A car released before it handed the passport over never hands it over.
            if plan.has_vehicle and t0 <= plan.document_at < t1 and plan.document_at < plan.leaves_at:
                visit = self.visit(plan.slot)
                if visit is not None:
                    events.append((plan.document_at, visit.traveller.mrz))
        return events


def _finite(t: float) -> float:
    if not math.isfinite(t):
        raise ValueError(f"scene time must be a finite number of seconds, got {t!r}")
    return t


@lru_cache(maxsize=32)
def scene_for(lane_id: str, seed: int) -> Scene:
    """The lane's scene, shared by everyone in this process who asks for the same (lane, seed)."""
    return Scene(lane_id, seed)
