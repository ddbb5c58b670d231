"""Plate crops as a camera delivers them, for OCR training and tests: `render_plate`.

The plate sits on a bumper and is seen at an angle (yaw, pitch), tilted (roll up to 15 degrees),
at a random size, blurred, noisy and JPEG-compressed, by day or by night with headlight glare.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from edge.synthetic import effects
from edge.synthetic.plates import PlateSpec, draw_plate, random_plate_spec
from edge.synthetic.regions import printed_form, region_format
from edge.synthetic.vehicles import BGR, random_paint


@dataclass(frozen=True)
class PlateMeta:
    text: str
    region: str
    printed: str  # as printed, with the region's gaps and hyphens
    two_line: bool
    night: bool
    # Plate corners in the image: top-left, top-right, bottom-right, bottom-left (x, y) px.
    quad: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class CropLook:
    """How a camera sees one plate crop."""

    yaw_deg: float
    pitch_deg: float
    roll_deg: float
    plate_height_px: float
    margin: tuple[float, float, float, float]  # left, top, right, bottom, as fractions of the plate size
    blur_sigma: float
    motion_px: float
    noise_sigma: float
    jpeg_quality: int
    night: bool
    glare: bool
    gain: float
    bumper: BGR


def random_crop_look(rng: np.random.Generator, night: bool | None = None) -> CropLook:
    night = bool(rng.random() < 0.3) if night is None else night
    return CropLook(
        yaw_deg=float(rng.uniform(-35, 35)),
        pitch_deg=float(rng.uniform(-20, 20)),
        roll_deg=float(np.clip(rng.normal(0, 6), -15, 15)),
        plate_height_px=float(rng.uniform(24, 80)),
        margin=tuple(float(m) for m in rng.uniform(0.04, 0.25, 4)),  # type: ignore[arg-type]
        blur_sigma=float(rng.uniform(0, 1.3)),
        motion_px=float(rng.uniform(2, 7)) if rng.random() < 0.25 else 0.0,
        noise_sigma=float(rng.uniform(5, 14) if night else rng.uniform(1, 5)),
        jpeg_quality=int(rng.integers(30, 96)),
        night=night,
        glare=bool(night and rng.random() < 0.5),
        gain=float(rng.uniform(0.7, 1.2)),
        bumper=random_paint(rng),
    )


def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    y, p, r = np.radians([yaw, pitch, roll])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return rz @ rx @ ry


def render_plate(text: str, region: str, rng: np.random.Generator, *, look: CropLook | None = None,
                 two_line: bool | None = None, with_header: bool | None = None) -> tuple[np.ndarray, PlateMeta]:
    """A plate crop as a camera would deliver it, and where the plate is in it.

    `text` must be a valid plate of `region` (see `random_plate_text`); unset options are drawn
    from `rng`, so a seeded generator gives the same crop every time.
    """
    fmt = region_format(region)
    if not fmt.matches(text):
        raise ValueError(f"plate {text!r} is not a valid {fmt.name} plate ({', '.join(fmt.patterns)})")
    spec = random_plate_spec(text, region, rng)
    if two_line and not fmt.has_two_line:
        raise ValueError(f"{fmt.name} ({region}) issues no two-line plates")
    spec = PlateSpec(text, region, spec.two_line if two_line is None else two_line,
                     spec.with_header if with_header is None else with_header)
    look = look or random_crop_look(rng)
    plate = draw_plate(spec, px_per_mm=1.0)
    ph, pw = plate.shape[:2]
    # The bumper around the plate: what a detector's box includes besides the plate.
    pad_x, pad_y = pw // 2, ph
    canvas = np.empty((ph + 2 * pad_y, pw + 2 * pad_x, 3), np.uint8)
    canvas[:] = look.bumper
    canvas = effects.add_noise(canvas, 6.0, rng)
    cv2.rectangle(canvas, (pad_x - 8, pad_y - 8), (pad_x + pw + 7, pad_y + ph + 7), (25, 25, 27), -1)
    canvas[pad_y: pad_y + ph, pad_x: pad_x + pw] = plate

    # Project the canvas (1 px = 1 mm, centred on the plate) through a rotated plane.
    f_over_d = look.plate_height_px / ph  # pixels per mm at the plate's distance
    distance_mm = 5000.0
    rot = _rotation(look.yaw_deg, look.pitch_deg, look.roll_deg)

    def project(points: np.ndarray) -> np.ndarray:
        centred = np.column_stack([points[:, 0] - pad_x - pw / 2, points[:, 1] - pad_y - ph / 2,
                                   np.zeros(len(points))])
        cam = centred @ rot.T + np.array([0, 0, distance_mm])
        return f_over_d * distance_mm * cam[:, :2] / cam[:, 2:3]

    canvas_corners = np.array([[0, 0], [canvas.shape[1], 0], [canvas.shape[1], canvas.shape[0]],
                               [0, canvas.shape[0]]], float)
    plate_corners = np.array([[pad_x, pad_y], [pad_x + pw, pad_y], [pad_x + pw, pad_y + ph], [pad_x, pad_y + ph]],
                             float)
    quad = project(plate_corners)
    left, top, right, bottom = look.margin
    qw, qh = np.ptp(quad[:, 0]), np.ptp(quad[:, 1])
    origin = np.array([quad[:, 0].min() - left * qw, quad[:, 1].min() - top * qh])
    size = (int(np.ceil(qw * (1 + left + right))), int(np.ceil(qh * (1 + top + bottom))))
    # Shrink before warping so that the warp never decimates (no aliasing on small plates).
    shrink = min(1.0, 2.0 * max(qw / pw, qh / ph))
    small = cv2.resize(canvas, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
    small_corners = np.array([[0, 0], [small.shape[1], 0], [small.shape[1], small.shape[0]], [0, small.shape[0]]],
                             np.float32)
    homography = cv2.getPerspectiveTransform(small_corners, (project(canvas_corners) - origin).astype(np.float32))
    crop = cv2.warpPerspective(small, homography, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    crop = _camera_look(crop, look, quad - origin, rng)
    meta = PlateMeta(text, region, printed_form(text, fmt), spec.two_line, look.night,
                     tuple((float(x), float(y)) for x, y in quad - origin))
    return crop, meta


def _camera_look(crop: np.ndarray, look: CropLook, quad: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    crop = cv2.convertScaleAbs(crop, alpha=look.gain)
    crop = effects.gaussian_blur(crop, look.blur_sigma)
    crop = effects.motion_blur(crop, look.motion_px, float(rng.uniform(-20, 20)))
    if look.night:
        crop = effects.night_grade(crop, gain=0.55)
        if look.glare:
            corner = quad[int(rng.integers(4))]
            effects.add_glare(crop, (float(corner[0]), float(corner[1])), radius=float(np.ptp(quad[:, 1])) * 1.5,
                              strength=float(rng.uniform(0.5, 1.0)))
    crop = effects.add_noise(crop, look.noise_sigma, rng)
    return effects.jpeg(crop, look.jpeg_quality)
