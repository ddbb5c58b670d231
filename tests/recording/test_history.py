"""The crossing history's search: newest first, by plate or document number, and by lane."""

from __future__ import annotations

from edge.recording.history import CrossingHistory, PastCrossing


def _past(crossing_id: str, lane_id: str, closed_at: float, plate: str) -> PastCrossing:
    return PastCrossing(crossing_id, lane_id, closed_at - 30, closed_at, plate, "L898902C3", "ERIKSSON, ANNA",
                        "CLEAR", "confirm", "officer", True, "passed")


def test_search_by_text_and_by_the_lanes_an_account_may_see(tmp_path):
    history = CrossingHistory(tmp_path / "history.sqlite")
    for i, (lane, plate) in enumerate([("lane-1", "AB123"), ("lane-2", "CD456"), ("lane-1", "EF789")]):
        history.add(_past(f"c{i}", lane, 100.0 + i, plate))
    assert [p.crossing_id for p in history.search()] == ["c2", "c1", "c0"]
    assert [p.crossing_id for p in history.search("cd 45")] == ["c1"]
    assert [p.crossing_id for p in history.search(lanes=["lane-1"])] == ["c2", "c0"]
    assert [p.crossing_id for p in history.search("CD", lanes=["lane-1"])] == []
    assert history.search(lanes=[]) == []
    history.close()
