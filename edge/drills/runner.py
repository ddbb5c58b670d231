"""Drills played on training lanes: the staged cars, what the officer did with each, and the scores.

A supervisor starts a drill on a training lane (`TrainingDrills.start`); its scenarios become the lane's
next cars (staging.py). While it runs, the lane looks plates and passports up on the drill's own list
(lookup.py) and, for a wrong-plate-read scenario, is fed a confident misread of the plate
(`DrillPlateReader`). Each officer action on a staged car is scored against its scenario (scoring.py);
a car that leaves without one is missed. The drill ends when its last car has gone.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np

from edge.drills.desk import DrillRefused
from edge.drills.lookup import DrillLookup
from edge.drills.scenarios import Drill
from edge.drills.scoring import DrillResult, Score, score
from edge.drills.staging import StagedCar, stage_drill
from edge.lane.context import PlateFrameReader
from edge.lane.crossing import OfficerAction
from edge.plates.reads import FrameRead
from edge.synthetic.scene import Scene
from edge.synthetic.waiting import WaitingCars
from edge.watchlist.lookup import WatchlistHit, WatchlistLookup


@dataclass(frozen=True)
class TakenAction:
    action: str  # confirm | refer | deny | override
    outcome: str  # the decision the officer saw: CLEAR | REFER | DENY
    seconds: float  # from that decision to the action
    by: str


class DrillRun:
    def __init__(self, run_id: str, drill: Drill, file: str, lane_id: str, cars: list[StagedCar],
                 waiting: WaitingCars, started_at: float):
        self.run_id = run_id
        self.drill = drill
        self.file = file
        self.lane_id = lane_id
        self.cars = cars
        self.started_at = started_at
        self.lookup = DrillLookup(f"drill-{run_id}", cars)
        self._waiting = waiting
        self._by_slot = {car.slot: car for car in cars}
        self._taken: dict[int, TakenAction] = {}
        self._lock = threading.Lock()

    def car_at(self, t: float) -> StagedCar | None:
        """The drill's car at the lane at time t (None for a car before or after the drill)."""
        return self._by_slot.get(self._waiting.plan_at(t).slot)

    def took(self, at: float, taken: TakenAction) -> Score | None:
        """The officer's first action on the car at the barrier at `at`, when the officer acted, scored;
        None if not a drill car."""
        car = self.car_at(at)
        if car is None:
            return None
        with self._lock:
            first = self._taken.setdefault(car.slot, taken)
        return self._score(car, first)

    def finished(self, now: float) -> bool:
        return self._waiting.gone(self.cars[-1].slot, now)

    def result(self, now: float) -> DrillResult:
        """The scores so far: a car still to come or still at the lane is left out until it is answered."""
        scores = []
        with self._lock:
            for car in self.cars:
                taken = self._taken.get(car.slot)
                if taken is not None or self._waiting.gone(car.slot, now):
                    scores.append(self._score(car, taken))
        return DrillResult(tuple(scores))

    def _score(self, car: StagedCar, taken: TakenAction | None) -> Score:
        """A car's score: its first action, or missed when there was none."""
        if taken is None:
            return score(car.scenario, None, None, None, self.drill.drill.time_limit_s)
        return score(car.scenario, taken.action, taken.outcome, taken.seconds, self.drill.drill.time_limit_s)

    def to_json(self, now: float) -> dict:
        return {"run_id": self.run_id, "name": self.drill.drill.name, "file": self.file, "lane": self.lane_id,
                "started_at": self.started_at, "finished": self.finished(now),
                "cars": [car.to_json() for car in self.cars], "result": self.result(now).to_json()}


class TrainingDrills:
    """The drills of a checkpoint's training lanes: at most one running per lane, every run kept for its debrief."""

    def __init__(self, scenes: dict[str, Scene], waits: Callable[[str], WaitingCars]):
        self._scenes = scenes  # training lane -> its synthetic scene
        self._waits = waits  # training lane -> its waiting cars (the world releases them)
        self._runs: list[DrillRun] = []
        self._lock = threading.Lock()

    @property
    def lanes(self) -> list[str]:
        return sorted(self._scenes)

    def start(self, lane_id: str, drill: Drill, file: str, now: float | None = None) -> DrillRun:
        now = time.time() if now is None else now
        if lane_id not in self._scenes:
            raise DrillRefused(f"{lane_id!r} is not a training lane; training lanes: {', '.join(self.lanes) or 'none'}")
        with self._lock:
            running = self.running(lane_id, now)
            if running is not None:
                raise DrillRefused(f"drill {running.run_id} ({running.drill.drill.name}) is still running on {lane_id}")
            waiting = self._waits(lane_id)
            today = datetime.fromtimestamp(now, UTC).date()
            cars = stage_drill(self._scenes[lane_id], drill, waiting.upcoming(now, len(drill.scenario)), today)
            run = DrillRun(f"{lane_id}-{len(self._runs) + 1}", drill, file, lane_id, cars, waiting, now)
            self._runs.append(run)
            return run

    def running(self, lane_id: str, now: float) -> DrillRun | None:
        return next((run for run in reversed(self._runs) if run.lane_id == lane_id and not run.finished(now)), None)

    def runs(self) -> list[DrillRun]:
        return list(self._runs)

    def run(self, run_id: str) -> DrillRun | None:
        return next((run for run in self._runs if run.run_id == run_id), None)

    def took(self, action: OfficerAction, shown: dict) -> Score | None:
        """Score an officer's action on a training lane's crossing as the officer saw it (`shown`, the
        kiosk's crossing); None when the crossing is not one of a drill's cars."""
        decision = shown.get("decision")
        if shown["crossing_id"] != action.crossing_id or decision is None:
            return None
        taken = TakenAction(action.kind.value, decision["outcome"], round(action.at - decision["made_at"], 1),
                            action.actor)
        for run in reversed(self._runs):
            # The car in front of the officer when they acted, not the one when the crossing opened: a loaded
            # lane can lose sight of a car turning away and open a crossing for it again, which the officer
            # then answers for the next car once it has come (seen in CI: that car was scored missed).
            if run.lane_id == action.lane_id and (scored := run.took(action.at, taken)) is not None:
                return scored
        return None

    def car_at(self, lane_id: str, t: float) -> StagedCar | None:
        run = self.running(lane_id, t) or (self._runs[-1] if self._runs else None)
        return run.car_at(t) if run is not None and run.lane_id == lane_id else None

    def borrowed(self, lane_id: str, mrz: tuple[str, ...]) -> bool | None:
        """Whether the driver handing over this passport on a training lane is not its holder: the drill
        says so for its cars; None when no drill has a say (the demo's own rule applies)."""
        car = self.car_at(lane_id, time.time())
        return car.borrowed if car is not None and car.mrz == tuple(mrz) else None


class TrainingLookup:
    """A training lane's watchlist: the running drill's list, or the real one (read only) between drills."""

    def __init__(self, lane_id: str, drills: TrainingDrills, live: WatchlistLookup | None):
        self._lane_id = lane_id
        self._drills = drills
        self._live = live

    def _current(self, now: float) -> WatchlistLookup | None:
        run = self._drills.running(self._lane_id, now)
        return run.lookup if run is not None else self._live

    def plate(self, read: str, *, now: float, fuzzy: bool = True) -> list[WatchlistHit]:
        lookup = self._current(now)
        return lookup.plate(read, now=now, fuzzy=fuzzy) if lookup is not None else []

    def document(self, number: str, issuer: str | None, *, now: float) -> list[WatchlistHit]:
        lookup = self._current(now)
        return lookup.document(number, issuer, now=now) if lookup is not None else []

    def person(self, surname: str, given_names: str, *, dob: str | None = None, nationality: str | None = None,
               now: float) -> list[WatchlistHit]:
        lookup = self._current(now)
        return lookup.person(surname, given_names, dob=dob, nationality=nationality, now=now) if lookup else []

    def face_owner(self, list_id: str, person_id: str, *, now: float) -> WatchlistHit | None:
        lookup = self._current(now)
        return lookup.face_owner(list_id, person_id, now=now) if lookup is not None else None


class DrillPlateReader:
    """A training lane's plate reader: the real pipeline, except that a wrong-plate-read scenario's car is
    read as its scripted misread, as confidently as the real read (the crop still shows the real plate)."""

    def __init__(self, lane_id: str, reader: PlateFrameReader, drills: TrainingDrills):
        self._lane_id = lane_id
        self._reader = reader
        self._drills = drills

    def read_frame(self, image: np.ndarray, timestamp: float = 0.0) -> list[FrameRead]:
        reads = self._reader.read_frame(image, timestamp)
        car = self._drills.car_at(self._lane_id, timestamp) if reads else None
        if car is None or car.wrong_read is None:
            return reads
        return [replace(read, text=car.wrong_read, char_confidences=(max(read.char_confidences, default=0.95),)
                        * len(car.wrong_read), confidence=max(read.confidence, 0.95)) for read in reads]
