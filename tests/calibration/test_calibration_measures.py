"""Technician measurements on frames the tests make: rendered checkerboards and the synthetic crossing."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge.calibration.geometry import GeometryError, apply_warp, roi_around, warp_for_plate, warp_points
from edge.calibration.lens import Board, LensError, calibrate_lens, find_board
from edge.calibration.measures import exposure, focus_score
from edge.calibration.shutter import px_per_m_from_characters, shutter_advice
from edge.calibration.sizes import face_size, plate_size
from edge.config import FacesConfig, RegionOfInterest
from edge.faces.detectors import frame_detector
from edge.faces.observe import FaceObserver
from edge.plates.pipeline import PlateReader
from edge.synthetic import scene_for
from tests.support import checkerboard

# A daytime moment of the synthetic lane-1 with a German plate stopped in view (read as JRRB396).
LANE, SEED, STOPPED = "lane-1", 1, 1_000_041.0
EU_PLATE_ASPECT = 520 / 110


@pytest.fixture(scope="module")
def scene():
    return scene_for(LANE, SEED)


@pytest.fixture(scope="module")
def board_photos():
    return checkerboard.photos()


def _corners(scene) -> np.ndarray:
    return np.array(scene.truth_at(STOPPED).plate_quad)


def test_rendered_board_corners_are_where_cv2_project_points_puts_them(board_photos):
    board = Board(checkerboard.COLUMNS, checkerboard.ROWS, checkerboard.SQUARE_MM)
    for (name, image), (angles, centre) in zip(board_photos, checkerboard.POSES, strict=True):
        found = find_board(image, board)
        assert found is not None, name
        rvec, tvec = checkerboard.pose(angles, centre)
        expected, _ = cv2.projectPoints(checkerboard.board_points(), rvec, tvec, checkerboard.CAMERA,
                                        checkerboard.DISTORTION)  # fmt: skip
        assert np.abs(found.reshape(-1, 2) - expected.reshape(-1, 2)).max() < 0.6, name


def test_lens_calibration_recovers_the_camera_that_took_the_photos(board_photos):
    blank = np.full_like(board_photos[0][1], 120)
    result = calibrate_lens([*board_photos, ("wall", blank)], Board(checkerboard.COLUMNS, checkerboard.ROWS, 30.0))
    assert result.rejected == ("wall",) and len(result.used) == len(checkerboard.POSES)
    k = result.camera_matrix
    true = checkerboard.CAMERA
    assert k[0, 0] == pytest.approx(true[0, 0], rel=0.01) and k[1, 1] == pytest.approx(true[1, 1], rel=0.01)
    assert k[0, 2] == pytest.approx(true[0, 2], abs=5) and k[1, 2] == pytest.approx(true[1, 2], abs=5)
    assert result.distortion[0] == pytest.approx(checkerboard.DISTORTION[0], abs=0.05)  # k1: the barrel
    assert result.rms_px < 0.3
    config = result.to_config()
    assert (config.width, config.height) == checkerboard.SIZE and config.rms_px == result.rms_px


def test_lens_calibration_says_what_is_wrong_with_the_photos(board_photos):
    board = Board(checkerboard.COLUMNS, checkerboard.ROWS, 30.0)
    with pytest.raises(LensError, match="found in 2 of 3 images"):
        calibrate_lens([*board_photos[:2], ("wall", np.full_like(board_photos[0][1], 120))], board)
    with pytest.raises(LensError, match="differ in size"):
        calibrate_lens([board_photos[0], ("small", board_photos[1][1][:400])], board)
    with pytest.raises(LensError, match="different counts"):
        calibrate_lens(board_photos, Board(6, 6, 30.0))
    # The wrong board size is simply not found: the count is part of what is searched for.
    with pytest.raises(LensError, match="found in 0 of 3"):
        calibrate_lens(board_photos[:3], Board(8, 6, 30.0))


def test_focus_score_drops_as_the_image_blurs(scene):
    frame = scene.render("plate", STOPPED)
    scores = [focus_score(cv2.GaussianBlur(frame, (0, 0), sigma)) if sigma else focus_score(frame)
              for sigma in (0, 1.0, 2.0, 4.0)]  # fmt: skip
    assert scores == sorted(scores, reverse=True) and scores[-1] < 0.1 * scores[0]
    plate_roi = roi_around(_corners(scene), 1280, 720, margin=0.2)
    assert focus_score(frame, plate_roi) > focus_score(frame)  # the plate is the sharpest thing in view


def test_exposure_reports_mean_clipping_and_what_to_do(scene):
    frame = scene.render("plate", STOPPED)
    fine = exposure(frame)
    assert fine.problems == () and 60 < fine.mean < 200 and sum(fine.histogram) == pytest.approx(1.0)
    dark = exposure(cv2.convertScaleAbs(frame, alpha=0.25))
    assert dark.mean == pytest.approx(fine.mean * 0.25, rel=0.05) and "too dark" in dark.problems[0]
    burnt = exposure(cv2.convertScaleAbs(frame, alpha=2.5))
    assert burnt.bright_clipped > 0.2 and any("clipped to white" in p for p in burnt.problems)
    roi = RegionOfInterest(x=0, y=0, width=100, height=100)
    assert exposure(np.full((200, 200, 3), 255, np.uint8), roi).bright_clipped == 1.0
    with pytest.raises(ValueError, match="outside"):
        exposure(frame, RegionOfInterest(x=2000, y=0, width=10, height=10))


def test_plate_character_height_is_measured_on_the_plate_the_reader_reads(scene):
    frame = scene.render("plate", STOPPED)
    truth = scene.truth_at(STOPPED)
    size = plate_size(frame, PlateReader(), minimum_px=15)
    assert size is not None and size.text == truth.plate_text
    corners = _corners(scene)
    plate_height = (np.linalg.norm(corners[3] - corners[0]) + np.linalg.norm(corners[2] - corners[1])) / 2
    # EU plate characters are 75 mm on a 110 mm plate.
    assert size.char_height_px == pytest.approx(plate_height * 75 / 110, rel=0.15)
    assert size.ok
    centre = np.array(size.quad).mean(axis=0)
    assert cv2.pointPolygonTest(corners.astype(np.float32), tuple(centre), False) > 0
    # The same view from further away (a zoom out): characters shrink, and are flagged.
    far = cv2.resize(frame, None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA)
    small = plate_size(far, PlateReader(), minimum_px=15)
    assert small is not None and small.char_height_px < 0.75 * size.char_height_px and not small.ok
    assert plate_size(np.full((720, 1280, 3), 128, np.uint8), PlateReader(), minimum_px=15) is None


def test_inter_eye_distance_is_measured_on_the_largest_face_and_grows_with_zoom(scene):
    frame = scene.render("face", STOPPED)
    x, y, w, h = (round(v) for v in scene.truth_at(STOPPED).face_box)
    faces = FacesConfig()
    observer = FaceObserver(faces, frame_detector(faces))
    size = face_size(frame, observer, minimum_px=90)
    assert size is not None
    assert 0.3 * w < size.inter_eye_px < 0.6 * w  # eyes sit a little under half a face width apart
    assert abs(size.box.left + size.box.width / 2 - (x + w / 2)) < w / 4
    # Zoom in twice on the driver: the distance doubles and passes the 90 px target.
    crop = frame[max(0, y - h) : y + 2 * h, max(0, x - w) : x + 2 * w]
    zoomed = face_size(cv2.resize(crop, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC), observer, 90)
    assert zoomed is not None and zoomed.inter_eye_px == pytest.approx(2 * size.inter_eye_px, rel=0.1)
    assert zoomed.ok and not size.ok
    assert face_size(np.full((480, 640, 3), 128, np.uint8), observer, 90) is None


def test_shutter_advice_keeps_motion_blur_within_the_limit():
    advice = shutter_advice(speed_kmh=36, px_per_m=500, max_blur_px=1)  # 10 m/s, 2 mm per pixel
    assert advice.max_exposure_s == pytest.approx(1 / 5000)
    assert "1/5000 s" in advice.describe()
    assert shutter_advice(36, 500, max_blur_px=2).max_exposure_s == pytest.approx(2 / 5000)
    assert px_per_m_from_characters(15, 75) == pytest.approx(200)
    with pytest.raises(ValueError, match="speed_kmh"):
        shutter_advice(0, 500)
    with pytest.raises(ValueError, match="positive"):
        px_per_m_from_characters(15, 0)


def test_warp_from_four_plate_corners_makes_the_plate_an_upright_rectangle(scene):
    corners = _corners(scene)
    roi = roi_around(corners, 1280, 720, margin=1.0)
    left, top = corners.min(axis=0)
    right, bottom = corners.max(axis=0)
    assert roi.x <= left and roi.y <= top and roi.x + roi.width >= right and roi.y + roi.height >= bottom
    warp = warp_for_plate(corners, roi, EU_PLATE_ASPECT)
    tl, tr, br, bl = warp_points(corners, roi, warp)
    assert tl[1] == pytest.approx(tr[1], abs=0.01) and bl[1] == pytest.approx(br[1], abs=0.01)
    assert tl[0] == pytest.approx(bl[0], abs=0.01) and tr[0] == pytest.approx(br[0], abs=0.01)
    assert (tr[0] - tl[0]) / (bl[1] - tl[1]) == pytest.approx(EU_PLATE_ASPECT, rel=1e-3)
    warped = apply_warp(scene.render("plate", STOPPED), roi, warp)
    assert warped.shape[:2] == (warp.height, warp.width)
    # What the reader sees after the warp: the same plate, its characters in a level row.
    reads = PlateReader().read_frame(warped)
    assert reads and reads[0].text == scene.truth_at(STOPPED).plate_text
    (x0, y0), (x1, y1) = reads[0].quad[0], reads[0].quad[1]
    assert abs(y1 - y0) / (x1 - x0) < 0.03


def test_corners_that_cannot_be_a_plate_are_refused(scene):
    corners = _corners(scene)
    with pytest.raises(GeometryError, match="must go top-left, top-right, bottom-right, bottom-left"):
        roi_around(corners[[1, 0, 3, 2]], 1280, 720)
    with pytest.raises(GeometryError, match="outside the 640x480 frame"):
        roi_around(corners, 640, 480)
    with pytest.raises(GeometryError, match="px long"):
        roi_around(np.array([[100, 100], [103, 100], [103, 103], [100, 103]], float), 1280, 720)
    # A "plate" drawn as a trapezoid implies a view so oblique that the warp would mostly stretch
    # pixels, or one whose horizon crosses the ROI.
    oblique = np.array([[570, 400], [710, 400], [740, 440], [540, 440]], float)
    with pytest.raises(GeometryError, match="over 4 times the ROI"):
        warp_for_plate(oblique, roi_around(oblique, 1280, 720, margin=0.5), EU_PLATE_ASPECT)
    steep = np.array([[600, 400], [610, 400], [900, 700], [300, 700]], float)
    with pytest.raises(GeometryError, match="horizon inside the ROI"):
        warp_for_plate(steep, roi_around(steep, 1280, 720, margin=0.5), EU_PLATE_ASPECT)
