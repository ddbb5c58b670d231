"""Drawing into a frame: flat panels (filled polygons) and textured quads (plates, the driver)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from edge.synthetic.camera import PinholeCamera, bounding_box
from edge.synthetic.vehicles import BGR, Part

# Fixed-point bits for cv2.fillPoly: sub-pixel vertices keep small, far cars steady.
_SHIFT = 3
# Everything that is not a lamp gets this much light at night.
NIGHT_LIGHT = 0.4


def night_color(color: BGR) -> BGR:
    return tuple(int(c * NIGHT_LIGHT) for c in color)  # type: ignore[return-value]


@dataclass(frozen=True, eq=False)
class PartSet:
    """Panels packed into flat arrays once, so that a frame projects and culls them in one go."""

    points: np.ndarray  # (N, 3) every panel's corners, one after the other
    starts: np.ndarray  # index of each panel's first corner
    centroids: np.ndarray  # (P, 3)
    normals: np.ndarray  # (P, 3)
    day_colors: tuple[BGR, ...]
    night_colors: tuple[BGR, ...]

    @classmethod
    def of(cls, parts: Sequence[Part]) -> PartSet:
        counts = np.array([len(p.points) for p in parts], int)
        return cls(
            points=np.concatenate([p.points for p in parts]) if parts else np.zeros((0, 3)),
            starts=np.concatenate([[0], np.cumsum(counts)]),
            centroids=np.array([p.points.mean(axis=0) for p in parts]).reshape(-1, 3),
            normals=np.array([p.normal for p in parts], float).reshape(-1, 3),
            day_colors=tuple(p.color for p in parts),
            night_colors=tuple(p.night_color or night_color(p.color) for p in parts),
        )


def draw_parts(frame: np.ndarray, camera: PinholeCamera, parts: PartSet, rotation: np.ndarray,
               translation: np.ndarray, night: bool) -> list[np.ndarray]:
    """Fill every panel that faces the camera, in order; returns the polygons drawn (pixel points).

    `rotation` and `translation` place the parts' coordinates in the world.
    """
    if len(parts.centroids) == 0:
        return []
    uv, in_front = camera.project(parts.points @ rotation.T + translation)
    centroids = parts.centroids @ rotation.T + translation
    facing = np.einsum("ij,ij->i", camera.position - centroids, parts.normals @ rotation.T) > 0
    colors = parts.night_colors if night else parts.day_colors
    drawn: list[np.ndarray] = []
    for k in np.flatnonzero(facing):
        a, b = parts.starts[k], parts.starts[k + 1]
        if not in_front[a:b].all():
            continue
        pix = uv[a:b]
        cv2.fillPoly(frame, [np.round(pix * (1 << _SHIFT)).astype(np.int32)], colors[k], cv2.LINE_AA, _SHIFT)
        drawn.append(pix)
    return drawn


@dataclass(frozen=True, eq=False)
class Texture:
    """An image with its smaller versions, so that warping down never skips pixels (no aliasing)."""

    levels: tuple[np.ndarray, ...]
    alpha_levels: tuple[np.ndarray, ...] | None = None

    @classmethod
    def of(cls, image: np.ndarray, alpha: np.ndarray | None = None) -> Texture:
        levels, alphas = [image], [alpha] if alpha is not None else None
        while min(levels[-1].shape[:2]) > 16:
            levels.append(cv2.pyrDown(levels[-1]))
            if alphas is not None:
                alphas.append(cv2.pyrDown(alphas[-1]))
        return cls(tuple(levels), tuple(alphas) if alphas is not None else None)

    @property
    def size(self) -> tuple[int, int]:
        h, w = self.levels[0].shape[:2]
        return w, h


def warp_texture(frame: np.ndarray, texture: Texture, quad: np.ndarray,
                 clip: tuple[int, int, int, int] | None = None) -> None:
    """Paint the texture into the quad (TL, TR, BR, BL pixel corners) of the frame, in place.

    `clip` (x0, y0, x1, y1) limits the painting to the part of the frame where it can be seen.
    """
    box = bounding_box(quad, frame.shape[1], frame.shape[0], pad=1)
    if box is not None and clip is not None:
        box = (max(box[0], clip[0]), max(box[1], clip[1]), min(box[2], clip[2]), min(box[3], clip[3]))
        if box[2] <= box[0] or box[3] <= box[1]:
            box = None
    if box is None:
        return
    x0, y0, x1, y1 = box
    w = texture.size[0]
    # The largest level that the quad still shrinks (or only just enlarges).
    edge = float(max(np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[2] - quad[3]))) / w
    level = int(np.clip(np.floor(-np.log2(max(edge, 1e-6))), 0, len(texture.levels) - 1))
    src = texture.levels[level]
    sh, sw = src.shape[:2]
    corners = np.array([[0, 0], [sw, 0], [sw, sh], [0, sh]], np.float32)
    homography = cv2.getPerspectiveTransform(corners, (quad - np.array([x0, y0])).astype(np.float32))
    roi = frame[y0:y1, x0:x1]
    if texture.alpha_levels is None:
        # Outside the quad BORDER_TRANSPARENT leaves the frame as it was.
        cv2.warpPerspective(src, homography, (x1 - x0, y1 - y0), dst=roi, flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_TRANSPARENT)
        return
    layer = cv2.warpPerspective(src, homography, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR)
    alpha = cv2.warpPerspective(texture.alpha_levels[level], homography, (x1 - x0, y1 - y0),
                                flags=cv2.INTER_LINEAR)
    a = alpha.astype(np.float32) / 255.0
    roi[:] = cv2.blendLinear(layer, roi, a, 1.0 - a)


def map_points(texture: Texture, quad: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Where texture pixel coordinates (full resolution) land in the frame, given the quad."""
    w, h = texture.size
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    homography = cv2.getPerspectiveTransform(corners, quad.astype(np.float32))
    return cv2.perspectiveTransform(points.astype(np.float32)[None], homography)[0]
