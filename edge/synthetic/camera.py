"""A pinhole camera over the lane, so that perspective, scale and tilt come from real geometry.

World axes: x to the right as the camera looks down the lane, y up, z along the lane away from
the camera; the road is the plane y = 0. Image axes: u right, v down, in pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FRAME_W, FRAME_H = 1280, 720
# Points closer than this in front of the lens are not projected (they would blow up).
NEAR_M = 0.3


def rotation_y(angle_deg: float) -> np.ndarray:
    a = np.radians(angle_deg)
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


@dataclass(frozen=True, eq=False)
class PinholeCamera:
    focal_px: float
    position: np.ndarray  # (3,) world metres
    rotation: np.ndarray  # (3, 3) world -> camera (rows: right, down, forward)
    width: int = FRAME_W
    height: int = FRAME_H

    @classmethod
    def look_at(cls, position: tuple[float, float, float], target: tuple[float, float, float],
                focal_px: float, roll_deg: float = 0.0, width: int = FRAME_W, height: int = FRAME_H) -> PinholeCamera:
        pos = np.asarray(position, float)
        forward = np.asarray(target, float) - pos
        forward /= np.linalg.norm(forward)
        right = np.cross((0.0, 1.0, 0.0), forward)
        right /= np.linalg.norm(right)
        down = np.cross(right, forward)
        r = np.radians(roll_deg)
        # Roll turns the image about the optical axis: a camera mounted slightly crooked.
        roll = np.array([[np.cos(r), -np.sin(r), 0.0], [np.sin(r), np.cos(r), 0.0], [0.0, 0.0, 1.0]])
        return cls(focal_px, pos, roll @ np.stack([right, down, forward]), width, height)

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        return (np.asarray(points, float) - self.position) @ self.rotation.T

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixel coordinates (N, 2) of world points (N, 3), and which lie in front of the lens."""
        cam = self.to_camera(points)
        in_front = cam[:, 2] > NEAR_M
        z = np.where(in_front, cam[:, 2], NEAR_M)
        uv = np.empty((len(cam), 2))
        uv[:, 0] = self.focal_px * cam[:, 0] / z + self.width / 2
        uv[:, 1] = self.focal_px * cam[:, 1] / z + self.height / 2
        return uv, in_front

    def ray_directions(self) -> np.ndarray:
        """World direction (H, W, 3) of the ray through every pixel centre."""
        u = (np.arange(self.width) + 0.5 - self.width / 2) / self.focal_px
        v = (np.arange(self.height) + 0.5 - self.height / 2) / self.focal_px
        cam = np.empty((self.height, self.width, 3))
        cam[..., 0] = u[None, :]
        cam[..., 1] = v[:, None]
        cam[..., 2] = 1.0
        return cam @ self.rotation


def quad_inside(quad: np.ndarray, width: int = FRAME_W, height: int = FRAME_H) -> bool:
    return bool(np.all(quad[:, 0] >= 0) and np.all(quad[:, 0] <= width - 1)
                and np.all(quad[:, 1] >= 0) and np.all(quad[:, 1] <= height - 1))


def bounding_box(points: np.ndarray, width: int, height: int, pad: int = 0) -> tuple[int, int, int, int] | None:
    """Integer box (x0, y0, x1, y1) around points, padded and clipped to the image; None if empty."""
    x0 = max(int(np.floor(points[:, 0].min())) - pad, 0)
    y0 = max(int(np.floor(points[:, 1].min())) - pad, 0)
    x1 = min(int(np.ceil(points[:, 0].max())) + pad + 1, width)
    y1 = min(int(np.ceil(points[:, 1].max())) + pad + 1, height)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1
