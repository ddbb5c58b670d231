"""The driver's head and shoulders, from a public-domain portrait, under varied pose and light.

The portrait is scikit-image's `astronaut()` (Eileen Collins, NASA photograph, public domain),
the one public-domain face among the packages the product already depends on. Every traveller
therefore shows the same person; pose and lighting change per traveller, identity does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

# Face box (left, top, width, height) that face_recognition's HOG detector reports on the portrait.
_FACE_BOX = (175, 76, 90, 90)
# Head and shoulders: the part of the portrait a camera sees through the driver's window.
_CROP = (70, 0, 390, 480)
# The face box is about 15 cm wide on a real adult face; this sets the layer's size in metres.
_FACE_WIDTH_M = 0.15


@dataclass(frozen=True)
class DriverLook:
    roll_deg: float  # head tilt
    turn: float  # -1..1: head turned away from (negative) or towards the camera side; a perspective squeeze
    scale: float
    gain: float
    warmth: float  # colour temperature of the light, -1 cold .. 1 warm
    side_light: float  # -1..1: light falling from one side
    seat_offset: tuple[float, float]  # (forward, up) metres: where the driver sits relative to the default


@dataclass(frozen=True, eq=False)
class DriverLayer:
    image: np.ndarray  # BGR uint8
    alpha: np.ndarray  # uint8 coverage
    face_box: tuple[float, float, float, float]  # x, y, w, h in layer pixels
    height_m: float

    @property
    def aspect(self) -> float:
        return self.image.shape[1] / self.image.shape[0]


def random_driver_look(rng: np.random.Generator) -> DriverLook:
    return DriverLook(
        roll_deg=float(np.clip(rng.normal(0, 4), -9, 9)),
        turn=float(rng.uniform(-0.25, 0.25)),
        scale=float(rng.uniform(0.92, 1.1)),
        gain=float(rng.uniform(0.7, 1.2)),
        warmth=float(rng.uniform(-1, 1)),
        side_light=float(rng.uniform(-0.45, 0.45)),
        seat_offset=(float(rng.uniform(-0.06, 0.06)), float(rng.uniform(-0.05, 0.04))),
    )


@lru_cache(maxsize=1)
def _portrait() -> tuple[np.ndarray, np.ndarray]:
    """The cropped portrait (BGR float32 0..1) and a soft head-and-shoulders mask (float32 0..1)."""
    from skimage import data  # imported late: loading scikit-image costs a second

    x0, y0, x1, y1 = _CROP
    rgb = data.astronaut()[y0:y1, x0:x1]
    bgr = rgb[:, :, ::-1].astype(np.float32) / 255.0
    # Head outline, then neck, collar ring and shoulders (portrait coordinates, shifted to the crop).
    person = np.zeros(bgr.shape[:2], np.uint8)
    cv2.ellipse(person, (226 - x0, 100 - y0), (82, 98), 0, 0, 360, 255, -1)
    body = np.array([(190, 150), (262, 150), (300, 178), (318, 230), (352, 290), (362, 480), (70, 480), (75, 290),
                     (118, 230), (150, 175)]) - np.array([x0, y0])
    cv2.fillPoly(person, [body.astype(np.int32)], 255)
    # The studio backdrop is pale and grey (hair, skin and suit are not), and it reaches the top
    # of the crop; the silver collar ring is grey too, but a dark rim cuts it off from the backdrop.
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    backdrop_like = ((hsv[..., 1] < 32) & (hsv[..., 2] > 110)).astype(np.uint8)
    _, labels = cv2.connectedComponents(backdrop_like)
    touching = np.unique(np.concatenate([labels[0], labels[:, -1]]))
    backdrop = np.isin(labels, touching[touching > 0])
    person[backdrop] = 0
    person = cv2.morphologyEx(person, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    person = cv2.morphologyEx(person, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9)))
    mask = cv2.GaussianBlur(person.astype(np.float32) / 255.0, (0, 0), 1.5)
    return np.ascontiguousarray(bgr), mask


def driver_layer(look: DriverLook, night: bool) -> DriverLayer:
    """The portrait lit and posed as `look` says, with its face box."""
    bgr, mask = _portrait()
    h, w = mask.shape
    ramp = np.linspace(-1.0, 1.0, w, dtype=np.float32)[None, :, None]
    light = look.gain * (1.0 + look.side_light * ramp)
    tint = np.array([1 - 0.08 * look.warmth, 1.0, 1 + 0.08 * look.warmth], np.float32)
    if night:
        # A booth lamp at night: dim, greenish-white, and noisier sensors later.
        light = light * 0.42
        tint = np.array([1.05, 1.05, 0.9], np.float32)
    lit = np.clip(bgr * light * tint * 255.0, 0, 255).astype(np.uint8)

    fx, fy, fw, fh = _FACE_BOX
    centre = (fx - _CROP[0] + fw / 2, fy - _CROP[1] + fh / 2)
    rot = np.vstack([cv2.getRotationMatrix2D(centre, look.roll_deg, look.scale), [0, 0, 1]])
    # Turning the head: one side of the layer a little shorter than the other.
    k = 0.12 * look.turn
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    dst = np.array([[0, h * k], [w, -h * k], [w, h * (1 + k)], [0, h * (1 - k)]], np.float32)
    if k < 0:
        dst = np.array([[0, -h * k], [w, h * k], [w, h * (1 - k)], [0, h * (1 + k)]], np.float32)
    turn = cv2.getPerspectiveTransform(src, dst)
    # Keep the layer's frame: a warp that leaves the content centred and inside.
    warp = turn @ rot
    image = cv2.warpPerspective(lit, warp, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    alpha = cv2.warpPerspective((mask * 255).astype(np.uint8), warp, (w, h), flags=cv2.INTER_LINEAR)
    corners = np.array([[fx, fy], [fx + fw, fy], [fx + fw, fy + fh], [fx, fy + fh]], np.float32)
    corners -= np.array(_CROP[:2], np.float32)
    moved = cv2.perspectiveTransform(corners[None], warp)[0]
    box = (float(moved[:, 0].min()), float(moved[:, 1].min()), float(np.ptp(moved[:, 0])), float(np.ptp(moved[:, 1])))
    return DriverLayer(image, alpha, box, height_m=h * _FACE_WIDTH_M / fw)
