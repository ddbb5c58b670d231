"""A plate as the plate reader receives it from a camera: `camera_view(image, quad, rng)`.

The reader gets the box a detector drew around a plate (a little loose or a little tight, never
straightened), scaled to the network's input. So a view here is made the same way, for synthetic
and real plates alike: the plate's corners are moved as a camera would see them (turned, tilted,
near or far), the axis-aligned box around them with a random margin is cut out at the plate's
size in the camera (28-240 px wide: far plates are blurred by too few pixels, which no later
resize gives back), and then the camera's faults are applied: focus and motion blur, sensor
noise, exposure, night IR grading, headlight glare, shadows, a frame or a bolt over an edge, and
JPEG compression. Only then is the box scaled to the input size.
"""

from __future__ import annotations

import cv2
import numpy as np

# The reader's input, width x height (see edge/plates/reader.py).
INPUT_SIZE = (128, 64)


def _turned(width: float, height: float, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Corners of a width x height plate turned by yaw/pitch/roll and seen through a pinhole."""
    yaw, pitch = np.radians(rng.uniform(-35, 35, 1)[0] * strength), np.radians(rng.uniform(-20, 20) * strength)
    roll = np.radians(float(np.clip(rng.normal(0, 5), -15, 15)) * strength)
    corners = np.array([[-width, -height], [width, -height], [width, height], [-width, height]], np.float64) / 2
    cy, sy, cp, sp, cr, sr = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch), np.cos(roll), np.sin(roll)
    rotation = (np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]]) @ np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
                @ np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]]))
    points = np.column_stack([corners, np.zeros(4)]) @ rotation.T
    distance = width * rng.uniform(2.5, 8.0)
    return (points[:, :2] * distance / (distance + points[:, 2:3])).astype(np.float32)


def _blur(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if rng.random() < 0.6:
        image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.3, 1.3))
    if rng.random() < 0.15:
        length = int(rng.integers(2, 7))
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2, :] = 1.0 / length
        rotation = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), rng.uniform(-30, 30), 1.0)
        image = cv2.filter2D(image, -1, cv2.warpAffine(kernel, rotation, (length, length)))
    return image


def _light(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = image.astype(np.float32)
    h, w = out.shape
    if rng.random() < 0.15:  # night, infrared: a bright plate, dark surroundings, hard contrast
        out = np.clip((out - rng.uniform(40, 120)) * rng.uniform(1.5, 3.0), 0, 255)
    if rng.random() < 0.2:  # a shadow edge across the plate
        ys, xs = np.mgrid[0:h, 0:w]
        angle = rng.uniform(0, np.pi)
        side = (xs - rng.uniform(0, w)) * np.cos(angle) + (ys - rng.uniform(0, h)) * np.sin(angle) > 0
        out = np.where(side, out * rng.uniform(0.35, 0.8), out)
    if rng.random() < 0.1:  # headlight glare
        ys, xs = np.mgrid[0:h, 0:w]
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.2, 0.7) * w
        out += rng.uniform(80, 220) * np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * r * r))
    gamma = np.exp(rng.normal(0, 0.25))
    out = 255 * (np.clip(out, 0, 255) / 255) ** gamma
    out = out * rng.uniform(0.6, 1.2) + rng.uniform(-30, 30)
    out += rng.normal(0, rng.uniform(0, 9), out.shape)
    return np.clip(out, 0, 255).astype(np.uint8)


def _cover_an_edge(image: np.ndarray, quad: np.ndarray, rng: np.random.Generator) -> None:
    """A plate frame's bar or a bolt over the plate's top or bottom edge (never across the text)."""
    top, bottom = float(quad[:, 1].min()), float(quad[:, 1].max())
    height = bottom - top
    x0, x1 = float(quad[:, 0].min()), float(quad[:, 0].max())
    shade = int(rng.uniform(0, 255))
    if rng.random() < 0.5:
        edge = top if rng.random() < 0.5 else bottom
        thickness = rng.uniform(0.04, 0.14) * height
        y = edge - thickness / 2 + (thickness / 2 if edge == top else -thickness / 2)
        cv2.rectangle(image, (int(x0), int(y)), (int(x1), int(y + thickness)), shade, -1)
    else:
        r = max(1, int(rng.uniform(0.04, 0.08) * height))
        cx = int(x0 + (x1 - x0) * (0.2 if rng.random() < 0.5 else 0.8))
        cy = int(top + height * (0.1 if rng.random() < 0.5 else 0.9))
        cv2.circle(image, (cx, cy), r, shade, -1)


def camera_view(image: np.ndarray, quad: np.ndarray, rng: np.random.Generator, *, real: bool = False,
                size: tuple[int, int] = INPUT_SIZE) -> np.ndarray:
    """The detector's box around the plate at `quad` in `image` (grey), as the reader receives it.

    `real` plates were already seen by a camera: they are turned less and degraded less.
    """
    quad = np.asarray(quad, np.float32)
    plate_w = float(np.linalg.norm(quad[1] - quad[0]) + np.linalg.norm(quad[2] - quad[3])) / 2
    plate_h = float(np.linalg.norm(quad[3] - quad[0]) + np.linalg.norm(quad[2] - quad[1])) / 2
    seen = _turned(plate_w, plate_h, rng, 0.4 if real else 1.0)
    # The plate's width in the camera: log-uniform from far to near.
    low, high = (40.0, 240.0) if real else (28.0, 240.0)
    width = float(np.exp(rng.uniform(np.log(low), np.log(high))))
    seen *= width / max(1e-3, float(np.ptp(seen[:, 0])))
    # The detector's box: loose or a little tight on each side.
    x0, y0 = seen.min(axis=0)
    x1, y1 = seen.max(axis=0)
    w, h = x1 - x0, y1 - y0
    margins = rng.uniform(-0.03, 0.15, 4) * np.array([w, h, w, h])
    if rng.random() < 0.3:
        margins[1::2] += rng.uniform(0.0, 0.4, 2) * h  # detectors often take in more above and below
    box_w = max(8, round(w + margins[0] + margins[2]))
    box_h = max(6, round(h + margins[1] + margins[3]))
    target = seen - np.array([x0 - margins[0], y0 - margins[1]], np.float32)
    # Shrink the source first when the view is much smaller: no aliasing from the warp.
    shrink = min(1.0, 2.0 * width / max(1.0, plate_w))
    source = image if shrink == 1.0 else cv2.resize(image, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
    homography = cv2.getPerspectiveTransform(quad * shrink, target.astype(np.float32))
    border = cv2.BORDER_REFLECT101 if real or rng.random() < 0.5 else cv2.BORDER_REPLICATE
    view = cv2.warpPerspective(source, homography, (box_w, box_h), flags=cv2.INTER_LINEAR, borderMode=border)
    if rng.random() < (0.1 if real else 0.25):
        _cover_an_edge(view, target, rng)
    view = _light(_blur(view, rng) if not real or rng.random() < 0.5 else view, rng)
    ok, jpeg = cv2.imencode(".jpg", view, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(20, 96))])
    if ok and rng.random() < 0.7:
        view = cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE)
    return cv2.resize(view, size, interpolation=cv2.INTER_AREA if box_w > size[0] else cv2.INTER_LINEAR)


def crop_quad(image: np.ndarray) -> np.ndarray:
    """A tight plate crop's own corners: the plate fills it."""
    h, w = image.shape[:2]
    return np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
