"""Photos of a checkerboard taken by a camera of known intrinsics and distortion, rendered exactly.

Pixels are traced back through the lens: a distorted position is undistorted (the same radial +
tangential model OpenCV fits, inverted iteratively to 1e-10), the ray is met with the board's
plane, and the square it lands on gives the colour. Several samples per pixel give anti-aliased
edges like a real sensor's. The projection is checked against cv2.projectPoints in the tests.
"""

from __future__ import annotations

import cv2
import numpy as np

SIZE = (640, 480)
CAMERA = np.array([[620.0, 0.0, 322.0], [0.0, 618.0, 236.0], [0.0, 0.0, 1.0]])
DISTORTION = np.array([-0.25, 0.08, 0.001, -0.0008, 0.0])  # k1, k2, p1, p2, k3
COLUMNS, ROWS, SQUARE_MM = 9, 6, 30.0  # inner corners, as OpenCV counts them
# (rotation about x, y, z in degrees; where the board's centre is, in mm from the camera)
POSES = (
    ((0, 0, 0), (0, 0, 700)),
    ((25, 0, 5), (-60, -40, 650)),
    ((-25, 10, -5), (60, 40, 700)),
    ((0, 30, 0), (80, -50, 750)),
    ((10, -30, 10), (-90, 50, 720)),
    ((-20, -20, 0), (100, 60, 800)),
    ((20, 25, -10), (-100, -60, 780)),
    ((5, 5, 30), (0, 70, 650)),
)


def board_points() -> np.ndarray:
    grid = np.mgrid[0:COLUMNS, 0:ROWS].T.reshape(-1, 2).astype(np.float64)
    return np.hstack([grid * SQUARE_MM, np.zeros((len(grid), 1))])


Vector = tuple[float, float, float]


def pose(angles_deg: Vector, centre_mm: Vector) -> tuple[np.ndarray, np.ndarray]:
    """(rvec, tvec) placing the board's middle at `centre_mm`, turned by `angles_deg`."""
    ax, ay, az = np.radians(angles_deg)
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    rotation = rz @ ry @ rx
    middle = np.array([(COLUMNS - 1) * SQUARE_MM / 2, (ROWS - 1) * SQUARE_MM / 2, 0.0])
    tvec = np.array(centre_mm, dtype=np.float64) - rotation @ middle
    rvec, _ = cv2.Rodrigues(rotation)
    return rvec, tvec


def _undistort(pixels: np.ndarray) -> np.ndarray:
    """Ideal normalised image coordinates of distorted pixel positions (N x 2)."""
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 30, 1e-10)
    ideal = cv2.undistortImagePoints(pixels.reshape(-1, 1, 2), CAMERA, DISTORTION, arg1=criteria).reshape(-1, 2)
    return (ideal - CAMERA[:2, 2]) / np.diag(CAMERA)[:2]


def _board_coordinates(rvec: np.ndarray, tvec: np.ndarray, xs: np.ndarray,
                       ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Where on the board's plane (mm) the pixel positions xs x ys look at."""
    gx, gy = np.meshgrid(xs, ys)
    rays = _undistort(np.column_stack([gx.ravel(), gy.ravel()]))
    rotation, _ = cv2.Rodrigues(rvec)
    plane = np.column_stack([rotation[:, 0], rotation[:, 1], np.ravel(tvec)])  # board (u, v, 1) -> camera
    uvw = np.column_stack([rays, np.ones(len(rays))]) @ np.linalg.inv(plane).T
    return (uvw[:, 0] / uvw[:, 2]).reshape(gx.shape), (uvw[:, 1] / uvw[:, 2]).reshape(gx.shape)


def render(rvec: np.ndarray, tvec: np.ndarray, samples: int = 2) -> np.ndarray:
    """The camera's BGR photo of the board at this pose: black and white squares, a white margin
    of one square around them, on a grey wall. `samples` squared rays per pixel anti-alias the edges."""
    width, height = SIZE
    # The lens and the plane map pixels to the board smoothly: trace one ray per pixel exactly and
    # interpolate between them for the samples (remap resolves 1/32 pixel).
    step = 1.0
    coarse_x = np.arange(-1.0, width + step, step)
    coarse_y = np.arange(-1.0, height + step, step)
    u, v = _board_coordinates(rvec, tvec, coarse_x, coarse_y)
    offsets = (np.arange(samples) + 0.5) / samples - 0.5
    fine_x = (np.arange(width)[:, None] + offsets[None, :]).ravel()
    fine_y = (np.arange(height)[:, None] + offsets[None, :]).ravel()
    map_x, map_y = np.meshgrid((fine_x - coarse_x[0]) / step, (fine_y - coarse_y[0]) / step)
    u = cv2.remap(u.astype(np.float32), map_x.astype(np.float32), map_y.astype(np.float32), cv2.INTER_CUBIC)
    v = cv2.remap(v.astype(np.float32), map_x.astype(np.float32), map_y.astype(np.float32), cv2.INTER_CUBIC)
    squares = (u >= -SQUARE_MM) & (u < COLUMNS * SQUARE_MM) & (v >= -SQUARE_MM) & (v < ROWS * SQUARE_MM)
    margin = (u >= -2 * SQUARE_MM) & (u < (COLUMNS + 1) * SQUARE_MM) & (v >= -2 * SQUARE_MM) & (
        v < (ROWS + 1) * SQUARE_MM)  # fmt: skip
    dark = ((np.floor(u / SQUARE_MM) + np.floor(v / SQUARE_MM)) % 2 == 0) & squares
    grey = np.where(dark, 25.0, np.where(margin, 230.0, 120.0))
    image = grey.reshape(height, samples, width, samples).mean(axis=(1, 3))
    noise = np.random.default_rng(7).normal(0, 1.5, image.shape)
    return cv2.cvtColor(np.clip(image + noise, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


def photos() -> list[tuple[str, np.ndarray]]:
    return [(f"pose-{n}", render(*pose(angles, centre))) for n, (angles, centre) in enumerate(POSES)]
