"""ROI and perspective pre-warp of a plate camera, from the four corners of a plate in its view.

The technician clicks (or types) the corners of a plate where vehicles stop: top-left, top-right,
bottom-right, bottom-left, in frame pixels. The ROI is the area around it where plates of other
vehicles will appear; the warp is the homography that makes that plate a rectangle of its real
proportions, applied to the ROI before plates are searched, so a camera mounted off to one side
sees plates square-on.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from edge.config import PerspectiveWarp, RegionOfInterest

# A warped ROI larger than this many times the ROI means the corners imply a view so oblique that
# most of the output would be stretched pixels: almost always mistyped corners.
MAX_WARP_GROWTH = 4.0
MIN_PLATE_PX = 8.0


class GeometryError(ValueError):
    """Corners that cannot be a plate in this frame; the message says why."""


def parse_corners(texts: list[str]) -> np.ndarray:
    """Four "x,y" strings (top-left, top-right, bottom-right, bottom-left) as a 4x2 float array."""
    if len(texts) != 4:
        raise GeometryError(f"need 4 corners (top-left top-right bottom-right bottom-left), got {len(texts)}")
    points = []
    for text in texts:
        try:
            x, y = (float(v) for v in text.split(","))
        except ValueError:
            raise GeometryError(f"corner {text!r} is not x,y in pixels") from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise GeometryError(f"corner {text!r} is not a finite point")
        points.append((x, y))
    return np.array(points, dtype=np.float64)


def check_corners(corners: np.ndarray, width: int, height: int) -> None:
    """The corners lie in the frame and go round a convex plate clockwise from its top-left."""
    for x, y in corners:
        if not (0 <= x <= width and 0 <= y <= height):
            raise GeometryError(f"corner {x:g},{y:g} lies outside the {width}x{height} frame")
    edges = np.roll(corners, -1, axis=0) - corners
    turns = edges[:, 0] * np.roll(edges, -1, axis=0)[:, 1] - edges[:, 1] * np.roll(edges, -1, axis=0)[:, 0]
    # With y pointing down, going round clockwise on screen turns right at every corner: positive.
    if not np.all(turns > 0):
        raise GeometryError("corners must go top-left, top-right, bottom-right, bottom-left round a convex plate")
    sides = np.linalg.norm(edges, axis=1)
    if sides.min() < MIN_PLATE_PX:
        raise GeometryError(f"a side of the plate is {sides.min():.1f} px long; a plate is larger than that")


def _plate_width(corners: np.ndarray) -> float:
    return float((np.linalg.norm(corners[1] - corners[0]) + np.linalg.norm(corners[2] - corners[3])) / 2)


def roi_around(corners: np.ndarray, width: int, height: int, margin: float = 1.0) -> RegionOfInterest:
    """The plate's box grown by `margin` plate widths on every side (other vehicles stop a little
    further on or short, and carry their plates higher or lower), clipped to the frame."""
    check_corners(corners, width, height)
    if margin < 0:
        raise GeometryError(f"margin must not be negative, got {margin!r}")
    grow = margin * _plate_width(corners)
    x0, y0 = np.maximum(corners.min(axis=0) - grow, 0)
    x1, y1 = np.minimum(corners.max(axis=0) + grow, (width, height))
    x, y = math.floor(x0), math.floor(y0)
    return RegionOfInterest(x=x, y=y, width=math.ceil(x1) - x, height=math.ceil(y1) - y)


def warp_for_plate(corners: np.ndarray, roi: RegionOfInterest, aspect: float | None = None) -> PerspectiveWarp:
    """The homography (ROI pixels -> warped pixels) that makes the plate an upright rectangle.

    `aspect` is the plate's real width over height (520/110 for EU plates, 12/6 for US ones); by
    default the plate's apparent proportions are kept, which removes tilt and keystone only."""
    local = corners - (roi.x, roi.y)
    width = _plate_width(local)
    apparent = (np.linalg.norm(local[3] - local[0]) + np.linalg.norm(local[2] - local[1])) / 2
    if aspect is not None and not aspect > 0:
        raise GeometryError(f"plate aspect must be positive, got {aspect!r}")
    plate_height = width / aspect if aspect is not None else apparent
    cx, cy = local.mean(axis=0)
    target = np.array([[cx - width / 2, cy - plate_height / 2], [cx + width / 2, cy - plate_height / 2],
                       [cx + width / 2, cy + plate_height / 2], [cx - width / 2, cy + plate_height / 2]])  # fmt: skip
    homography = cv2.getPerspectiveTransform(local.astype(np.float32), target.astype(np.float32)).astype(np.float64)
    box = np.array([[0, 0, 1], [roi.width, 0, 1], [roi.width, roi.height, 1], [0, roi.height, 1]], dtype=np.float64)
    mapped = box @ homography.T
    if np.any(mapped[:, 2] <= 0):
        raise GeometryError("these corners put the horizon inside the ROI: check their order and positions")
    mapped = mapped[:, :2] / mapped[:, 2:]
    low, high = mapped.min(axis=0), mapped.max(axis=0)
    out_w, out_h = math.ceil(high[0] - low[0]), math.ceil(high[1] - low[1])
    if out_w * out_h > MAX_WARP_GROWTH * roi.width * roi.height:
        raise GeometryError(
            f"the warped ROI would be {out_w}x{out_h} px, over {MAX_WARP_GROWTH:g} times the ROI: "
            "the corners imply a very oblique view; check them"
        )
    shift = np.array([[1, 0, -low[0]], [0, 1, -low[1]], [0, 0, 1]], dtype=np.float64)
    matrix = shift @ homography
    matrix /= matrix[2, 2]
    return PerspectiveWarp(matrix=[[float(v) for v in row] for row in matrix], width=out_w, height=out_h)


def apply_warp(image: np.ndarray, roi: RegionOfInterest | None, warp: PerspectiveWarp) -> np.ndarray:
    """The ROI of `image` (all of it without one) as the warp sees it."""
    view = image if roi is None else image[roi.y : roi.y + roi.height, roi.x : roi.x + roi.width]
    return cv2.warpPerspective(view, np.array(warp.matrix, dtype=np.float64), (warp.width, warp.height),
                               flags=cv2.INTER_LINEAR)  # fmt: skip


def warp_points(points: np.ndarray, roi: RegionOfInterest | None, warp: PerspectiveWarp) -> np.ndarray:
    """Frame points (N x 2) where the warp puts them."""
    offset = np.zeros(2) if roi is None else np.array([roi.x, roi.y], dtype=np.float64)
    local = np.asarray(points, dtype=np.float64).reshape(-1, 1, 2) - offset
    return cv2.perspectiveTransform(local, np.array(warp.matrix, dtype=np.float64)).reshape(-1, 2)

