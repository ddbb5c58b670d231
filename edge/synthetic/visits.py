"""A slot's visit: the car, its plate, the driver and passport, and how the lane's cameras see it.

Everything here is drawn from a generator the caller seeds, so the same seed gives the same
visit in every process; `build_assets` turns a visit into the textures and panels frames reuse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from edge.synthetic import effects
from edge.synthetic.camera import PinholeCamera, rotation_y
from edge.synthetic.faces import DriverLook, driver_layer, random_driver_look
from edge.synthetic.plates import PlateSpec, draw_plate, random_plate_spec
from edge.synthetic.regions import REGIONS, random_plate_text
from edge.synthetic.render import PartSet, Texture
from edge.synthetic.timeline import SlotPlan
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
from edge.synthetic.world import ISLAND_X_M, KERB_M, LaneWorld

# Parts seen through the driver's open window, which the driver sits in front of.
INSIDE_PARTS = ("interior", "seat", "headrest")


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
    plate_mud: bool = False  # the plate is caked in mud past reading (a training scenario)

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
    booth_wall_x = ISLAND_X_M + KERB_M + 0.45
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
    if visit.plate_mud:
        plate = effects.mud(plate)
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
        inside_parts=PartSet.of([p for p in parts if p.name in INSIDE_PARTS]),
        outside_parts=PartSet.of([p for p in parts if p.name not in INSIDE_PARTS]),
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
