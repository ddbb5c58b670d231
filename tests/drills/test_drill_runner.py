"""A drill staged on a synthetic training lane, without the service: the scenario cars as staged, the
drill's own watchlist, the misread fed for the wrong-plate-read case, and the scores including a miss."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from edge.drills.runner import DrillPlateReader, TrainingDrills, TrainingLookup
from edge.drills.scenarios import load_drill
from edge.drills.staging import misread
from edge.lane.crossing import ActionKind, OfficerAction
from edge.plates.reads import FrameRead
from edge.synthetic.scene import Scene
from edge.synthetic.timeline import moment
from edge.synthetic.waiting import TRAINING_CARS_WAIT_S, WaitingCars
from hardware.mrz import parse_mrz

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "drills" / "first-week.toml"
T0 = 1_800_000_000.0  # a fixed moment, so that nothing depends on the wall clock
LANE = "lane-drill"


def _drills() -> tuple[TrainingDrills, Scene, WaitingCars]:
    scene = Scene(LANE, 3)  # its own scene: staging changes it for everyone in the process
    waiting = scene.wait_at_barrier(TRAINING_CARS_WAIT_S, T0, cadence_s=0.0)
    return TrainingDrills({LANE: scene}, lambda lane_id: waiting), scene, waiting


def test_the_scenarios_are_staged_as_their_cases_need():
    drills, scene, _ = _drills()
    run = drills.start(LANE, load_drill(SHIPPED), "first-week", now=T0)
    cars = {car.scenario.id: car for car in run.cars}
    today = datetime.fromtimestamp(T0, UTC).date()
    expired = parse_mrz(list(cars["expired"].mrz))
    assert expired.expiry_date is not None and expired.expiry_date < today
    assert scene.visit(cars["muddy-plate"].slot).plate_mud
    assert not scene.visit(cars["clean-1"].slot).plate_mud
    wrong, right = cars["misread-plate"].wrong_read, cars["misread-plate"].plate
    assert wrong is not None and len(wrong) == len(right)
    assert sum(a != b for a, b in zip(wrong, right, strict=True)) == 1
    assert [car.scenario.id for car in run.cars if car.borrowed] == ["borrowed-passport"]
    assert misread("AB1CD") == "AB4CD" and misread("12A45") == "12J45"


def test_the_training_lane_looks_up_the_drill_s_list_while_it_runs():
    drills, _, _ = _drills()
    live_asked = []

    class Live:
        def plate(self, read, *, now, fuzzy=True):
            live_asked.append(read)
            return []

    lookup = TrainingLookup(LANE, drills, Live())  # type: ignore[arg-type]
    lookup.plate("ANY1", now=T0)
    assert live_asked == ["ANY1"]  # no drill yet: the real list
    run = drills.start(LANE, load_drill(SHIPPED), "first-week", now=T0)
    cars = {car.scenario.id: car for car in run.cars}
    stolen = cars["stolen-car"].plate
    assert [hit.match.value for hit in lookup.plate(stolen, now=T0)] == ["exact"]
    assert lookup.plate(cars["clean-1"].plate, now=T0) == []
    hits = lookup.document(cars["lost-passport"].document_number, cars["lost-passport"].issuer, now=T0)
    assert [hit.record.reason for hit in hits] == ["passport reported lost"]
    assert live_asked == ["ANY1"]  # the real list is not asked during the drill


class _Reader:
    def read_frame(self, image, timestamp=0.0):
        return [FrameRead("REAL1", "de", 0.8, (0.8,) * 5, np.zeros((4, 2)), timestamp, np.zeros((1, 1)))]


def test_the_misread_is_fed_for_its_car_only_and_a_car_left_unanswered_is_missed():
    drills, _, waiting = _drills()
    run = drills.start(LANE, load_drill(SHIPPED), "first-week", now=T0)
    reader = DrillPlateReader(LANE, _Reader(), drills)
    misread_car = next(car for car in run.cars if car.wrong_read is not None)
    # Release each car as soon as it has stopped, answering the first one only.
    t, answered = T0, False
    while not run.finished(t):
        plan = waiting.plan_at(t)
        car = run.car_at(t)
        if car is not None and moment(plan, t).phase == "stopped":
            read = reader.read_frame(np.zeros((2, 2, 3), np.uint8), t)[0]
            assert read.text == ("REAL1" if car is not misread_car else misread_car.wrong_read)
            if not answered:
                action = OfficerAction(crossing_id="c1", lane_id=LANE, kind=ActionKind.DENY, revision=1,
                                       actor="officer", role="officer", at=t + 2)
                shown = {"crossing_id": "c1", "opened_at": plan.start + 1,
                         "decision": {"outcome": "CLEAR", "made_at": t}}
                assert drills.took(action, shown) is not None
                answered = True
            waiting.release(t + 2)
        t += 0.5
    result = run.result(t).to_json()
    assert result["scenarios"] == 10 and result["missed"] == 9
    assert result["scores"][0]["given"] == "deny" and result["scores"][0]["seconds"] == 2.0
    assert drills.running(LANE, t) is None


def test_an_answer_counts_for_the_car_at_the_barrier_when_the_officer_acted():
    # A loaded lane can lose sight of a car turning away, see it again and open a crossing for it: that
    # crossing opened before the next car came, and the officer answers it for the next car.
    drills, _, waiting = _drills()
    run = drills.start(LANE, load_drill(SHIPPED), "first-week", now=T0)
    first, second = run.cars[0], run.cars[1]
    plan = waiting.plan_at(T0)
    assert plan.slot == first.slot
    assert waiting.release(plan.stopped_at + 1)
    leaving = waiting.plan_at(plan.stopped_at + 1.5)
    seen_again = (leaving.leaves_at + leaving.gone_at) / 2  # the first car is still at the lane
    assert run.car_at(seen_again) is first
    t = leaving.gone_at
    while not (waiting.plan_at(t).slot == second.slot and moment(waiting.plan_at(t), t).phase == "stopped"):
        t += 0.5
    action = OfficerAction(crossing_id="c2", lane_id=LANE, kind=ActionKind.DENY, revision=1, actor="officer",
                           role="officer", at=t)
    scored = drills.took(action, {"crossing_id": "c2", "opened_at": seen_again,
                                  "decision": {"outcome": "DENY", "made_at": t - 3}})
    assert scored is not None and scored.scenario == second.scenario.id == "stolen-car"
    assert scored.verdict == "right"
