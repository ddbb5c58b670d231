"""The synthetic crossing: determinism, timeline, plates, passports, rendering, datasets, CLI."""

from __future__ import annotations

import csv
import hashlib
import itertools
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime

import cv2
import numpy as np
import pytest

from edge.cli import main
from edge.synthetic import (
    REGIONS,
    SceneTruth,
    plate_frames,
    random_plate_text,
    render_plate,
    scene_for,
    write_plate_crops,
    write_plate_frames,
)
from edge.synthetic.plates import PlateSpec, draw_plate
from edge.synthetic.timeline import ARRIVE_S, LEAVE_S, SLOT_S, STOP_MAX_S, STOP_MIN_S
from hardware.mrz import check_digit

LANE, SEED = "lane-test", 11
# A fixed moment (2027) so that the tests do not depend on the wall clock.
T0 = 1_800_000_000.0
PLATE_RE = re.compile(r"[A-Z0-9]+")


@pytest.fixture(scope="module")
def scene():
    return scene_for(LANE, SEED)


def find_time(scene, want: Callable[[SceneTruth], bool], start: float = T0, step: float = 0.5,
              within: float = 3 * 480.0) -> float:
    """The first sampled time from `start` whose truth satisfies `want`."""
    for t in np.arange(start, start + within, step):
        if want(scene.truth_at(float(t))):
            return float(t)
    raise AssertionError("no such moment in the scene")


def stopped_visits(scene, count: int, start: float = T0) -> list[SceneTruth]:
    """The truth at the middle of the first `count` stops from `start`."""
    found: list[SceneTruth] = []
    t = start
    while len(found) < count:
        t = find_time(scene, lambda tr: tr.phase == "stopped", start=t)
        truth = scene.truth_at(t + 4.0)
        assert truth.phase == "stopped"
        found.append(truth)
        t = find_time(scene, lambda tr: tr.phase == "empty", start=t)
    return found


def digest(frame: np.ndarray) -> str:
    return hashlib.sha256(frame.tobytes()).hexdigest()


# --- determinism -------------------------------------------------------------------------------

def test_same_seed_and_time_give_the_same_frame(scene):
    t = find_time(scene, lambda tr: tr.phase == "stopped") + 1.3
    for camera in ("plate", "face"):
        first = scene.render(camera, t)
        assert first.shape == (720, 1280, 3) and first.dtype == np.uint8
        assert np.array_equal(first, scene.render(camera, t))
    # A fresh scene object (what another process holds) renders the very same frame.
    from edge.synthetic.scene import Scene

    other = Scene(LANE, SEED)
    assert np.array_equal(scene.render("plate", t), other.render("plate", t))
    assert other.truth_at(t) == scene.truth_at(t)


def test_another_process_sees_the_same_scene(scene):
    """Nothing may depend on per-process state (e.g. Python's salted str hash)."""
    t = find_time(scene, lambda tr: tr.phase == "stopped") + 2.0
    code = (
        "import hashlib, sys\n"
        "from edge.synthetic import scene_for\n"
        f"s = scene_for({LANE!r}, {SEED})\n"
        f"tr = s.truth_at({t!r})\n"
        f"print(hashlib.sha256(s.render('plate', {t!r}).tobytes()).hexdigest(), tr.plate_text, tr.mrz_lines[1])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    truth = scene.truth_at(t)
    assert out.stdout.split() == [digest(scene.render("plate", t)), truth.plate_text, truth.mrz_lines[1]]


def test_frames_change_over_time_and_between_seeds(scene):
    t = find_time(scene, lambda tr: tr.phase == "stopped") + 1.0
    assert not np.array_equal(scene.render("plate", t), scene.render("plate", t + 0.1)), "sensor noise must move"
    other = scene_for(LANE, SEED + 1)
    plates = {tr.plate_text for tr in stopped_visits(scene, 3)}
    other_plates = {tr.plate_text for tr in stopped_visits(other, 3)}
    assert plates.isdisjoint(other_plates)


def test_cameras_rendering_in_parallel_threads_get_the_same_frames():
    """The capture threads of a lane's two cameras render at once, each vehicle's first frame too."""
    from concurrent.futures import ThreadPoolExecutor

    from edge.synthetic.scene import Scene

    reference = Scene(LANE, SEED)
    start = find_time(reference, lambda tr: tr.phase == "arriving")
    times = [start + 0.25 * i for i in range(8)]
    expected = {(camera, t): digest(reference.render(camera, t)) for camera in ("plate", "face") for t in times}
    shared = Scene(LANE, SEED)
    with ThreadPoolExecutor(max_workers=4) as pool:
        jobs = {key: pool.submit(shared.render, *key) for key in expected}
        assert {key: digest(job.result(timeout=60)) for key, job in jobs.items()} == expected


def test_unknown_camera_and_impossible_times_are_refused_by_name(scene):
    with pytest.raises(ValueError, match="rear"):
        scene.render("rear", T0)
    with pytest.raises(ValueError, match="finite"):
        scene.render("plate", float("nan"))
    with pytest.raises(ValueError, match="finite"):
        scene.truth_at(float("inf"))
    with pytest.raises(ValueError, match="at most"):
        scene.document_presented(T0, T0 + 10 * 86_400)


# --- timeline ----------------------------------------------------------------------------------

def test_phases_cycle_in_order_with_their_durations(scene):
    step = 0.1
    times = np.arange(T0, T0 + 8 * SLOT_S, step)
    truths = [scene.truth_at(float(t)) for t in times]
    runs: list[tuple[str, int | None, float]] = []  # (phase, vehicle, duration)
    for tr in truths:
        if runs and runs[-1][0] == tr.phase and runs[-1][1] == tr.vehicle_id:
            runs[-1] = (tr.phase, tr.vehicle_id, runs[-1][2] + step)
        else:
            runs.append((tr.phase, tr.vehicle_id, step))
    order = {"empty": "arriving", "arriving": "stopped", "stopped": "leaving", "leaving": "empty"}
    for (phase, vehicle, _), (next_phase, next_vehicle, _) in itertools.pairwise(runs):
        assert next_phase == order[phase], runs
        if phase != "empty" and next_phase != "empty":
            assert next_vehicle == vehicle
    complete = [r for r in runs[1:-1] if r[0] != "empty"]
    assert {r[0] for r in complete} == {"arriving", "stopped", "leaving"}
    for phase, _, duration in complete:
        lo, hi = {"arriving": (ARRIVE_S, ARRIVE_S), "stopped": (STOP_MIN_S, STOP_MAX_S),
                  "leaving": (LEAVE_S, LEAVE_S)}[phase]
        assert lo - 2 * step <= duration <= hi + 2 * step, (phase, duration)
    visits = [r[1] for r in complete if r[0] == "stopped"]
    assert len(visits) == len(set(visits)) >= 5


def test_empty_lane_has_no_vehicle_and_a_stopped_car_is_on_the_loop(scene):
    empty = scene.truth_at(find_time(scene, lambda tr: tr.phase == "empty"))
    assert (empty.vehicle_id, empty.plate_text, empty.mrz_lines, empty.loop_occupied) == (None, None, None, False)
    for truth in stopped_visits(scene, 4):
        assert truth.loop_occupied
    # Far down the lane at the start of arriving, the car is not yet over the loop.
    start = find_time(scene, lambda tr: tr.phase == "arriving")
    assert not scene.truth_at(start).loop_occupied


def test_lanes_of_one_crossing_are_out_of_step():
    a, b = scene_for("lane-1", SEED), scene_for("lane-2", SEED)
    phases_a = [a.truth_at(T0 + i).phase for i in range(60)]
    phases_b = [b.truth_at(T0 + i).phase for i in range(60)]
    assert phases_a != phases_b


# --- plates ------------------------------------------------------------------------------------

@pytest.mark.parametrize("region", sorted(REGIONS))
def test_random_plate_text_fits_its_region(region):
    rng = np.random.default_rng(5)
    fmt = REGIONS[region]
    for _ in range(40):
        text = random_plate_text(region, rng)
        assert PLATE_RE.fullmatch(text)
        assert fmt.matches(text), (region, text)


def test_scene_plates_fit_their_regions(scene):
    for truth in stopped_visits(scene, 6):
        assert PLATE_RE.fullmatch(truth.plate_text)
        assert REGIONS[truth.plate_region].matches(truth.plate_text)


def test_plate_text_outside_the_region_format_is_refused():
    with pytest.raises(ValueError, match="B123"):
        render_plate("B123", "de", np.random.default_rng(1))
    with pytest.raises(ValueError, match="xx"):
        random_plate_text("xx", np.random.default_rng(1))
    with pytest.raises(ValueError, match="two-line"):
        render_plate("AB123CD", "fr", np.random.default_rng(1), two_line=True)


def test_two_line_plates_stack_their_characters():
    rng = np.random.default_rng(3)
    for region in ("de", "br"):
        text = random_plate_text(region, rng)
        one = draw_plate(PlateSpec(text, region, two_line=False))
        two = draw_plate(PlateSpec(text, region, two_line=True))
        assert two.shape[0] / two.shape[1] > 2 * one.shape[0] / one.shape[1]
        # Dark character ink in both halves of the two-line plate's text area.
        ink = (two.max(axis=2) < 80).mean(axis=1)
        h = two.shape[0]
        assert ink[int(h * 0.25): int(h * 0.5)].max() > 0.1 and ink[int(h * 0.6): int(h * 0.9)].max() > 0.1


def test_rendered_crop_reports_where_the_plate_is():
    rng = np.random.default_rng(8)
    for region in ("us-ny", "fr", "br"):
        text = random_plate_text(region, rng)
        crop, meta = render_plate(text, region, rng)
        assert (meta.text, meta.region) == (text, region)
        quad = np.array(meta.quad)
        h, w = crop.shape[:2]
        assert (quad[:, 0] >= -1).all() and (quad[:, 0] <= w + 1).all()
        assert (quad[:, 1] >= -1).all() and (quad[:, 1] <= h + 1).all()
        inside = np.zeros((h, w), np.uint8)
        cv2.fillPoly(inside, [np.round(quad).astype(np.int32)], 1)
        gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
        # Characters on a plate: far more contrast inside the quad than a blank surface has.
        assert gray[inside == 1].std() > 20


# --- plate and face in the frames ---------------------------------------------------------------

def test_stopped_plate_is_in_the_frame_and_drawn(scene):
    for truth in stopped_visits(scene, 4):
        quad = np.array(truth.plate_quad)
        assert quad.shape == (4, 2)
        assert (quad >= 0).all() and (quad[:, 0] < 1280).all() and (quad[:, 1] < 720).all()
        frame = scene.render("plate", truth.t)
        empty = scene.background("plate", truth.night)
        inside = np.zeros(frame.shape[:2], np.uint8)
        cv2.fillPoly(inside, [np.round(quad).astype(np.int32)], 1)
        diff = np.abs(frame.astype(int) - empty.astype(int)).mean(axis=2)
        assert diff[inside == 1].mean() > 25, "the plate region must differ from the empty lane"
        assert cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)[inside == 1].std() > 15, "characters on the plate"


def test_driver_face_is_in_the_face_frame_and_detectable(scene):
    import face_recognition

    truth = stopped_visits(scene, 1)[0]
    x, y, w, h = truth.face_box
    assert x >= 0 and y >= 0 and x + w <= 1280 and y + h <= 720 and w > 60
    frame = scene.render("face", truth.t)
    found = face_recognition.face_locations(np.ascontiguousarray(frame[:, :, ::-1]))
    assert found, "the driver's face must be detectable"

    def iou(top: int, right: int, bottom: int, left: int) -> float:
        ix = max(0, min(right, x + w) - max(left, x))
        iy = max(0, min(bottom, y + h) - max(top, y))
        return ix * iy / ((right - left) * (bottom - top) + w * h - ix * iy)

    assert max(iou(*box) for box in found) > 0.4


def test_night_is_darker_than_day(scene):
    day = find_time(scene, lambda tr: not tr.night and tr.phase == "stopped")
    night = find_time(scene, lambda tr: tr.night and tr.phase == "stopped")
    for camera in ("plate", "face"):
        assert scene.render(camera, day).mean() > 2 * scene.render(camera, night).mean()


# --- travellers and the document reader ---------------------------------------------------------

def test_every_traveller_mrz_has_valid_check_digits(scene):
    for truth in stopped_visits(scene, 8):
        line1, line2 = truth.mrz_lines
        assert len(line1) == len(line2) == 44
        assert re.fullmatch(r"[A-Z0-9<]{44}", line1) and re.fullmatch(r"[A-Z0-9<]{44}", line2)
        assert line1.startswith("P") and line1[2:5] == truth.document.issuing_state
        assert line2[9] == check_digit(line2[0:9])
        assert line2[19] == check_digit(line2[13:19])
        assert line2[27] == check_digit(line2[21:27])
        if line2[28:42] != "<" * 14:
            assert line2[42] == check_digit(line2[28:42])
        assert line2[43] == check_digit(line2[0:10] + line2[13:20] + line2[21:43])
        assert line2[0:9].rstrip("<") == truth.document.document_number
        # The passport is valid on the day of the crossing.
        assert truth.document.birth_date < datetime.fromtimestamp(truth.t, UTC).date() < truth.document.expiry_date


def test_documents_are_presented_while_the_car_is_stopped(scene):
    t0, t1 = T0, T0 + 10 * SLOT_S
    events = scene.document_presented(t0, t1)
    assert events == sorted(events)
    stops = {scene.truth_at(t).vehicle_id for t in np.arange(t0, t1, 0.5) if scene.truth_at(t).phase == "stopped"}
    assert len(events) >= len(stops) - 1 >= 4
    for t, lines in events:
        assert t0 <= t < t1
        truth = scene.truth_at(t)
        assert truth.phase == "stopped" and truth.mrz_lines == lines
    # Windows split anywhere give the same events: each is reported once.
    middle = (t0 + t1) / 2
    assert scene.document_presented(t0, middle) + scene.document_presented(middle, t1) == events


# --- datasets and CLI ---------------------------------------------------------------------------

def test_plate_frames_follow_the_dataset_contract(tmp_path):
    paths = write_plate_frames(tmp_path, 4, seed=2, regions=["br", "de"])
    assert len(paths) == 4
    for image_path in paths:
        fields = image_path.with_suffix(".txt").read_text().rstrip("\n").split("\t")
        assert len(fields) == 6 and fields[0] == image_path.name
        x, y, w, h = (int(v) for v in fields[1:5])
        plate = fields[5]
        assert REGIONS["br"].matches(plate) or REGIONS["de"].matches(plate)
        image = cv2.imread(str(image_path))
        assert image.shape == (720, 1280, 3)
        assert x >= 0 and y >= 0 and x + w <= 1280 and y + h <= 720 and w > 10 and h > 5
        assert cv2.cvtColor(image[y:y + h, x:x + w], cv2.COLOR_BGR2GRAY).std() > 15


def test_lettering_lies_beside_the_plate_and_leaves_the_frame_otherwise_as_it_was():
    plain = list(plate_frames(4, seed=5, regions=["us-tx", "fr"]))
    lettered = list(plate_frames(4, seed=5, regions=["us-tx", "fr"], lettering=3))
    assert sum(len(f.lettering) for f in lettered) >= 3
    for a, b in zip(plain, lettered, strict=True):
        assert (a.text, a.box) == (b.text, b.box)
        px, py, pw, ph = b.box
        changed = np.abs(a.image.astype(np.int16) - b.image.astype(np.int16)).max(axis=2) > 0
        # Lettering never covers the plate; it is painted only inside its boxes.
        assert not changed[py:py + ph, px:px + pw].any()
        inside = np.zeros_like(changed)
        for x, y, w, h in b.lettering:
            assert x + w <= px or px + pw <= x or y + h <= py or py + ph <= y
            inside[y:y + h, x:x + w] = True
        assert not (changed & ~inside).any()
        assert changed.any() == bool(b.lettering)


def test_plate_crops_follow_the_dataset_contract(tmp_path):
    write_plate_crops(tmp_path, 6, seed=4)
    rows = list(csv.reader((tmp_path / "labels.csv").open()))
    assert len(rows) == 6
    for file, region, plate in rows:
        assert REGIONS[region].matches(plate)
        assert cv2.imread(str(tmp_path / file)) is not None


def test_cli_writes_plates_and_scene_frames(tmp_path, capsys):
    assert main(["synth", "plates", str(tmp_path / "crops"), "--count", "3", "--seed", "1", "--crops"]) == 0
    assert len((tmp_path / "crops" / "labels.csv").read_text().splitlines()) == 3
    out = tmp_path / "scene"
    assert main(["synth", "scene", "--lane", LANE, "--seed", str(SEED), "--seconds", "0.3", "--fps", "10",
                 "--start", str(T0), "--overlay", str(out)]) == 0
    frames = sorted(out.glob("*.jpg"))
    assert len(frames) == 3
    assert cv2.imread(str(frames[0])).shape == (360, 1280, 3)


def test_cli_names_an_unknown_region(tmp_path, capsys):
    assert main(["synth", "plates", str(tmp_path), "--count", "1", "--regions", "de,zz"]) == 2
    assert "zz" in capsys.readouterr().err
