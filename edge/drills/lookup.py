"""The drill's watchlist: the staged cars' plates and passports that the scenarios list, looked up the way
the real cache looks them up (exact, or differing only by look-alike characters), and nothing else.

A training lane asks it instead of the real watchlist while a drill runs, so that a drill's stolen car is
found on the drill's list alone, and the real lists are never touched by a drill.
"""

from __future__ import annotations

from edge.drills.staging import StagedCar
from edge.watchlist import normalize
from edge.watchlist.lookup import Match, WatchlistHit
from edge.watchlist.records import Action, DocumentRecord, PlateRecord

_SOURCE = "training drill"


class DrillLookup:
    def __init__(self, list_id: str, cars: list[StagedCar]):
        self._list_id = list_id
        self._plates = {normalize.plate(car.plate): PlateRecord(
            id=car.scenario.id, reason="reported stolen", action=Action.DENY, valid_from=None, valid_until=None,
            source=_SOURCE, plate=normalize.plate(car.plate), region=None)
            for car in cars if car.scenario.kind == "stolen_vehicle"}
        self._documents = {normalize.document_number(car.document_number): DocumentRecord(
            id=car.scenario.id, reason="passport reported lost", action=Action.DENY, valid_from=None,
            valid_until=None, source=_SOURCE, number=normalize.document_number(car.document_number),
            issuer=car.issuer, doc_type="P")
            for car in cars if car.scenario.kind == "lost_passport"}

    def plate(self, read: str, *, now: float, fuzzy: bool = True) -> list[WatchlistHit]:
        plate = normalize.plate(read)
        skeleton = normalize.plate_skeleton(plate)
        return [WatchlistHit(self._list_id, 1, record, Match.EXACT if listed == plate else Match.LOOKALIKE)
                for listed, record in self._plates.items()
                if listed == plate or (fuzzy and normalize.plate_skeleton(listed) == skeleton)]

    def document(self, number: str, issuer: str | None, *, now: float) -> list[WatchlistHit]:
        record = self._documents.get(normalize.document_number(number))
        return [WatchlistHit(self._list_id, 1, record, Match.EXACT)] if record is not None else []

    def person(self, surname: str, given_names: str, *, dob: str | None = None, nationality: str | None = None,
               now: float) -> list[WatchlistHit]:
        return []

    def face_owner(self, list_id: str, person_id: str, *, now: float) -> WatchlistHit | None:
        return None
