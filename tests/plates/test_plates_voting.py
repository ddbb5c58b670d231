"""One read per vehicle: voting over frames, and no second announcement of the same plate."""

from __future__ import annotations

import numpy as np

from edge.plates.reads import FrameRead
from edge.plates.voting import PlateVoter, VotingPolicy, edit_distance, vote

_QUAD = ((0.0, 0.0), (10.0, 0.0), (10.0, 5.0), (0.0, 5.0))


def frame_read(text: str, t: float, confidence: float = 0.9) -> FrameRead:
    return FrameRead(text, "any", confidence, tuple(confidence for _ in text), _QUAD, t,
                     np.zeros((64, 8), np.uint8))


def test_vote_fixes_characters_no_single_frame_agrees_on() -> None:
    reads = [frame_read("A8C1234", 0.0, 0.6), frame_read("ABC1Z34", 0.1, 0.5), frame_read("ABC1234", 0.2, 0.4),
             frame_read("ABC1234", 0.3, 0.4), frame_read("ABCI234", 0.4, 0.3)]
    plate = vote(reads)
    assert plate.text == "ABC1234"
    assert plate.frames == 5
    assert (plate.first_seen, plate.last_seen) == (0.0, 0.4)
    assert {r.text for r in plate.runner_ups} == {"A8C1234", "ABC1Z34", "ABCI234"}
    assert all(0 < r.share < 1 for r in plate.runner_ups)
    assert 0 < plate.confidence <= 1
    assert len(plate.char_confidences) == 7


def test_vote_weighs_by_confidence_not_by_count() -> None:
    reads = [frame_read("XYZ123", t, 0.1) for t in (0.0, 0.1)] + [frame_read("XYZ128", 0.2, 0.95)]
    assert vote(reads).text == "XYZ128"


def test_a_stopped_vehicle_is_announced_once() -> None:
    voter = PlateVoter(VotingPolicy(min_frames=3, track_timeout_s=2.0, repeat_hold_s=60.0))
    announced = []
    for i in range(40):
        text = "KCS1M9" if i % 5 else "KC51M9"
        announced += voter.add([frame_read(text, i * 0.1)], i * 0.1)
    assert [p.text for p in announced] == ["KCS1M9"]
    assert announced[0].frames == 3


def test_a_plate_seen_again_soon_is_not_announced_twice_but_later_is() -> None:
    voter = PlateVoter(VotingPolicy(min_frames=2, track_timeout_s=1.0, repeat_hold_s=30.0))
    first = [p for t in (0.0, 0.1, 0.2) for p in voter.add([frame_read("ABC123", t)], t)]
    # The vehicle leaves (no reads), then the same plate shows again 10 s later: parked, or back.
    voter.add([], 5.0)
    again = [p for t in (10.0, 10.1, 10.2) for p in voter.add([frame_read("ABC123", t)], t)]
    voter.add([], 50.0)
    much_later = [p for t in (100.0, 100.1) for p in voter.add([frame_read("ABC123", t)], t)]
    assert [p.text for p in first] == ["ABC123"]
    assert again == []
    assert [p.text for p in much_later] == ["ABC123"]


def test_two_vehicles_in_view_are_two_plates_and_a_lone_misread_is_none() -> None:
    voter = PlateVoter(VotingPolicy(min_frames=3))
    announced = []
    for i in range(6):
        t = i * 0.1
        reads = [frame_read("ABC123", t), frame_read("XYZ987", t)]
        if i == 2:
            reads.append(frame_read("QQQQ", t))
        announced += voter.add(reads, t)
    assert sorted(p.text for p in announced) == ["ABC123", "XYZ987"]


def test_edit_distance() -> None:
    assert edit_distance("ABC123", "ABC123") == 0
    assert edit_distance("ABC123", "A8C123") == 1
    assert edit_distance("ABC123", "BC123") == 1
    assert edit_distance("", "ABC") == 3
