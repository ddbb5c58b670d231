"""The lane's policy: everything known about a crossing in, one outcome with its reasons out.

Pure and deterministic, so that the same evidence always gives the same decision, the audit can
replay it, and the rules are tested without cameras or devices. Every reason carries a code
(for the centre and the audit), words (for the officer) and whether it is advisory (a fuzzy or
probabilistic match the officer must judge: it may ask for a referral, never for a denial).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import IntEnum

from edge.config import LanePolicyConfig
from edge.faces.types import SearchCandidate, VerificationResult
from edge.plates.certainty import SureRule
from edge.plates.reads import PlateRead
from edge.watchlist.lookup import WatchlistHit
from edge.watchlist.records import Action
from edge.watchlist.staleness import Staleness
from hardware.mrz import Mrz


class Outcome(IntEnum):
    """Ordered by severity, so the decision is the most severe outcome any rule asks for."""

    CLEAR = 0
    REFER = 1
    DENY = 2

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Reason:
    code: str  # stable, upper-case: WATCHLIST_DENY, FACE_MISMATCH, ...
    outcome: Outcome  # what this reason alone asks for
    text: str  # for the officer
    advisory: bool = False  # a fuzzy or probabilistic match: the officer judges it

    def to_json(self) -> dict:
        return {"code": self.code, "outcome": str(self.outcome), "text": self.text, "advisory": self.advisory}


@dataclass(frozen=True)
class Evidence:
    """What a crossing has gathered so far. Anything may be missing; late evidence makes a new revision."""

    plate: PlateRead | None = None
    document: Mrz | None = None
    document_rescan: str | None = None  # the reader's reason when the last scan could not be trusted
    face_verification: VerificationResult | None = None
    face_candidates: tuple[SearchCandidate, ...] = ()
    hits: tuple[WatchlistHit, ...] = ()
    staleness: Staleness | None = None
    degraded: tuple[str, ...] = ()  # devices or cameras of the lane in a fault state, in words


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reasons: tuple[Reason, ...] = field(default_factory=tuple)
    auto_clear: bool = False  # the barrier may open without the officer (lane allows it, nothing speaks against)


_HIT_OUTCOME = {Action.DENY: Outcome.DENY, Action.REFER: Outcome.REFER, Action.ALERT: Outcome.CLEAR}


def _hit_reason(hit: WatchlistHit) -> Reason:
    record = hit.record
    outcome = _HIT_OUTCOME[hit.action]
    if hit.advisory:
        # A near match may be a different vehicle or person: it can send the crossing to the
        # officer's judgement, never deny it by itself.
        outcome = min(outcome, Outcome.REFER)
    how = "" if not hit.advisory else f" ({hit.match.value} match: check by eye)"
    return Reason(
        code=f"WATCHLIST_{hit.action.value.upper()}",
        outcome=outcome,
        text=f"{hit.list_id}: {record.reason}{how}",
        advisory=hit.advisory,
    )


def _document_reasons(evidence: Evidence, policy: LanePolicyConfig, today: date) -> list[Reason]:
    if evidence.document_rescan is not None:
        return [Reason("MRZ_INVALID", Outcome.REFER, f"document must be scanned again: {evidence.document_rescan}")]
    doc = evidence.document
    if doc is None:
        if policy.require_document:
            return [Reason("NO_DOCUMENT", Outcome.REFER, "no travel document read")]
        return []
    reasons = []
    if not doc.valid:
        problems = "; ".join(doc.problems)
        reasons.append(Reason("MRZ_INVALID", Outcome.REFER, f"document MRZ fails its checks: {problems}"))
    if doc.expiry_date is not None and doc.expiry_date < today:
        reasons.append(
            Reason(
                "DOCUMENT_EXPIRED", Outcome[policy.expired_document.upper()],
                f"document expired on {doc.expiry_date.isoformat()}",
            )
        )
    return reasons


def _face_reasons(evidence: Evidence, policy: LanePolicyConfig) -> list[Reason]:
    reasons = []
    result = evidence.face_verification
    if result is None:
        if policy.require_face_match and evidence.document is not None:
            reasons.append(Reason("NO_FACE_MATCH", Outcome.REFER, "the traveller's face was not compared"))
    elif not result.match:
        reasons.append(
            Reason(
                "FACE_MISMATCH", Outcome.REFER,
                f"live face does not match the {result.reference} portrait "
                f"(score {result.score:.2f}, needs {result.threshold:.2f})",
                advisory=True,
            )
        )
    for candidate in evidence.face_candidates:
        if candidate.above_threshold:
            reasons.append(
                Reason(
                    "FACE_WATCHLIST", Outcome.REFER,
                    f"face resembles enrolled person {candidate.person_id} (score {candidate.score:.2f})",
                    advisory=True,
                )
            )
    return reasons


def _plate_reasons(evidence: Evidence, policy: LanePolicyConfig, sure: SureRule) -> list[Reason]:
    plate = evidence.plate
    if plate is None:
        return [Reason("NO_PLATE", Outcome.REFER, "no plate read")] if policy.require_plate else []
    # Only a sure read may clear: the watchlist was searched for the text read, so "no hit" says
    # nothing about a vehicle whose plate was misread.
    if sure.is_sure(plate.text, plate.confidence):
        return []
    why = (f"confidence {plate.confidence:.0%}, sure from {sure.threshold:.0%}" if sure.fits(plate.text)
           else f"fits no plate format of {', '.join(region.code for region in sure.regions)}")
    return [Reason("PLATE_UNSURE", Outcome.REFER, f"plate read {plate.text} is not sure ({why}); "
                   "check the plate by eye", advisory=True)]


def decide(evidence: Evidence, policy: LanePolicyConfig, sure: SureRule, *, auto_clear_lane: bool,
           today: date) -> Verdict:
    reasons = [_hit_reason(hit) for hit in evidence.hits]
    reasons += _document_reasons(evidence, policy, today)
    reasons += _face_reasons(evidence, policy)
    reasons += _plate_reasons(evidence, policy, sure)
    stale = evidence.staleness
    if stale is not None and stale.stale:
        words = "watchlist copy is stale: " + "; ".join(stale.reasons)
        reasons.append(Reason("WATCHLIST_STALE", Outcome.REFER if stale.refer_all else Outcome.CLEAR, words))
    for fault in evidence.degraded:
        reasons.append(Reason("LANE_DEGRADED", Outcome.CLEAR, fault))
    outcome = max((r.outcome for r in reasons), default=Outcome.CLEAR)
    # Auto-clear only for a clean CLEAR: any reason at all (an alert, a stale list, a device fault)
    # means a person should look, and the lane must allow it in the first place.
    auto_clear = (
        auto_clear_lane and outcome is Outcome.CLEAR and not reasons
        and (stale is None or stale.auto_clear_allowed)
    )
    return Verdict(outcome=outcome, reasons=tuple(reasons), auto_clear=auto_clear)
