"""What the kiosk's crossing card is drawn from (the lane's feed, and the crop it loads) when a plate
read is not sure: REFER, the words "check the plate by eye", advisory, and the plate crop beside them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from edge.config import load_config
from edge.synthetic.demo import scene_of
from edge.synthetic.timeline import slot_index
from tests.support.demo_replay import replay

START = datetime(2026, 1, 1, tzinfo=UTC).timestamp()


@pytest.mark.slow  # reads plates frame by frame: seconds of CPU
def test_an_unsure_plate_read_refers_to_the_officer_with_the_words_and_the_crop(tmp_path):
    demo = load_config().lane("lane-2")
    # Reads stay below a confidence of 1 (each is a product of probabilities): at 1.0 none is sure.
    lane = demo.model_copy(update={"plates": demo.plates.model_copy(update={"sure_confidence": 1.0})})
    scene = scene_of(lane)
    plan = scene.plan(slot_index(START, lane.id) + 1)
    for _, runtime in replay(lane, scene, plan.start - 1.0, plan.start + 19.0, tmp_path):
        view = runtime.view().to_json()
        if view["snapshot"]["state"] == "decision_pending":
            break
    else:
        raise AssertionError("the crossing never waited for the officer")
    crossing = view["crossing"]
    assert crossing["plate"] is not None, "no plate was read: nothing to check"
    decision = crossing["decision"]
    assert decision["outcome"] == "REFER"
    (reason,) = (r for r in decision["reasons"] if r["code"] == "PLATE_UNSURE")
    assert reason["outcome"] == "REFER" and reason["advisory"]
    assert f"plate read {crossing['plate']['text']} is not sure" in reason["text"]
    assert "check the plate by eye" in reason["text"]
    # The card shows the crop when the feed says there is one, and loads it from the lane.
    assert crossing["images"]["plate"] is True
    assert runtime.crossing_image(crossing["crossing_id"], "plate")[:2] == b"\xff\xd8"
