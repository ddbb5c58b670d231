"""The lane the cameras look at: road, markings, island, booth, skyline; by day and by night.

The static background is ray-cast once per camera and lighting (every pixel's ray meets the
road plane or the sky), so markings and asphalt grain come out in true perspective; the booth
and barrier housing are flat panels drawn over it like the cars.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from edge.synthetic.camera import PinholeCamera
from edge.synthetic.render import PartSet, draw_parts
from edge.synthetic.timeline import LOOP_FROM_M, LOOP_TO_M
from edge.synthetic.vehicles import Part

LANE_HALF_M = 1.8
# The booth island starts (its kerb) where the lane ends, on the driver's side (+x).
ISLAND_X_M = LANE_HALF_M
KERB_M = 0.15
ISLAND_WIDTH_M = 2.3
NEIGHBOUR_LANE_M = 3.6
HORIZON_FOG_M = 180.0

BGR_F = tuple[float, float, float]
_ASPHALT: BGR_F = (78, 80, 82)
_NEIGHBOUR_ASPHALT: BGR_F = (70, 72, 75)
_CONCRETE: BGR_F = (165, 170, 172)
_KERB: BGR_F = (190, 192, 195)
_PAINT_WHITE: BGR_F = (215, 218, 220)
_SAWCUT: BGR_F = (35, 35, 38)
_GRASS: BGR_F = (60, 110, 85)


@dataclass(frozen=True)
class LaneWorld:
    stop_z: float  # world z of a stopped car's front bumper
    seed: int  # skyline and texture

def _texture(seed: int, size: int = 256) -> np.ndarray:
    return np.random.default_rng(seed).random((size, size), dtype=np.float32)


def _grain(seed: int) -> np.ndarray:
    """Asphalt grain: fine noise, softened so that near the camera it is not a grid of squares."""
    tex = cv2.GaussianBlur(_texture(seed, 512), (0, 0), 1.0)
    return (tex - tex.mean()) / tex.std() * 0.15 + 0.5


def _sample(tex: np.ndarray, x: np.ndarray, z: np.ndarray, cell_m: float) -> np.ndarray:
    n = tex.shape[0]
    i = np.floor(z / cell_m).astype(np.int64) % n
    j = np.floor(x / cell_m).astype(np.int64) % n
    return tex[i, j]


def _ground(world: LaneWorld, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Daylight colour (N, 3) of road-plane points."""
    grain = _sample(_grain(world.seed), x, z, 0.012) - 0.5
    blotch = cv2.GaussianBlur(_texture(world.seed + 1, 64), (0, 0), 2.0)
    patches = _sample(blotch, x, z, 0.9) - 0.5
    color = np.empty((len(x), 3), np.float32)
    color[:] = _GRASS
    rel_z = z - world.stop_z
    island0, island1 = ISLAND_X_M + KERB_M, ISLAND_X_M + KERB_M + ISLAND_WIDTH_M
    far_lane0 = -LANE_HALF_M - NEIGHBOUR_LANE_M
    asphalt = (x > far_lane0) & (x < ISLAND_X_M)
    color[asphalt] = _ASPHALT
    color[(x > far_lane0) & (x < -LANE_HALF_M)] = _NEIGHBOUR_ASPHALT
    color[(x >= island1) & (x < island1 + NEIGHBOUR_LANE_M)] = _NEIGHBOUR_ASPHALT
    concrete = (x >= island0) & (x < island1)
    # Island paving: slabs with joints every metre.
    joints = (np.abs((z % 1.0) - 0.5) > 0.48) | (np.abs(((x - island0) % 1.15) - 0.57) > 0.55)
    color[concrete] = _CONCRETE
    color[concrete & joints] = (120, 124, 126)
    color[((x >= ISLAND_X_M) & (x < island0)) | ((x >= island1 - KERB_M) & (x < island1))] = _KERB
    # Lane edge on the far side, dashes between the neighbouring lanes.
    color[np.abs(x + LANE_HALF_M) < 0.07] = _PAINT_WHITE
    dashes = (np.abs(x - (far_lane0 + 0.1)) < 0.07) & ((z % 6.0) < 3.0)
    color[dashes] = _PAINT_WHITE
    # Stop line just ahead of a stopped car; the loop sawcuts under it.
    color[(np.abs(x) < LANE_HALF_M) & (rel_z > -0.55) & (rel_z < -0.25)] = _PAINT_WHITE
    loop_x, loop_z0, loop_z1 = 0.95, LOOP_FROM_M, LOOP_TO_M
    on_loop_edge = (
        ((np.abs(np.abs(x) - loop_x) < 0.02) & (rel_z > loop_z0) & (rel_z < loop_z1))
        | ((np.abs(x) < loop_x) & ((np.abs(rel_z - loop_z0) < 0.02) | (np.abs(rel_z - loop_z1) < 0.02)))
    )
    color[on_loop_edge] = _SAWCUT
    textured = asphalt | concrete
    color[textured] += (grain[textured] * 22 + patches[textured] * 26)[:, None]
    return color


def _skyline(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Block edges (azimuth, radians), heights (elevation, radians) and colours of distant buildings."""
    rng = np.random.default_rng(seed + 7)
    edges = np.cumsum(rng.uniform(0.03, 0.16, 80)) - np.pi
    heights = rng.uniform(0.005, 0.06, 80) * (rng.random(80) < 0.8)
    colors = rng.uniform(100, 190, (80, 1)) * np.array([[0.95, 1.0, 1.05]]) + rng.uniform(-15, 15, (80, 3))
    return edges, heights, colors


def _sky(world: LaneWorld, dirs: np.ndarray, night: bool) -> np.ndarray:
    elevation = np.arcsin(np.clip(dirs[:, 1], -1, 1))
    azimuth = np.arctan2(dirs[:, 0], dirs[:, 2])
    t = np.clip(elevation / 0.6, 0, 1)[:, None]
    horizon, zenith = ((40, 30, 25), (18, 10, 6)) if night else ((215, 205, 195), (205, 150, 95))
    color = np.asarray(horizon, np.float32) * (1 - t) + np.asarray(zenith, np.float32) * t
    edges, heights, colors = _skyline(world.seed)
    block = np.clip(np.searchsorted(edges, azimuth), 0, len(heights) - 1)
    building = elevation < heights[block]
    shade = colors[block[building]]
    if night:
        # Dark facades with a scatter of lit windows: a grid of window cells, some of them lit.
        col, row = np.floor(azimuth[building] * 250), np.floor(elevation[building] * 350)
        in_window = ((azimuth[building] * 250) % 1 < 0.6) & ((elevation[building] * 350) % 1 < 0.55)
        lit = in_window & ((np.sin(col * 12.9898 + row * 78.233) * 43758.5453) % 1 < 0.3)
        shade = shade * 0.12 + lit[:, None] * np.array([60.0, 150.0, 190.0])
    color[building] = shade
    return color


def _streetlights(world: LaneWorld, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    light = np.full(len(x), 0.14, np.float32)
    for lx, lz, strength in ((ISLAND_X_M + 1.2, world.stop_z - 1.0, 0.75), (ISLAND_X_M + 1.2,
                             world.stop_z + 14.0, 0.6), (-LANE_HALF_M - 4.0, world.stop_z + 28.0, 0.55),
                             (ISLAND_X_M + 1.2, world.stop_z + 40.0, 0.5)):
        light += strength * np.exp(-((x - lx) ** 2 + (z - lz) ** 2) / (2 * 3.5**2))
    return light


def background(camera: PinholeCamera, world: LaneWorld, night: bool) -> np.ndarray:
    """The empty lane as `camera` sees it (BGR uint8)."""
    dirs = camera.ray_directions().reshape(-1, 3).astype(np.float32)
    pos = camera.position.astype(np.float32)
    out = np.empty((len(dirs), 3), np.float32)
    down = dirs[:, 1] < -1e-4
    dist = np.full(len(dirs), np.inf, np.float32)
    dist[down] = -pos[1] / dirs[down, 1]
    hit = down & (dist < 2000)
    gx = pos[0] + dist[hit] * dirs[hit, 0]
    gz = pos[2] + dist[hit] * dirs[hit, 2]
    ground = _ground(world, gx, gz)
    if night:
        ground = ground * _streetlights(world, gx, gz)[:, None]
    fog = (1 - np.exp(-dist[hit] / HORIZON_FOG_M))[:, None]
    haze = np.asarray((40, 30, 25) if night else (200, 195, 190), np.float32)
    out[hit] = ground * (1 - fog) + haze * fog
    out[~hit] = _sky(world, dirs[~hit], night)
    frame = np.clip(out, 0, 255).astype(np.uint8).reshape(camera.height, camera.width, 3)
    draw_parts(frame, camera, PartSet.of(booth_parts(world)), np.eye(3), np.zeros(3), night)
    return frame


def _box(x0: float, x1: float, y0: float, y1: float, z0: float, z1: float, color: tuple[int, int, int],
         name: str) -> list[Part]:
    """The faces of an upright box that cameras on the lane can see: lane side, front, top."""
    def shade(f: float) -> tuple[int, int, int]:
        return tuple(int(min(255, c * f)) for c in color)  # type: ignore[return-value]

    return [
        Part(name, np.array([[x0, y0, z0], [x0, y1, z0], [x0, y1, z1], [x0, y0, z1]]), shade(0.85),
             np.array([-1.0, 0.0, 0.0])),
        Part(name, np.array([[x1, y0, z0], [x1, y1, z0], [x1, y1, z1], [x1, y0, z1]]), shade(0.85),
             np.array([1.0, 0.0, 0.0])),
        Part(name, np.array([[x0, y0, z0], [x0, y1, z0], [x1, y1, z0], [x1, y0, z0]]), shade(1.0),
             np.array([0.0, 0.0, -1.0])),
        Part(name, np.array([[x0, y1, z0], [x1, y1, z0], [x1, y1, z1], [x0, y1, z1]]), shade(1.1),
             np.array([0.0, 1.0, 0.0])),
    ]


def booth_parts(world: LaneWorld) -> list[Part]:
    """The officer's booth on the island, the barrier housing at the stop line, a canopy column."""
    ix = ISLAND_X_M + KERB_M
    z = world.stop_z
    parts = _box(ix + 0.5, ix + 2.0, 0.0, 2.7, z - 0.2, z + 3.2, (200, 196, 190), "booth")
    # The booth's lane-side window, lit from inside at night.
    parts.append(Part("booth_window", np.array([[ix + 0.499, 1.0, z + 0.1], [ix + 0.499, 2.1, z + 0.1],
                                                [ix + 0.499, 2.1, z + 1.4], [ix + 0.499, 1.0, z + 1.4]]),
                      (90, 80, 70), np.array([-1.0, 0.0, 0.0]), night_color=(120, 190, 215)))
    parts += _box(ix + 0.1, ix + 0.45, 0.0, 1.05, z - 0.75, z - 0.4, (30, 190, 235), "barrier")
    parts += _box(ix + 0.05, ix + 0.35, 0.0, 5.0, z + 6.0, z + 6.3, (150, 150, 155), "column")
    # Beyond the neighbouring lane: a concrete barrier wall and a row of lamp posts.
    wall = -LANE_HALF_M - NEIGHBOUR_LANE_M - 0.3
    parts += _box(wall - 0.4, wall, 0.0, 0.85, z - 40.0, z + 120.0, (175, 178, 180), "wall")
    for k in range(-2, 8):
        parts += _box(wall - 0.3, wall - 0.15, 0.85, 7.0, z + 14.0 * k, z + 14.0 * k + 0.15, (120, 120, 125), "post")
    return parts
