"""What a checkpoint with training lanes adds: their records apart, their drills, and each training lane's
context (its recorder and history, the drills' watchlist and plate reader)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from edge.config import LaneConfig
from edge.drills.runner import DrillPlateReader, TrainingDrills, TrainingLookup
from edge.lane.context import LaneContext, PlateFrameReader
from edge.recording.training import TrainingRecords
from edge.synthetic.demo import scene_of
from edge.synthetic.scene import Scene
from edge.synthetic.waiting import WaitingCars


def training_side(lanes: list[LaneConfig], context: LaneContext,
                  state_dir: Path) -> tuple[TrainingRecords, TrainingDrills, dict[str, LaneContext]]:
    records = TrainingRecords(state_dir)
    scenes: dict[str, Scene] = {}
    for lane in lanes:
        scene = scene_of(lane)
        assert scene is not None, "the config lets a training lane have synthetic cameras only"
        scenes[lane.id] = scene
    drills = TrainingDrills(scenes, lambda lane_id: _waiting_cars(scenes[lane_id]))
    shared = replace(context, recorder=records.recorder, history=records.history)
    return records, drills, {lane.id: _lane_context(lane.id, shared, drills) for lane in lanes}


def _waiting_cars(scene: Scene) -> WaitingCars:
    # The world's stage hand sets them up, with their wait, when it starts (edge/synthetic/demo.py).
    waiting = scene.waiting
    assert waiting is not None, "a training lane's cars always wait at the barrier"
    return waiting


def _lane_context(lane_id: str, shared: LaneContext, drills: TrainingDrills) -> LaneContext:
    reader = shared.plate_reader

    def drill_reader(lane: LaneConfig) -> PlateFrameReader:
        assert reader is not None
        return DrillPlateReader(lane_id, reader(lane), drills)

    return replace(shared, lookup=TrainingLookup(lane_id, drills, shared.lookup),
                   plate_reader=drill_reader if reader is not None else None)
