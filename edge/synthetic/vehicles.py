"""A car as a handful of flat 3D panels, cheap to project and fill every frame.

Car axes (metres): x towards the driver's side, y up, z from the front bumper (z = 0) towards
the rear. With yaw 0 the car faces the plate camera (it drives towards smaller world z) and its
driver's side is world +x, where the booth and both cameras are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BGR = tuple[int, int, int]

# Body colours of real traffic, most common first (BGR).
_PAINTS: tuple[BGR, ...] = (
    (235, 235, 232), (190, 190, 188), (35, 35, 38), (95, 95, 98), (40, 40, 170), (120, 60, 25),
    (45, 80, 40), (150, 185, 205), (30, 110, 200), (70, 30, 30),
)
_PAINT_WEIGHTS = np.array([24, 20, 18, 12, 8, 7, 3, 3, 2, 3], float)
_GLASS: BGR = (58, 48, 40)
_TRIM: BGR = (28, 28, 30)
_TYRE: BGR = (22, 22, 24)
_INTERIOR: BGR = (38, 36, 36)


@dataclass(frozen=True)
class CarModel:
    width: float
    height: float
    length: float
    belt: float  # height of the bonnet and of the window sills
    hood_length: float
    windscreen_length: float
    paint: BGR
    plate_size_m: tuple[float, float]  # width, height of the plate it carries

    @property
    def head_z(self) -> float:
        """Where the driver's head is along the car (the driver window's middle)."""
        return self.hood_length + self.windscreen_length + 0.45

    @property
    def b_pillar_z(self) -> float:
        return self.hood_length + self.windscreen_length + 0.95


@dataclass(frozen=True, eq=False)
class Part:
    name: str
    points: np.ndarray  # (N, 3) car coordinates
    color: BGR
    normal: np.ndarray  # outward, car coordinates: the panel shows only to cameras on this side
    night_color: BGR | None = None  # lamps stay bright at night; everything else darkens


def random_paint(rng: np.random.Generator) -> BGR:
    paint = _PAINTS[int(rng.choice(len(_PAINTS), p=_PAINT_WEIGHTS / _PAINT_WEIGHTS.sum()))]
    # Small per-car shade differences so that two silver cars are not identical.
    return _shade(paint, float(rng.uniform(0.9, 1.08)))


def random_car(rng: np.random.Generator, plate_size_m: tuple[float, float]) -> CarModel:
    paint = random_paint(rng)
    tall = rng.random() < 0.35  # SUVs and vans
    return CarModel(
        width=float(rng.uniform(1.72, 1.95)),
        height=float(rng.uniform(1.62, 1.85) if tall else rng.uniform(1.38, 1.5)),
        length=float(rng.uniform(4.2, 4.9)),
        belt=float(rng.uniform(1.0, 1.12) if tall else rng.uniform(0.86, 0.96)),
        hood_length=float(rng.uniform(0.85, 1.15)),
        windscreen_length=float(rng.uniform(0.55, 0.85)),
        paint=paint,
        plate_size_m=plate_size_m,
    )


def _shade(color: BGR, factor: float) -> BGR:
    return tuple(int(np.clip(c * factor, 0, 255)) for c in color)  # type: ignore[return-value]


def _quad_x(x: float, z0: float, z1: float, y0: float, y1: float) -> np.ndarray:
    """Rectangle in the plane x = const."""
    return np.array([[x, y0, z0], [x, y1, z0], [x, y1, z1], [x, y0, z1]], float)


def _quad_z(z: float, x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
    """Rectangle in the plane z = const (facing the front)."""
    return np.array([[x0, y0, z], [x0, y1, z], [x1, y1, z], [x1, y0, z]], float)


def _disc_x(x: float, z: float, y: float, r: float, n: int = 18) -> np.ndarray:
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([np.full(n, x), y + r * np.sin(a), z + r * np.cos(a)], axis=1)


_FRONT = np.array([0.0, 0.0, -1.0])
_UP = np.array([0.0, 1.0, 0.0])


def car_parts(car: CarModel) -> list[Part]:
    """The panels in painter's order for cameras in front of and beside the car."""
    return [*_shadow_and_cabin(car), *_sides(car), *_top(car), *_front(car)]


def _body(car: CarModel) -> tuple[float, float, float, float, float, float, float, float]:
    """Half width, height, length, belt line, windscreen start and end, roof end, bumper top (metres)."""
    ws0 = car.hood_length
    return (car.width / 2, car.height, car.length, car.belt, ws0, ws0 + car.windscreen_length, car.length - 0.85,
            0.24)


def _shadow_and_cabin(car: CarModel) -> list[Part]:
    """The shadow under the car, and what the open driver's window shows of the inside."""
    w, _, length, belt, ws0, _, roof_end, bumper = _body(car)
    parts: list[Part] = []
    # The shadow under the car keeps it standing on the road rather than floating.
    parts.append(Part("shadow", np.array([[-w - 0.08, 0.004, -0.1], [w + 0.08, 0.004, -0.1],
                                          [w + 0.08, 0.004, length + 0.1], [-w - 0.08, 0.004, length + 0.1]]),
                      (22, 24, 26), _UP))
    for side in (1.0, -1.0):
        n = np.array([side, 0.0, 0.0])
        # Seen through the open driver's window: the inside of the far door (above it, the far
        # window shows the world outside).
        parts.append(Part("interior", _quad_x(-side * (w - 0.12), ws0, roof_end, bumper, belt + 0.04),
                          _INTERIOR, n))
        parts.append(Part("seat", _quad_x(side * 0.2, car.head_z - 0.1, car.head_z + 0.35, bumper + 0.1,
                                          belt + 0.05), (40, 38, 38), n))
        parts.append(Part("headrest", _quad_x(side * 0.3, car.head_z + 0.1, car.head_z + 0.26, belt + 0.22,
                                              belt + 0.44), (44, 42, 42), n))
    return parts


def _sides(car: CarModel) -> list[Part]:
    """Both sides: doors, wheels, the window frame and the mirrors."""
    w, h, length, belt, ws0, ws1, roof_end, bumper = _body(car)
    paint = car.paint
    parts: list[Part] = []
    for side in (1.0, -1.0):
        n = np.array([side, 0.0, 0.0])
        xs, xg = side * w, side * (w - 0.1)
        parts.append(Part("door", _quad_x(xs, 0.02, length - 0.02, bumper, belt), _shade(paint, 0.8), n))
        # The lower door in shadow: cars are lit from above.
        parts.append(Part("sill", _quad_x(xs + side * 0.002, 0.1, length - 0.1, bumper, bumper + 0.12),
                          _shade(paint, 0.55), n))
        for zc in (0.82, length - 0.92):
            parts.append(Part("arch", _disc_x(xs + side * 0.003, zc, 0.33, 0.42), (30, 30, 32), n))
            parts.append(Part("tyre", _disc_x(xs + side * 0.006, zc, 0.33, 0.33), _TYRE, n))
            parts.append(Part("wheel", _disc_x(xs + side * 0.009, zc, 0.33, 0.2, 12), (150, 150, 155), n))
        # Window frame: A pillar, roof rail, B and C pillars in body colour; the driver's window open.
        parts.append(Part("a_pillar", np.array([[xs, belt, ws0], [xg, h, ws1], [xg, h, ws1 + 0.1],
                                                [xs, belt, ws0 + 0.16]]), _shade(paint, 0.75), n))
        parts.append(Part("roof_rail", np.array([[xg, h - 0.06, ws1], [xg, h, ws1], [xg, h, roof_end],
                                                 [xg, h - 0.06, roof_end]]), _shade(paint, 0.75), n))
        bz = car.b_pillar_z
        parts.append(Part("b_pillar", np.array([[xs, belt, bz], [xg, h - 0.04, bz - 0.04],
                                                [xg, h - 0.04, bz + 0.1], [xs, belt, bz + 0.12]]), _TRIM, n))
        parts.append(Part("rear_window", np.array([[xs, belt, bz + 0.12], [xg, h - 0.06, bz + 0.1],
                                                   [xg, h - 0.06, roof_end - 0.1], [xs, belt, length - 0.45]]),
                          _GLASS, n))
        parts.append(Part("c_pillar", np.array([[xs, belt, length - 0.45], [xg, h - 0.06, roof_end - 0.1],
                                                [xg, h - 0.06, roof_end], [xs, belt, length - 0.25]]),
                          _shade(paint, 0.75), n))
        parts.append(Part("handle", _quad_x(xs + side * 0.01, bz - 0.3, bz - 0.12, belt - 0.1, belt - 0.06),
                          _shade(paint, 0.5), n))
        parts.append(Part("mirror", np.array([[xs, belt + 0.05, ws0 + 0.2], [xs + side * 0.2, belt + 0.08, ws0 + 0.25],
                                              [xs + side * 0.2, belt + 0.22, ws0 + 0.25],
                                              [xs, belt + 0.22, ws0 + 0.2]]), _shade(paint, 0.7), n))
    return parts


def _top(car: CarModel) -> list[Part]:
    """Roof, windscreen (with a sky reflection) and hood."""
    w, h, _, belt, ws0, ws1, roof_end, _ = _body(car)
    paint = car.paint
    parts: list[Part] = []
    parts.append(Part("roof", np.array([[-w + 0.2, h, ws1], [w - 0.2, h, ws1], [w - 0.2, h, roof_end],
                                        [-w + 0.2, h, roof_end]]), _shade(paint, 1.05), _UP))
    ws_normal = np.array([0.0, car.windscreen_length, -(h - belt)])
    ws_normal /= np.linalg.norm(ws_normal)
    parts.append(Part("windscreen", np.array([[-w + 0.1, belt + 0.04, ws0], [-w + 0.2, h, ws1],
                                              [w - 0.2, h, ws1], [w - 0.1, belt + 0.04, ws0]]), _GLASS, ws_normal))
    # A sky reflection across the windscreen: the cue that makes it read as glass.
    parts.append(Part("reflection", np.array([[-w + 0.35, belt + 0.3, ws0 + 0.25], [-w + 0.5, belt + 0.5, ws0 + 0.45],
                                              [0.1, belt + 0.5, ws0 + 0.45], [-0.1, belt + 0.3, ws0 + 0.25]]),
                      (112, 100, 92), ws_normal))
    hood_normal = np.array([0.0, car.hood_length, -0.04])
    hood_normal /= np.linalg.norm(hood_normal)
    parts.append(Part("hood", np.array([[-w, belt, 0.03], [-w + 0.1, belt + 0.04, ws0], [w - 0.1, belt + 0.04, ws0],
                                        [w, belt, 0.03]]), _shade(paint, 1.0), hood_normal))
    return parts


def _front(car: CarModel) -> list[Part]:
    """The front: tyres seen from ahead, the body, bumper, lights, grille and the plate holder."""
    w, _, _, belt, _, _, _, bumper = _body(car)
    paint = car.paint
    parts: list[Part] = []
    for side in (1.0, -1.0):
        xs = side * (w - 0.2)
        parts.append(Part("front_tyre", _quad_z(0.3, xs - 0.13, xs + 0.13, 0.0, bumper + 0.02), _TYRE, _FRONT))
    chamfer = 0.06
    front = [(-w, bumper + chamfer), (-w + chamfer, bumper), (w - chamfer, bumper), (w, bumper + chamfer),
             (w - 0.03, belt), (-w + 0.03, belt)]
    parts.append(Part("front", np.array([[x, y, 0.0] for x, y in front]), _shade(paint, 0.88), _FRONT))
    # The bumper: a shade darker, with a dark line where it meets the body.
    parts.append(Part("bumper", np.array([[x, min(y, bumper + 0.2), -0.002] for x, y in front[:4]]
                                         + [[w - 0.005, bumper + 0.2, -0.002], [-w + 0.005, bumper + 0.2, -0.002]]),
                      _shade(paint, 0.74), _FRONT))
    parts.append(Part("bumper_line", _quad_z(-0.003, -w + 0.01, w - 0.01, bumper + 0.2, bumper + 0.215),
                      (30, 30, 32), _FRONT))
    pw, ph = car.plate_size_m
    plate_bottom = 0.3
    parts.append(Part("intake", _quad_z(-0.003, -w + 0.25, w - 0.25, bumper + 0.03, plate_bottom + 0.04),
                      (30, 30, 32), _FRONT))
    parts.append(Part("grille", _quad_z(-0.003, -0.42, 0.42, belt - 0.26, belt - 0.07), (32, 32, 34), _FRONT))
    for side in (1.0, -1.0):
        x0, x1 = sorted((side * (w - 0.07), side * (w - 0.4)))
        parts.append(Part("headlight", _quad_z(-0.004, x0, x1, belt - 0.2, belt - 0.06), (205, 205, 200),
                          _FRONT, night_color=(250, 252, 255)))
        outer = side * (w - 0.07)
        parts.append(Part("indicator", _quad_z(-0.004, min(outer, outer - side * 0.12), max(outer, outer - side * 0.12),
                                               belt - 0.26, belt - 0.21), (40, 140, 235), _FRONT))
    parts.append(Part("plate_holder", _quad_z(-0.005, -pw / 2 - 0.015, pw / 2 + 0.015, plate_bottom - 0.015,
                                              plate_bottom + ph + 0.015), (25, 25, 27), _FRONT))
    return parts


def plate_corners(car: CarModel) -> np.ndarray:
    """The plate's corners in car coordinates: top-left, top-right, bottom-right, bottom-left as seen.

    The plate camera looks down the lane (+z), so the car's +x is on the image right.
    """
    pw, ph = car.plate_size_m
    y0, z = 0.3, -0.008
    return np.array([[-pw / 2, y0 + ph, z], [pw / 2, y0 + ph, z], [pw / 2, y0, z], [-pw / 2, y0, z]])


def headlight_centres(car: CarModel) -> np.ndarray:
    w = car.width / 2
    y = car.belt - 0.13
    return np.array([[w - 0.23, y, -0.01], [-(w - 0.23), y, -0.01]])


def driver_corners(car: CarModel, texture_aspect: float, head_height_m: float) -> np.ndarray:
    """Where the driver layer hangs in the car: a plane facing the driver's window (+x).

    Corners in texture order (top-left, top-right, bottom-right, bottom-left) as the face camera,
    looking towards -x from the booth, sees them: the car's front (small z) is on its left.
    """
    x = 0.35
    # The head stays under the roof, even in a low car.
    top = min(car.belt + 0.5, car.height - 0.1)
    bottom = top - head_height_m
    half = head_height_m * texture_aspect / 2
    z0, z1 = car.head_z - half, car.head_z + half
    return np.array([[x, top, z0], [x, top, z1], [x, bottom, z1], [x, bottom, z0]])


def driver_window(car: CarModel) -> np.ndarray:
    """The open driver's window (car coordinates), between the A and B pillars, sill and roof rail."""
    w, h, belt = car.width / 2, car.height, car.belt
    ws0, ws1 = car.hood_length, car.hood_length + car.windscreen_length
    xs, xg = w, w - 0.1
    bz = car.b_pillar_z
    return np.array([[xs, belt, ws0 + 0.16], [xg, h - 0.06, ws1 + 0.1], [xg, h - 0.06, bz - 0.04], [xs, belt, bz]])
