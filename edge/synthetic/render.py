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
NIGHT_LIGHT = 0.28


def night_color(color: BGR) -> BGR:
    return tuple(int(c * NIGHT_LIGHT) for c in color)  # type: ignore[return-value]


def draw_parts(frame: np.ndarray, camera: PinholeCamera, parts: Sequence[Part], rotation: np.ndarray,
               translation: np.ndarray, night: bool) -> np.ndarray | None:
    """Fill every panel that faces the camera, in order; returns the pixel points drawn (or None).

    `rotation` and `translation` place the parts' coordinates in the world.
    """
    if not parts:
        return None
    counts = [len(p.points) for p in parts]
    world = np.concatenate([p.points for p in parts]) @ rotation.T + translation
    uv, in_front = camera.project(world)
    drawn: list[np.ndarray] = []
    start = 0
    for part, n in zip(parts, counts, strict=True):
        pts, front = world[start: start + n], in_front[start: start + n]
        pix = uv[start: start + n]
        start += n
        if not front.all():
            continue
        normal = rotation @ part.normal
        if float(np.dot(camera.position - pts.mean(axis=0), normal)) <= 0:
            continue
        color = (part.night_color or night_color(part.color)) if night else part.color
        cv2.fillPoly(frame, [np.round(pix * (1 << _SHIFT)).astype(np.int32)], color, cv2.LINE_AA, _SHIFT)
        drawn.append(pix)
    return np.concatenate(drawn) if drawn else None


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


def warp_texture(frame: np.ndarray, texture: Texture, quad: np.ndarray) -> None:
    """Paint the texture into the quad (TL, TR, BR, BL pixel corners) of the frame, in place."""
    box = bounding_box(quad, frame.shape[1], frame.shape[0], pad=1)
    if box is None:
        return
    x0, y0, x1, y1 = box
    w = texture.size[0]
    # The largest level that the quad still shrinks (or only just enlarges).
    edge = max(np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[2] - quad[3])) / w
    level = int(np.clip(np.floor(-np.log2(max(edge, 1e-6))), 0, len(texture.levels) - 1))
    src = texture.levels[level]
    sh, sw = src.shape[:2]
    corners = np.float32([[0, 0], [sw, 0], [sw, sh], [0, sh]])
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
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    homography = cv2.getPerspectiveTransform(corners, quad.astype(np.float32))
    return cv2.perspectiveTransform(points.astype(np.float32)[None], homography)[0]
