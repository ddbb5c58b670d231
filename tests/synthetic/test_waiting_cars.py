"""Cars that wait at the barrier: a car stays stopped until released or until its wait runs out,
then leaves, and the next one comes after it has gone; each car hands its passport over once."""

from __future__ import annotations

import numpy as np

from edge.synthetic.scene import Scene
from edge.synthetic.timeline import LEAVE_S, SLOT_S, STOP_MAX_S, moment
from edge.synthetic.waiting import GAP_S, WaitingCars

LANE, SEED = "lane-wait", 5
T0 = 1_800_000_000.0  # a fixed moment, so that nothing depends on the wall clock
WAIT_S = 60.0


def _waiting_scene() -> tuple[Scene, WaitingCars]:
    # Its own Scene, not the process-wide scene_for() one: waiting changes the scene for every user.
    scene = Scene(LANE, SEED)
    return scene, scene.wait_at_barrier(WAIT_S, T0)


def _phases(scene: Scene, start: float, end: float, step: float = 0.5) -> list[tuple[float, str]]:
    return [(t, moment(scene.plan_at(t), t).phase) for t in np.arange(start, end, step)]


def test_a_car_waits_past_its_fixed_schedule_and_leaves_when_released():
    scene, waiting = _waiting_scene()
    first = waiting.plan_at(T0)
    assert first.start > T0  # the first car comes from the road, not out of nowhere
    stopped_at = first.stopped_at
    # Long after the fixed schedule would have sent it away, it is still stopped at the barrier.
    later = stopped_at + STOP_MAX_S + 20
    assert moment(scene.plan_at(later), later).phase == "stopped"
    assert scene.truth_at(later).loop_occupied
    assert waiting.release(later)
    assert not waiting.release(later + 0.1)  # released once
    phases = dict(_phases(scene, later, later + LEAVE_S + 1))
    assert phases[later + 0.5] == "leaving" and phases[later + LEAVE_S + 0.5] == "empty"
    second = waiting.plan_at(later + LEAVE_S + GAP_S + 0.1)
    assert second.slot > first.slot
    assert second.start >= max(later + LEAVE_S + GAP_S, first.start + SLOT_S)


def test_a_car_nobody_answers_drives_off_after_its_wait():
    scene, waiting = _waiting_scene()
    first = waiting.plan_at(T0)
    assert moment(scene.plan_at(first.stopped_at + WAIT_S - 0.5), first.stopped_at + WAIT_S - 0.5).phase == "stopped"
    gone = first.stopped_at + WAIT_S + LEAVE_S
    assert moment(scene.plan_at(gone - 1), gone - 1).phase == "leaving"
    assert moment(scene.plan_at(gone + 0.1), gone + 0.1).phase == "empty"
    assert not waiting.release(gone + 0.1)  # nobody is waiting in the gap


def test_each_car_hands_its_passport_over_once_while_it_waits():
    scene, waiting = _waiting_scene()
    presented = []
    t = T0
    released = 0
    while t < T0 + 240:
        presented += scene.document_presented(t, t + 0.1)
        plan = waiting.plan_at(t)
        if moment(plan, t).phase == "stopped" and t > plan.document_at + 2 and waiting.release(t):
            released += 1
        t += 0.1
    mrz = [lines for _, lines in presented]
    assert released >= 5 and len(mrz) >= released and len(set(mrz)) == len(mrz)
    assert [when for when, _ in presented] == sorted(when for when, _ in presented)
