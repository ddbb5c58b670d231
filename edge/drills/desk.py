"""The supervisor's side of the drills: which drill files there are, starting one on a training lane
(recorded in the training audit log), and the runs to debrief."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from edge.drills.scenarios import load_drill

if TYPE_CHECKING:  # the runner brings the synthetic world: imported by checkpoints with training lanes only
    from edge.drills.runner import DrillRun, TrainingDrills

DRILL_STARTED = "drill_started"  # training audit kind: who started which drill, on which lane, with which cars


class DrillRefused(Exception):
    """A drill that cannot start now; the message says why."""


# (kind, actor, lane, payload): appends to the lane's audit log, or raises ActionRefused in words.
Record = Callable[[str, str, str, dict], None]


class DrillDesk:
    def __init__(self, drills: TrainingDrills | None, folder: Path, record: Record):
        self._drills = drills
        self._folder = folder
        self._record = record

    def files(self) -> list[str]:
        """The drills a supervisor can start: the stems of the folder's TOML files."""
        return sorted(path.stem for path in self._folder.glob("*.toml")) if self._folder.is_dir() else []

    def lanes(self) -> list[str]:
        return self._drills.lanes if self._drills is not None else []

    def start(self, lane_id: str, name: str, actor: str) -> DrillRun:
        """Raises DrillRefused (or DrillError for a broken file) with the reason it did not start."""
        if self._drills is None:
            raise DrillRefused("this checkpoint has no training lane (a lane with training = true)")
        if name not in self.files():
            raise DrillRefused(f"no drill {name!r} in {self._folder}; drills: {', '.join(self.files()) or 'none'}")
        drill = load_drill(self._folder / f"{name}.toml")
        run = self._drills.start(lane_id, drill, name)
        self._record(DRILL_STARTED, actor, lane_id, {"run_id": run.run_id, "drill": name, "name": drill.drill.name,
                                                     "cars": [car.to_json() for car in run.cars]})
        return run

    def runs(self) -> list[DrillRun]:
        return self._drills.runs() if self._drills is not None else []

    def run(self, run_id: str) -> DrillRun | None:
        return self._drills.run(run_id) if self._drills is not None else None
