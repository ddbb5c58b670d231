"""Camera presence: a vehicle entering, stopping and leaving gives exactly those events; light does not."""

from __future__ import annotations

import numpy as np

from edge.config import PresenceConfig, RegionOfInterest
from edge.lane.machine import VehicleArrived, VehicleLeft, VehicleStopped
from edge.lane.presence import PresenceDetector

H, W = 360, 640


def scene(rng: np.random.Generator, light: float = 1.0, car_x: int | None = None) -> np.ndarray:
    """A textured road with, optionally, a dark 'car' whose left edge is at car_x."""
    road = np.clip(rng.normal(120, 6, (H, W)), 0, 255)
    road[:, ::40] = 200  # lane markings give the background structure
    if car_x is not None:
        x0, x1 = max(car_x, 0), min(car_x + 320, W)
        if x1 > x0:
            road[80:300, x0:x1] = 40
            road[120:160, x0 + 20 : max(x0 + 21, x1 - 20)] = 230  # windows / plate: the car has texture too
    image = np.clip(road * light, 0, 255).astype(np.uint8)
    return np.dstack([image] * 3)


def run(frames: list[np.ndarray], roi: RegionOfInterest | None = None) -> list:
    detector = PresenceDetector(PresenceConfig(), roi)
    events = []
    for i, frame in enumerate(frames):
        events += detector.update(frame, at=float(i))
    return events


def test_arrive_stop_leave_in_order():
    rng = np.random.default_rng(1)
    frames = [scene(rng) for _ in range(10)]
    frames += [scene(rng, car_x=x) for x in range(-320, 160, 40)]  # driving in
    frames += [scene(rng, car_x=160) for _ in range(15)]  # stopped at the barrier
    frames += [scene(rng, car_x=x) for x in range(200, W + 40, 40)]  # driving out
    frames += [scene(rng) for _ in range(10)]
    kinds = [type(e) for e in run(frames)]
    assert kinds == [VehicleArrived, VehicleStopped, VehicleLeft]


def test_slow_dusk_and_a_light_switch_are_not_vehicles():
    rng = np.random.default_rng(2)
    dusk = [scene(rng, light=1.0 - 0.5 * i / 200) for i in range(200)]
    floodlights_on = [scene(rng, light=1.6) for _ in range(20)]
    assert run(dusk + floodlights_on) == []


def test_a_change_that_appears_at_once_and_holds_still_is_learnt_not_announced():
    rng = np.random.default_rng(4)
    empty = [scene(rng) for _ in range(10)]
    teleported = [scene(rng, car_x=160) for _ in range(10)]  # no frame shows it moving: a light, a shadow
    assert run(empty + teleported) == []


def test_roi_limits_where_the_detector_looks():
    rng = np.random.default_rng(3)
    frames = [scene(rng) for _ in range(10)]
    frames += [scene(rng, car_x=x) for x in range(-320, 160, 40)]  # drives in from the left, stops at 160..480
    frames += [scene(rng, car_x=160) for _ in range(10)]
    assert run(frames, roi=RegionOfInterest(x=540, y=0, width=100, height=H)) == []
    assert [type(e) for e in run(frames, roi=RegionOfInterest(x=160, y=0, width=320, height=H))] == [
        VehicleArrived, VehicleStopped
    ]


def test_synthetic_crossing_vehicles_are_seen_arriving_and_leaving():
    """Against the demo's synthetic scene, checked with its ground truth (which only tests may read)."""
    from edge.synthetic import scene_for

    scene_ = scene_for("lane-1", 1)
    detector = PresenceDetector(PresenceConfig())
    t0, fps = 1_795_892_000.0, 5
    events = []
    for i in range(70 * fps):
        t = t0 + i / fps
        events += [(e, scene_.truth_at(t)) for e in detector.update(scene_.render("plate", t), t)]
    arrivals = [truth for e, truth in events if isinstance(e, VehicleArrived)]
    departures = [truth for e, truth in events if isinstance(e, VehicleLeft)]
    assert len(arrivals) >= 3, events
    assert all(truth.phase in ("arriving", "stopped") for truth in arrivals)
    assert all(truth.phase in ("leaving", "empty") for truth in departures)
    assert len({truth.vehicle_id for truth in arrivals}) == len(arrivals), "one arrival per vehicle"
    assert len(departures) >= len(arrivals) - 1
