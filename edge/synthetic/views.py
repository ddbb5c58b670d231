"""What the plate and face cameras see of a visit at one moment, and where plate and face are.

The views draw a visit's car (panels), plate and driver (textured quads) over a background,
then add what the camera does: focus and motion blur, headlight glare, sensor noise, JPEG.
"""

from __future__ import annotations

import cv2
import numpy as np

from edge.synthetic import effects
from edge.synthetic.camera import PinholeCamera, bounding_box, quad_inside
from edge.synthetic.render import draw_parts, map_points, warp_texture
from edge.synthetic.timeline import Moment
from edge.synthetic.visits import LaneRig, Visit, VisitAssets, vehicle_pose

# Exposure times: motion blur is speed x exposure, and night exposures are long.
_EXPOSURE_DAY_S, _EXPOSURE_NIGHT_S = 1 / 250, 1 / 60
_NOISE_DAY, _NOISE_NIGHT = 2.5, 7.0
# A car passing right in front of a lens is a smear anyway; more blur only costs time.
_MAX_BLUR_SIGMA = 10.0
# Below this the edge of a blurred box is invisible and the cheaper whole-box blur will do.
_SEAMLESS_SIGMA = 1.5
_MAX_GLARE_PX = 260


def add_sensor_noise(frame: np.ndarray, night: bool, rng: np.random.Generator) -> None:
    effects.add_field_noise(frame, _NOISE_NIGHT if night else _NOISE_DAY, rng)


def _project_all_in_front(camera: PinholeCamera, points: np.ndarray, rotation: np.ndarray,
                          translation: np.ndarray) -> np.ndarray | None:
    uv, in_front = camera.project(points @ rotation.T + translation)
    return uv if in_front.all() else None


def plate_quad(rig: LaneRig, assets: VisitAssets, rotation: np.ndarray, translation: np.ndarray) -> np.ndarray | None:
    """The plate's corners in the plate camera frame, or None if the plate is not wholly in view."""
    quad = _project_all_in_front(rig.plate_camera, assets.plate_corners, rotation, translation)
    if quad is None or not quad_inside(quad, rig.plate_camera.width, rig.plate_camera.height):
        return None
    return quad


def face_box(rig: LaneRig, assets: VisitAssets, rotation: np.ndarray,
             translation: np.ndarray) -> tuple[float, float, float, float] | None:
    """The driver's face box in the face camera frame, if the face is wholly in view through the window."""
    cam = rig.face_camera
    quad = _project_all_in_front(cam, assets.driver_corners, rotation, translation)
    window = _project_all_in_front(cam, assets.window, rotation, translation)
    if quad is None or window is None:
        return None
    face = map_points(assets.driver, quad, assets.face_corners)
    if not quad_inside(face, cam.width, cam.height):
        return None
    contour = window.astype(np.float32).reshape(-1, 1, 2)
    if any(cv2.pointPolygonTest(contour, (float(x), float(y)), False) < 0 for x, y in face):
        return None
    x0, y0 = face.min(axis=0)
    x1, y1 = face.max(axis=0)
    return float(x0), float(y0), float(x1 - x0), float(y1 - y0)


def _blur_region(frame: np.ndarray, polygons: list[np.ndarray], sigma: float) -> None:
    """Blur what was drawn (focus, motion), leaving the background around it sharp."""
    if not polygons or sigma < 0.3:
        return
    sigma = min(sigma, _MAX_BLUR_SIGMA)
    pad = int(3 * sigma) + 2
    box = bounding_box(np.concatenate(polygons), frame.shape[1], frame.shape[0], pad=pad)
    if box is None:
        return
    x0, y0, x1, y1 = box
    roi = frame[y0:y1, x0:x1]
    blurred = effects.gaussian_blur(roi, sigma)
    if sigma < _SEAMLESS_SIGMA:
        roi[:] = blurred
        return
    # A strong blur of the whole box would show the box's edges in the background: blend the
    # blurred car in through a soft mask of its outline instead.
    mask = np.zeros(roi.shape[:2], np.float32)
    offset = np.array([x0, y0])
    for polygon in polygons:
        # One call per panel: a single call with overlapping polygons would cancel the overlaps.
        cv2.fillPoly(mask, [np.round(polygon - offset).astype(np.int32)], 1.0)
    mask = effects.gaussian_blur(mask, sigma)
    roi[:] = cv2.blendLinear(blurred, roi, mask, 1.0 - mask)


def _motion_sigma(camera: PinholeCamera, rig: LaneRig, visit: Visit, m: Moment, points: np.ndarray) -> float:
    """Blur from the car moving while the shutter is open: how far `points` (car coordinates) move.

    A car driving at the camera mostly grows rather than slides, so this is measured in the
    image, not taken from the speed alone.
    """
    exposure = _EXPOSURE_NIGHT_S if visit.night else _EXPOSURE_DAY_S
    travel = m.travel_m + visit.stop_offset_m
    before = _project_all_in_front(camera, points, *vehicle_pose(rig.world, visit, travel))
    after = _project_all_in_front(camera, points, *vehicle_pose(rig.world, visit, travel + m.speed * exposure))
    if before is None or after is None:
        return _MAX_BLUR_SIGMA
    return float(np.linalg.norm(after - before, axis=1).max()) / 2


def render_plate_view(frame: np.ndarray, rig: LaneRig, visit: Visit, assets: VisitAssets, m: Moment,
                      rng: np.random.Generator) -> None:
    """Draw the visit's car into the plate camera's frame (already holding the background)."""
    cam = rig.plate_camera
    travel = m.travel_m + visit.stop_offset_m
    rotation, translation = vehicle_pose(rig.world, visit, travel)
    drawn = draw_parts(frame, cam, assets.parts, rotation, translation, visit.night)
    quad = _project_all_in_front(cam, assets.plate_corners, rotation, translation)
    if quad is not None:
        warp_texture(frame, assets.plate, quad)
    depth = float(cam.to_camera(translation[None])[0, 2])
    sigma = float(np.hypot(visit.focus_sigma, _motion_sigma(cam, rig, visit, m, assets.plate_corners)))
    _blur_region(frame, drawn, sigma)
    if visit.night and drawn:
        lamps = _project_all_in_front(cam, assets.headlights, rotation, translation)
        if lamps is not None and depth > 0.5:
            radius = min(cam.focal_px * 0.5 / depth, _MAX_GLARE_PX)
            for x, y in lamps:
                effects.add_glare(frame, (float(x), float(y)), radius=radius)
    add_sensor_noise(frame, visit.night, rng)
    if quad is not None:
        # Compression damage where it matters for reading: around the plate.
        box = bounding_box(quad, frame.shape[1], frame.shape[0], pad=16)
        if box is not None:
            x0, y0, x1, y1 = box
            frame[y0:y1, x0:x1] = effects.jpeg(np.ascontiguousarray(frame[y0:y1, x0:x1]), visit.jpeg_quality)


def render_face_view(frame: np.ndarray, rig: LaneRig, visit: Visit, assets: VisitAssets, m: Moment,
                     rng: np.random.Generator) -> None:
    """Draw the visit's car, and the driver at its open window, into the face camera's frame."""
    cam = rig.face_camera
    rotation, translation = vehicle_pose(rig.world, visit, m.travel_m + visit.stop_offset_m)
    inside = draw_parts(frame, cam, assets.inside_parts, rotation, translation, visit.night)
    driver = _project_all_in_front(cam, assets.driver_corners, rotation, translation)
    window = _project_all_in_front(cam, assets.window, rotation, translation)
    if driver is not None and window is not None:
        # The driver shows only through the open window: paint no further than its outline.
        warp_texture(frame, assets.driver, driver, clip=bounding_box(window, cam.width, cam.height, pad=2))
    outside = draw_parts(frame, cam, assets.outside_parts, rotation, translation, visit.night)
    _blur_region(frame, inside + outside, _motion_sigma(cam, rig, visit, m, assets.driver_corners))
    add_sensor_noise(frame, visit.night, rng)
