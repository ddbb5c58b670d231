"""One crossing: the evidence gathered for it, its decision revisions, and what the officer did.

Late evidence (a face match that finishes after the plate, a second document scan) updates the
same crossing and makes a new *revision* of its decision. An officer acts on the revision they
saw: if the decision has changed since, the action is refused and the kiosk shows the new one.
The barrier may open once per crossing, only for a current CLEAR the officer confirmed, an
override with a reason, or an auto-clear the lane allows.

A crossing open when the service crashed comes back from the audit log (edge/recording/recovery.py) with its
last recorded decision, *restored*: the live evidence behind it is gone, so it takes no new
evidence (its decision cannot change) and it never auto-clears; only the officer can act on it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from edge.config import LaneConfig
from edge.lane.policy import Evidence, Outcome, Reason, decide
from edge.plates.certainty import SureRule


class ActionKind(StrEnum):
    CONFIRM = "confirm"  # accept the decision as shown (opens the barrier for a CLEAR)
    REFER = "refer"  # send to secondary inspection
    DENY = "deny"
    OVERRIDE = "override"  # let through whatever the decision says; a reason is required


@dataclass(frozen=True)
class EvidenceSummary:
    """Which vehicle, document and face a decision revision was about, in the few words its record
    keeps (no images, no biometrics): after a restart has lost the live reads, the officer can still
    tell whether the vehicle at the barrier is the one the restored decision is about."""

    plate: str | None = None
    document_number: str | None = None
    issuing_state: str | None = None
    face_match: bool | None = None  # the live face against the document portrait; None: not compared

    @classmethod
    def of(cls, evidence: Evidence) -> EvidenceSummary:
        document, face = evidence.document, evidence.face_verification
        return cls(plate=evidence.plate.text if evidence.plate else None,
                   document_number=document.document_number if document else None,
                   issuing_state=document.issuing_state if document else None,
                   face_match=face.match if face else None)

    def to_json(self) -> dict:
        return {"plate": self.plate, "document_number": self.document_number, "issuing_state": self.issuing_state,
                "face_match": self.face_match}


@dataclass(frozen=True)
class Decision:
    crossing_id: str
    lane_id: str
    revision: int
    outcome: Outcome
    reasons: tuple[Reason, ...]
    auto_clear: bool
    made_at: float
    evidence: EvidenceSummary = EvidenceSummary()
    # For the supervisor's report, not for deciding: a new score or hit alone makes no new revision.
    face_score: float | None = None  # the 1:1 score behind evidence.face_match
    hits: tuple[tuple[str, str], ...] = ()  # (list, action) of each watchlist hit

    def to_json(self) -> dict:
        return {
            "crossing_id": self.crossing_id,
            "lane_id": self.lane_id,
            "revision": self.revision,
            "outcome": str(self.outcome),
            "reasons": [reason.to_json() for reason in self.reasons],
            "auto_clear": self.auto_clear,
            "made_at": self.made_at,
            "evidence": self.evidence.to_json(),
            "face_score": self.face_score,
            "hits": [{"list": list_id, "action": action} for list_id, action in self.hits],
        }

    @classmethod
    def from_json(cls, data: dict) -> Decision:
        """A decision as its audit record holds it (older records lack the evidence summary, score and hits)."""
        return cls(
            crossing_id=data["crossing_id"], lane_id=data["lane_id"], revision=data["revision"],
            outcome=Outcome[data["outcome"]],
            reasons=tuple(Reason(r["code"], Outcome[r["outcome"]], r["text"], r["advisory"]) for r in data["reasons"]),
            auto_clear=data["auto_clear"], made_at=data["made_at"],
            evidence=EvidenceSummary(**data.get("evidence", {})), face_score=data.get("face_score"),
            hits=tuple((hit["list"], hit["action"]) for hit in data.get("hits", ())),
        )


@dataclass(frozen=True)
class OfficerAction:
    crossing_id: str
    lane_id: str
    kind: ActionKind
    revision: int  # the decision revision the officer was looking at
    actor: str
    role: str
    at: float
    reason: str | None = None

    def to_json(self) -> dict:
        return {
            "crossing_id": self.crossing_id, "lane_id": self.lane_id, "kind": self.kind.value,
            "revision": self.revision, "actor": self.actor, "role": self.role, "at": self.at, "reason": self.reason,
        }

    @classmethod
    def from_json(cls, data: dict) -> OfficerAction:
        return cls(crossing_id=data["crossing_id"], lane_id=data["lane_id"], kind=ActionKind(data["kind"]),
                   revision=data["revision"], actor=data["actor"], role=data["role"], at=data["at"],
                   reason=data["reason"])


# The role (edge.kiosk.auth.model.Role) that may override a DENY; crossings know roles by name only.
SUPERVISOR = "supervisor"


def readable(text: str) -> bool:
    """Whether text shows what it holds, on one line: no control, format or unusual space characters
    (a newline, a zero-width space, a direction override, a lone surrogate), which would make the
    audit record say something other than what the screen shows."""
    return all(char == " " or unicodedata.category(char)[0] not in "CZ" for char in text)


def _has_words(text: str) -> bool:
    # Three letters or digits at least: "ok" or "." is no reason a supervisor could check later.
    return sum(char.isalnum() for char in text) >= 3


class ActionRefused(Exception):
    """The action cannot be taken; the message says why, in words for the officer."""


@dataclass(frozen=True)
class ActionResult:
    action: OfficerAction
    open_barrier: bool  # the caller pulses the barrier (after auditing the command)


class Crossing:
    """Mutable, but owned by its lane and touched only under the lane's lock."""

    def __init__(self, crossing_id: str, lane: LaneConfig, opened_at: float):
        self.crossing_id = crossing_id
        self.lane = lane
        self._sure = SureRule.for_lane(lane.plates)
        self.opened_at = opened_at
        self.evidence = Evidence()
        self.decision: Decision | None = None
        self.action: OfficerAction | None = None
        self.barrier_opened = False
        self.restored: str | None = None  # why and when it came back from the audit after a restart

    @classmethod
    def restore(cls, lane: LaneConfig, opened_at: float, decision: Decision, note: str) -> Crossing:
        """The crossing `decision` belongs to, as the audit recorded it before a restart."""
        crossing = cls(decision.crossing_id, lane, opened_at)
        crossing.decision = decision
        crossing.restored = note
        return crossing

    @property
    def closed(self) -> bool:
        """Acted on (or passed): new evidence is recorded but no longer changes what happens."""
        return self.action is not None or self.barrier_opened

    def update(self, now: float, today: date, evidence: Evidence) -> Decision | None:
        """Take the crossing's evidence as it now stands and decide again; returns the new decision
        revision, or None if nothing changed."""
        if self.restored is not None:
            # Deciding again from the new evidence alone would drop what the lost evidence showed
            # (a watchlist hit on the document, say) and could turn a DENY into a CLEAR.
            return None
        self.evidence = evidence
        return self.redecide(now, today)

    def redecide(self, now: float, today: date) -> Decision | None:
        verdict = decide(self.evidence, self.lane.policy, self._sure, auto_clear_lane=self.lane.auto_clear,
                         today=today)
        summary = EvidenceSummary.of(self.evidence)
        current = self.decision
        # A new plate text or document makes a new revision even with the same outcome: the record
        # of each revision says which vehicle and document it was about.
        if current is not None and (current.outcome, current.reasons, current.auto_clear, current.evidence) == (
            verdict.outcome, verdict.reasons, verdict.auto_clear, summary
        ):
            return None
        self.decision = Decision(
            crossing_id=self.crossing_id,
            lane_id=self.lane.id,
            revision=(current.revision + 1) if current else 1,
            outcome=verdict.outcome,
            reasons=verdict.reasons,
            auto_clear=verdict.auto_clear,
            made_at=now,
            evidence=summary,
            face_score=self.evidence.face_verification.score if self.evidence.face_verification else None,
            hits=tuple((hit.list_id, hit.action.value) for hit in self.evidence.hits),
        )
        return self.decision

    def check_action(self, action: OfficerAction) -> ActionResult:
        """Whether `action` may be taken now, and whether it opens the barrier. Changes nothing."""
        decision = self.decision
        if action.crossing_id != self.crossing_id or action.lane_id != self.lane.id:
            raise ActionRefused("this crossing is no longer at the lane")
        if decision is None:
            raise ActionRefused("there is no decision to act on yet")
        if self.closed:
            raise ActionRefused("this crossing has already been dealt with")
        if action.revision != decision.revision:
            raise ActionRefused("the decision changed while you were looking: check the new one")
        if action.reason is not None and not readable(action.reason):
            raise ActionRefused("a reason may not hold control or invisible characters")
        if action.kind is ActionKind.OVERRIDE and not (action.reason and _has_words(action.reason)):
            raise ActionRefused("an override needs a reason in words")
        if action.kind is ActionKind.OVERRIDE and decision.outcome is Outcome.DENY and action.role != SUPERVISOR:
            # A DENY comes from a watchlist: letting the vehicle through takes a second person, as at
            # a real checkpoint (the supervisor logs in at the kiosk, or acts from their own).
            raise ActionRefused("only a supervisor may override a DENY")
        opens = action.kind is ActionKind.OVERRIDE or (
            action.kind is ActionKind.CONFIRM and decision.outcome is Outcome.CLEAR
        )
        return ActionResult(action=action, open_barrier=opens)

    def apply_action(self, result: ActionResult) -> None:
        self.action = result.action

    def auto_clear_due(self) -> bool:
        # A restart must never open the barrier by itself: a restored crossing waits for the officer.
        return self.decision is not None and self.decision.auto_clear and not self.closed and self.restored is None
