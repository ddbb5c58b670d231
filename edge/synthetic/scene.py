"""The synthetic crossing of one lane: what is there at time t, and what each camera sees.

A `Scene` is a pure function of (lane, seed, t): the timeline says which vehicle is where, the
vehicle and its traveller are drawn from a generator seeded by the slot, and rendering adds
only deterministic per-frame noise. Separate processes (cameras, simulated document reader,
barrier loop) therefore agree on what happens at time t without talking to each other.

Ground truth (`truth_at`) exists so that tests and benchmarks can check the readers; nothing
in the product may read it to make a decision.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

import cv2
import numpy as np

from edge.synthetic import effects
from edge.synthetic.camera import PinholeCamera, bounding_box, quad_inside, rotation_y
from edge.synthetic.faces import DriverLook, driver_layer, random_driver_look
from edge.synthetic.plates import PlateSpec, draw_plate, random_plate_spec
from edge.synthetic.regions import REGIONS, random_plate_text
from edge.synthetic.render import PartSet, Texture, draw_parts, map_points, warp_texture
from edge.synthetic.timeline import (
    PURPOSE_FRAME,
    PURPOSE_LANE,
    Moment,
    SlotPlan,
    generator,
    loop_occupied,
    moment,
    slot_index,
    slot_plan,
)
from edge.synthetic.travellers import Traveller, nationality_for_region, random_traveller
from edge.synthetic.vehicles import (
    CarModel,
    car_parts,
    driver_corners,
    driver_window,
    headlight_centres,
    plate_corners,
    random_car,
)
from edge.synthetic.world import KERB_M, LaneWorld, background
from hardware.mrz import TravelDocument

PLATE_CAMERA, FACE_CAMERA = "plate", "face"
CAMERAS = (PLATE_CAMERA, FACE_CAMERA)
PURPOSE_VEHICLE = 3
# Exposure times: motion blur is speed x exposure, and night exposures are long.
_EXPOSURE_DAY_S, _EXPOSURE_NIGHT_S = 1 / 250, 1 / 60
_NOISE_DAY, _NOISE_NIGHT = 2.5, 7.0
# A car passing right in front of a lens is a smear anyway; more blur only costs time.
_MAX_BLUR_SIGMA = 10.0
# Below this the edge of a blurred box is invisible and the cheaper whole-box blur will do.
_SEAMLESS_SIGMA = 1.5
_MAX_GLARE_PX = 260
# Parts seen through the driver's open window, which the driver sits in front of.
_INSIDE_PARTS = ("interior", "seat", "headrest")


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


@dataclass(frozen=True)
class Visit:
    """One slot's vehicle, plate, driver and how the cameras happen to see them."""

    vehicle_id: int
    plan: SlotPlan
    car: CarModel
    plate: PlateSpec
    traveller: Traveller
    driver: DriverLook
    stop_offset_m: float  # stops a little short of (negative) or past the stopping point
    yaw_deg: float
    focus_sigma: float
    jpeg_quality: int

    @property
    def night(self) -> bool:
        return self.plan.night


@dataclass(frozen=True, eq=False)
class VisitAssets:
    """A visit's textures and panels, made once and reused by every frame."""

    parts: PartSet
    inside_parts: PartSet
    outside_parts: PartSet
    plate: Texture
    plate_corners: np.ndarray
    headlights: np.ndarray
    driver: Texture
    driver_corners: np.ndarray
    face_corners: np.ndarray  # face box corners in driver-texture pixels
    window: np.ndarray


@dataclass(frozen=True, eq=False)
class LaneRig:
    world: LaneWorld
    plate_camera: PinholeCamera
    face_camera: PinholeCamera


def random_rig(rng: np.random.Generator, plate_roll_deg: float | None = None) -> LaneRig:
    """Where a lane's cameras hang: the plate camera ahead of the stopping point on the island,
    the face camera on the booth wall at the driver's window."""
    world = LaneWorld(stop_z=float(rng.uniform(4.5, 6.5)), seed=int(rng.integers(1 << 30)))
    roll = float(rng.uniform(-3, 3)) if plate_roll_deg is None else plate_roll_deg
    plate = PinholeCamera.look_at(
        (float(rng.uniform(1.0, 2.2)), float(rng.uniform(0.9, 1.9)), 0.0), (0.0, 0.7, world.stop_z),
        focal_px=float(rng.uniform(1500, 1900)), roll_deg=roll)
    booth_wall_x = world.island_x + KERB_M + 0.45
    head_z = world.stop_z + 2.05
    face = PinholeCamera.look_at((booth_wall_x, 1.3, head_z), (0.35, 1.05, head_z),
                                 focal_px=float(rng.uniform(1400, 1650)), roll_deg=float(rng.uniform(-2, 2)))
    return LaneRig(world, plate, face)


def random_visit(rng: np.random.Generator, plan: SlotPlan, vehicle_id: int, region: str | None = None) -> Visit:
    region = region or list(REGIONS)[int(rng.integers(len(REGIONS)))]
    plate = random_plate_spec(random_plate_text(region, rng), region, rng)
    on = datetime.fromtimestamp(max(plan.start, 0.0), UTC).date()
    return Visit(
        vehicle_id=vehicle_id,
        plan=plan,
        car=random_car(rng, plate.size_m),
        plate=plate,
        traveller=random_traveller(rng, on, nationality_for_region(region, rng)),
        driver=random_driver_look(rng),
        stop_offset_m=float(rng.uniform(-0.3, 0.3)),
        yaw_deg=float(rng.uniform(-4, 4)),
        focus_sigma=float(rng.uniform(0.0, 0.9)),
        jpeg_quality=int(rng.integers(55, 93)),
    )


def build_assets(visit: Visit) -> VisitAssets:
    parts = car_parts(visit.car)
    plate = draw_plate(visit.plate, px_per_mm=1.0)
    if visit.night:
        # The plate lamp keeps the plate brighter than the rest of the car at night.
        plate = effects.night_grade(plate, gain=0.6)
    layer = driver_layer(visit.driver, visit.night)
    corners = driver_corners(visit.car, layer.aspect, layer.height_m)
    forward, up = visit.driver.seat_offset
    corners = corners + np.array([0.0, up, -forward])
    x, y, w, h = layer.face_box
    return VisitAssets(
        parts=PartSet.of(parts),
        inside_parts=PartSet.of([p for p in parts if p.name in _INSIDE_PARTS]),
        outside_parts=PartSet.of([p for p in parts if p.name not in _INSIDE_PARTS]),
        plate=Texture.of(plate),
        plate_corners=plate_corners(visit.car),
        headlights=headlight_centres(visit.car),
        driver=Texture.of(layer.image, layer.alpha),
        driver_corners=corners,
        face_corners=np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]]),
        window=driver_window(visit.car),
    )


def vehicle_pose(world: LaneWorld, visit: Visit, travel_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Rotation and translation placing the car in the world, `travel_m` past the stopping point.

    Past the barrier the lane bends away from the booth: the car drifts to -x and turns.
    """
    past = max(travel_m, 0.0)
    rotation = rotation_y(visit.yaw_deg + 3.0 * past)
    translation = np.array([-0.07 * past * past, 0.0, world.stop_z - travel_m])
    return rotation, translation


def _project_all_in_front(camera: PinholeCamera, points: np.ndarray, rotation: np.ndarray,
                          translation: np.ndarray) -> np.ndarray | None:
    uv, in_front = camera.project(points @ rotation.T + translation)
    return uv if in_front.all() else None


def plate_quad(rig: LaneRig, assets: VisitAssets, rotation: np.ndarray, translation: np.ndarray) -> np.ndarray | None:
    """The plate's corners in the plate camera frame, or None if the plate is not wholly in view."""
    quad = _project_all_in_front(rig.plate_camera, assets.plate_corners, rotation, translation)
    if quad is None or not quad_inside(quad, rig.plate_camera.width, rig.plate_camera.height):
        return None
    return quad


def face_box(rig: LaneRig, assets: VisitAssets, rotation: np.ndarray,
             translation: np.ndarray) -> tuple[float, float, float, float] | None:
    """The driver's face box in the face camera frame, if the face is wholly in view through the window."""
    cam = rig.face_camera
    quad = _project_all_in_front(cam, assets.driver_corners, rotation, translation)
    window = _project_all_in_front(cam, assets.window, rotation, translation)
    if quad is None or window is None:
        return None
    face = map_points(assets.driver, quad, assets.face_corners)
    if not quad_inside(face, cam.width, cam.height):
        return None
    contour = window.astype(np.float32).reshape(-1, 1, 2)
    if any(cv2.pointPolygonTest(contour, (float(x), float(y)), False) < 0 for x, y in face):
        return None
    x0, y0 = face.min(axis=0)
    x1, y1 = face.max(axis=0)
    return float(x0), float(y0), float(x1 - x0), float(y1 - y0)


def _blur_region(frame: np.ndarray, polygons: list[np.ndarray], sigma: float) -> None:
    """Blur what was drawn (focus, motion), leaving the background around it sharp."""
    if not polygons or sigma < 0.3:
        return
    sigma = min(sigma, _MAX_BLUR_SIGMA)
    pad = int(3 * sigma) + 2
    box = bounding_box(np.concatenate(polygons), frame.shape[1], frame.shape[0], pad=pad)
    if box is None:
        return
    x0, y0, x1, y1 = box
    roi = frame[y0:y1, x0:x1]
    blurred = effects.gaussian_blur(roi, sigma)
    if sigma < _SEAMLESS_SIGMA:
        roi[:] = blurred
        return
    # A strong blur of the whole box would show the box's edges in the background: blend the
    # blurred car in through a soft mask of its outline instead.
    mask = np.zeros(roi.shape[:2], np.float32)
    offset = np.array([x0, y0])
    for polygon in polygons:
        # One call per panel: a single call with overlapping polygons would cancel the overlaps.
        cv2.fillPoly(mask, [np.round(polygon - offset).astype(np.int32)], 1.0)
    mask = effects.gaussian_blur(mask, sigma)
    roi[:] = cv2.blendLinear(blurred, roi, mask, 1.0 - mask)


def _motion_sigma(camera: PinholeCamera, speed: float, depth_m: float, night: bool) -> float:
    exposure = _EXPOSURE_NIGHT_S if night else _EXPOSURE_DAY_S
    return 0.5 * camera.focal_px * speed * exposure / max(depth_m, 0.5)


def render_plate_view(frame: np.ndarray, rig: LaneRig, visit: Visit, assets: VisitAssets, m: Moment,
                      rng: np.random.Generator) -> None:
    """Draw the visit's car into the plate camera's frame (already holding the background)."""
    cam = rig.plate_camera
    travel = m.travel_m + visit.stop_offset_m
    rotation, translation = vehicle_pose(rig.world, visit, travel)
    drawn = draw_parts(frame, cam, assets.parts, rotation, translation, visit.night)
    quad = _project_all_in_front(cam, assets.plate_corners, rotation, translation)
    if quad is not None:
        warp_texture(frame, assets.plate, quad)
    depth = float(cam.to_camera(translation[None])[0, 2])
    sigma = float(np.hypot(visit.focus_sigma, _motion_sigma(cam, m.speed, depth, visit.night)))
    _blur_region(frame, drawn, sigma)
    if visit.night and drawn:
        lamps = _project_all_in_front(cam, assets.headlights, rotation, translation)
        if lamps is not None and depth > 0.5:
            radius = min(cam.focal_px * 0.5 / depth, _MAX_GLARE_PX)
            for x, y in lamps:
                effects.add_glare(frame, (float(x), float(y)), radius=radius)
    effects.add_field_noise(frame, _NOISE_NIGHT if visit.night else _NOISE_DAY, rng)
    if quad is not None:
        # Compression damage where it matters for reading: around the plate.
        box = bounding_box(quad, frame.shape[1], frame.shape[0], pad=16)
        if box is not None:
            x0, y0, x1, y1 = box
            frame[y0:y1, x0:x1] = effects.jpeg(np.ascontiguousarray(frame[y0:y1, x0:x1]), visit.jpeg_quality)


def render_face_view(frame: np.ndarray, rig: LaneRig, visit: Visit, assets: VisitAssets, m: Moment,
                     rng: np.random.Generator) -> None:
    """Draw the visit's car, and the driver at its open window, into the face camera's frame."""
    cam = rig.face_camera
    rotation, translation = vehicle_pose(rig.world, visit, m.travel_m + visit.stop_offset_m)
    inside = draw_parts(frame, cam, assets.inside_parts, rotation, translation, visit.night)
    driver = _project_all_in_front(cam, assets.driver_corners, rotation, translation)
    window = _project_all_in_front(cam, assets.window, rotation, translation)
    if driver is not None and window is not None:
        # The driver shows only through the open window: paint no further than its outline.
        warp_texture(frame, assets.driver, driver, clip=bounding_box(window, cam.width, cam.height, pad=2))
    outside = draw_parts(frame, cam, assets.outside_parts, rotation, translation, visit.night)
    depth = float(np.linalg.norm(cam.position[[0, 2]] - translation[[0, 2]]))
    sigma = _motion_sigma(cam, m.speed, max(depth, 1.5), visit.night)
    _blur_region(frame, inside + outside, sigma)
    effects.add_field_noise(frame, _NOISE_NIGHT if visit.night else _NOISE_DAY, rng)


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

    def _plan(self, slot: int) -> SlotPlan:
        return slot_plan(self.seed, self.lane_id, slot)

    def _visit(self, slot: int) -> Visit | None:
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
        plan = self.plan(slot_index(t, self.lane_id))
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
        plan = self.plan(slot_index(t, self.lane_id))
        m = moment(plan, t)
        frame = self.background(camera, plan.night).copy()
        rng = generator(self.seed, self.lane_id, PURPOSE_FRAME, CAMERAS.index(camera),
                        round(t * 1000) % (1 << 63))
        visit = self.visit(plan.slot) if m.phase != "empty" else None
        if visit is None:
            effects.add_field_noise(frame, _NOISE_NIGHT if plan.night else _NOISE_DAY, rng)
            return frame
        assets = self.assets(plan.slot)
        if camera == PLATE_CAMERA:
            render_plate_view(frame, self.rig, visit, assets, m, rng)
        else:
            render_face_view(frame, self.rig, visit, assets, m, rng)
        return frame

    def document_presented(self, t0: float, t1: float) -> list[tuple[float, tuple[str, str]]]:
        """Passports handed to the reader in [t0, t1): (time, the two MRZ lines), in time order."""
        events = []
        for slot in range(slot_index(t0, self.lane_id), slot_index(t1, self.lane_id) + 1):
            plan = self.plan(slot)
            if plan.has_vehicle and t0 <= plan.document_at < t1:
                visit = self.visit(slot)
                if visit is not None:
                    events.append((plan.document_at, visit.traveller.mrz))
        return events


@lru_cache(maxsize=32)
def scene_for(lane_id: str, seed: int) -> Scene:
    """The lane's scene, shared by everyone in this process who asks for the same (lane, seed)."""
    return Scene(lane_id, seed)
