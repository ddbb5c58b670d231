"""The lane state machine: the happy path, abandonment, timeouts, and events that must be ignored."""

from __future__ import annotations

from edge.config import LaneTimeouts
from edge.lane.machine import (
    BarrierOpened,
    EvidenceComplete,
    LaneState,
    LaneStateMachine,
    VehicleArrived,
    VehicleLeft,
    VehicleStopped,
)

T = LaneTimeouts(settle_s=4, reading_s=6, decision_s=30, passing_s=20)


def machine(now: float = 1000.0) -> LaneStateMachine:
    return LaneStateMachine("lane-1", T, now=now)


def test_full_crossing_walks_every_state_once():
    m = machine()
    assert m.snapshot.state is LaneState.IDLE and m.snapshot.crossing_id is None
    present = m.handle(VehicleArrived(1001, "loop"))
    assert present.state is LaneState.PRESENT and present.crossing_id.startswith("lane-1-")
    cid = present.crossing_id
    assert m.handle(VehicleStopped(1002)).state is LaneState.READING
    assert m.handle(EvidenceComplete(1003, cid)).state is LaneState.DECISION_PENDING
    assert m.handle(BarrierOpened(1010, cid)).state is LaneState.PASSING
    assert m.snapshot.crossing_id == cid
    done = m.handle(VehicleLeft(1012))
    assert done.state is LaneState.IDLE and done.crossing_id is None and done.note == "vehicle passed"


def test_each_vehicle_gets_a_new_crossing():
    m = machine()
    first = m.handle(VehicleArrived(1001, "camera")).crossing_id
    m.handle(VehicleLeft(1005))
    second = m.handle(VehicleArrived(1006, "camera")).crossing_id
    assert first != second


def test_a_second_arrival_during_a_crossing_does_not_open_another():
    m = machine()
    cid = m.handle(VehicleArrived(1001, "loop")).crossing_id
    assert m.handle(VehicleArrived(1002, "camera")) is None
    assert m.snapshot.crossing_id == cid


def test_vehicle_leaving_before_the_barrier_opens_closes_the_crossing():
    for steps in ([], [VehicleStopped(1002)]):
        m = machine()
        m.handle(VehicleArrived(1001, "camera"))
        for event in steps:
            m.handle(event)
        left = m.handle(VehicleLeft(1003))
        assert left.state is LaneState.IDLE and left.note == "vehicle left without passing"


def test_barrier_or_evidence_for_another_crossing_is_ignored():
    m = machine()
    cid = m.handle(VehicleArrived(1001, "loop")).crossing_id
    m.handle(VehicleStopped(1002))
    assert m.handle(EvidenceComplete(1003, "lane-1-old")) is None
    m.handle(EvidenceComplete(1003, cid))
    assert m.handle(BarrierOpened(1004, "lane-1-old")) is None
    assert m.snapshot.state is LaneState.DECISION_PENDING


def test_barrier_cannot_skip_the_decision():
    m = machine()
    cid = m.handle(VehicleArrived(1001, "loop")).crossing_id
    assert m.handle(BarrierOpened(1002, cid)) is None
    m.handle(VehicleStopped(1003))
    assert m.handle(BarrierOpened(1004, cid)) is None
    assert m.snapshot.state is LaneState.READING


def test_timeouts_move_a_stuck_lane_along():
    m = machine()
    m.handle(VehicleArrived(1000, "camera"))
    assert m.tick(1003.9) is None
    assert m.tick(1004.0).state is LaneState.READING
    assert m.tick(1009.9) is None
    assert m.tick(1010.0).state is LaneState.DECISION_PENDING
    assert m.tick(1039.0) is None
    overdue = m.tick(1040.0)
    assert overdue.state is LaneState.DECISION_PENDING and overdue.overdue
    assert m.tick(1100.0) is None, "overdue is announced once"
    m.handle(BarrierOpened(1101, m.snapshot.crossing_id))
    assert m.tick(1121.0).state is LaneState.IDLE


def test_idle_lane_ignores_everything_but_an_arrival():
    m = machine()
    for event in (VehicleStopped(1001), VehicleLeft(1002), EvidenceComplete(1003, "x"), BarrierOpened(1004, "x")):
        assert m.handle(event) is None
    assert m.tick(5000) is None
