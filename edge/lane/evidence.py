"""Evidence intake: what the readers found, as typed pieces, folded into the crossing's Evidence.

Each reader of the lane says what it found in a piece of its own (a plate, a document, a rescan, the
face results, the lane's conditions). Watchlist hits come with the piece that caused them and are
kept by source, so a new plate read replaces the plate's hits and leaves the document's alone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from edge.faces.types import SearchCandidate, VerificationResult
from edge.lane.policy import Evidence
from edge.plates.reads import PlateRead
from edge.watchlist.lookup import WatchlistHit, WatchlistLookup
from edge.watchlist.staleness import Staleness
from hardware.mrz import Mrz


@dataclass(frozen=True)
class PlateSeen:
    plate: PlateRead
    hits: tuple[WatchlistHit, ...] = ()


@dataclass(frozen=True)
class FacesCompared:
    """The live face against the document portrait (1:1), and the watchlist's nearest faces (1:N)."""

    verification: VerificationResult | None
    candidates: tuple[SearchCandidate, ...] = ()


@dataclass(frozen=True)
class DocumentSeen:
    document: Mrz
    document_hits: tuple[WatchlistHit, ...] = ()
    person_hits: tuple[WatchlistHit, ...] = ()
    faces: FacesCompared | None = None  # the face results against this document's portrait


@dataclass(frozen=True)
class DocumentRescan:
    """The reader could not trust its last scan: the traveller must present the document again."""

    reason: str


@dataclass(frozen=True)
class LaneConditions:
    """The lane when the crossing opened: how old the watchlist is, and which parts are in a fault state."""

    staleness: Staleness | None
    degraded: tuple[str, ...] = ()


NewEvidence = PlateSeen | FacesCompared | DocumentSeen | DocumentRescan | LaneConditions


def plate_seen(plate: PlateRead, lookup: WatchlistLookup | None, at: float) -> PlateSeen:
    return PlateSeen(plate, tuple(lookup.plate(plate.text, now=at)) if lookup is not None else ())


def document_seen(document: Mrz, lookup: WatchlistLookup | None, at: float,
                  faces: FacesCompared | None) -> DocumentSeen:
    if lookup is None:
        return DocumentSeen(document, faces=faces)
    dob = document.birth_date.isoformat() if document.birth_date else None
    return DocumentSeen(
        document,
        document_hits=tuple(lookup.document(document.document_number, document.issuing_state, now=at)),
        person_hits=tuple(lookup.person(document.surname, document.given_names, dob=dob,
                                        nationality=document.nationality, now=at)),
        faces=faces,
    )


class EvidenceIntake:
    """Folds typed pieces into one crossing's Evidence; `reset` for the next crossing."""

    def __init__(self) -> None:
        self._hits: dict[str, tuple[WatchlistHit, ...]] = {}  # by source: plate, document, person

    def reset(self) -> None:
        self._hits = {}

    def fold(self, evidence: Evidence, new: NewEvidence) -> Evidence:
        match new:
            case PlateSeen(plate, hits):
                self._hits["plate"] = hits
                return replace(evidence, plate=plate, hits=self._all_hits())
            case FacesCompared(verification, candidates):
                return replace(evidence, face_verification=verification, face_candidates=candidates)
            case DocumentSeen(document, document_hits, person_hits, faces):
                self._hits.update(document=document_hits, person=person_hits)
                evidence = replace(evidence, document=document, document_rescan=None, hits=self._all_hits())
                return evidence if faces is None else self.fold(evidence, faces)
            case DocumentRescan(reason):
                return replace(evidence, document_rescan=reason)
            case LaneConditions(staleness, degraded):
                return replace(evidence, staleness=staleness, degraded=degraded)
        raise TypeError(f"not evidence: {new!r}")

    def _all_hits(self) -> tuple[WatchlistHit, ...]:
        return tuple(hit for hits in self._hits.values() for hit in hits)
