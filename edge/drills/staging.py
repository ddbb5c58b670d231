"""A drill's scenarios made into cars on the training lane's synthetic scene.

Each scenario becomes one of the next cars: the pure timeline's car for that slot, changed where the
case needs it (a passport that has expired, a plate caked in mud), plus what the rest of the staged
world must do for it: list its plate or passport on the drill's watchlist, have the driver hand over
someone else's passport, or feed the lane a confident wrong read of its plate.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from edge.drills.scenarios import Drill, Scenario
from edge.synthetic.scene import Scene
from edge.synthetic.travellers import Traveller
from edge.synthetic.visits import Visit
from hardware.mrz import compose_td3


@dataclass(frozen=True)
class StagedCar:
    scenario: Scenario
    slot: int
    plate: str  # what the plate says
    document_number: str
    issuer: str
    mrz: tuple[str, str]
    borrowed: bool  # the driver hands over someone else's passport
    wrong_read: str | None  # the confident misread the lane is fed instead of the plate

    def to_json(self) -> dict:
        return {"scenario": self.scenario.id, "kind": self.scenario.kind, "brief": self.scenario.brief,
                "expect": self.scenario.answer.value, "plate": self.plate}


def stage_drill(scene: Scene, drill: Drill, slots: list[int], today: date) -> list[StagedCar]:
    """Put each scenario's car in its slot (before those cars come), and say what else each needs."""
    cars = []
    for scenario, slot in zip(drill.scenario, slots, strict=True):
        visit = scene.visit(slot)
        if visit is None:
            raise ValueError(f"slot {slot} has no car to stage {scenario.id!r} with")
        visit = _as_the_case_needs(visit, scenario.kind, today)
        scene.restage(slot, visit)
        document = visit.traveller.document
        cars.append(StagedCar(
            scenario=scenario, slot=slot, plate=visit.plate.text, document_number=document.document_number,
            issuer=document.issuing_state, mrz=visit.traveller.mrz, borrowed=scenario.kind == "face_mismatch",
            wrong_read=misread(visit.plate.text) if scenario.kind == "wrong_plate_read" else None,
        ))
    return cars


def _as_the_case_needs(visit: Visit, kind: str, today: date) -> Visit:
    if kind == "expired_document":
        document = replace(visit.traveller.document, expiry_date=today - timedelta(days=30))
        return replace(visit, traveller=Traveller(document, compose_td3(document)))
    if kind == "unreadable_plate":
        return replace(visit, plate_mud=True)
    return visit


def misread(text: str) -> str:
    """The plate with one character read as another of its kind (a digit as a digit, a letter as a
    letter, and never a look-alike): what the crop shows and the read does not say."""
    at = len(text) // 2
    char = text[at]
    wrong = str((int(char) + 3) % 10) if char.isdigit() else chr((ord(char) - ord("A") + 9) % 26 + ord("A"))
    return text[:at] + wrong + text[at + 1:]
