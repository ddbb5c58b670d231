"""The lane policy: evidence in, outcome and reasons out. Each rule on its own, then together."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from edge.config import LanePolicyConfig, PlatesConfig
from edge.faces.types import SearchCandidate, VerificationResult
from edge.lane.policy import Evidence, Outcome, decide
from edge.plates.certainty import SureRule
from edge.plates.reads import PlateRead
from edge.watchlist.lookup import Match, WatchlistHit
from edge.watchlist.records import Action, PlateRecord
from edge.watchlist.staleness import Staleness, StalePolicy
from hardware.mrz import TravelDocument, compose_td3, parse_mrz

TODAY = date(2026, 11, 28)
POLICY = LanePolicyConfig()
SURE = SureRule.for_lane(PlatesConfig(regions=["us"], sure_confidence=0.9))  # this file's threshold: sure from 0.9


def passport(expiry: date = date(2030, 1, 1)):
    doc = TravelDocument("P", "UTO", "Eriksson", "Anna Maria", "L898902C3", "UTO", date(1974, 8, 12), "F", expiry)
    return parse_mrz(list(compose_td3(doc)), today=TODAY)


def plate(text: str = "ABC1234", confidence: float = 0.99) -> PlateRead:
    return PlateRead(text, "us", confidence, (confidence,) * len(text), ((0, 0), (1, 0), (1, 1), (0, 1)),
                     best_crop=np.zeros((8, 8, 3), np.uint8))


def face(match: bool = True) -> VerificationResult:
    return VerificationResult(score=0.8 if match else 0.3, threshold=0.6, match=match, reference="document")


def hit(action: Action, match: Match = Match.EXACT) -> WatchlistHit:
    record = PlateRecord(id="r1", reason="stolen vehicle", action=action, valid_from=None, valid_until=None,
                         source="case 7", plate="ABC1234", region=None)
    return WatchlistHit("stolen-vehicles", 3, record, match)


def clean(**changes) -> Evidence:
    base = {"plate": plate(), "document": passport(), "face_verification": face()}
    return Evidence(**{**base, **changes})


def codes(verdict) -> list[str]:
    return [r.code for r in verdict.reasons]


def test_everything_in_order_clears_and_auto_clears_only_where_the_lane_allows():
    assert decide(clean(), POLICY, SURE, auto_clear_lane=False, today=TODAY).outcome is Outcome.CLEAR
    assert not decide(clean(), POLICY, SURE, auto_clear_lane=False, today=TODAY).auto_clear
    verdict = decide(clean(), POLICY, SURE, auto_clear_lane=True, today=TODAY)
    assert verdict.outcome is Outcome.CLEAR and verdict.auto_clear and verdict.reasons == ()


@pytest.mark.parametrize(
    ("action", "match", "outcome", "advisory"),
    [
        (Action.DENY, Match.EXACT, Outcome.DENY, False),
        (Action.REFER, Match.EXACT, Outcome.REFER, False),
        (Action.ALERT, Match.EXACT, Outcome.CLEAR, False),
        (Action.DENY, Match.EDIT1, Outcome.REFER, True),  # fuzzy never auto-denies
        (Action.DENY, Match.LOOKALIKE, Outcome.REFER, True),
        (Action.ALERT, Match.EDIT1, Outcome.CLEAR, True),
    ],
)
def test_watchlist_hits_map_to_their_action_but_fuzzy_hits_never_deny(action, match, outcome, advisory):
    verdict = decide(clean(hits=(hit(action, match),)), POLICY, SURE, auto_clear_lane=True, today=TODAY)
    assert verdict.outcome is outcome
    (reason,) = verdict.reasons
    assert reason.code == f"WATCHLIST_{action.value.upper()}" and reason.advisory is advisory
    assert "stolen vehicle" in reason.text
    assert not verdict.auto_clear, "a hit of any kind needs an officer"


def test_document_problems_refer():
    assert codes(decide(clean(document=None), POLICY, SURE, auto_clear_lane=False, today=TODAY)) == ["NO_DOCUMENT"]
    rescan = decide(clean(document=None, document_rescan="check digit of the document number fails"), POLICY,
                    SURE, auto_clear_lane=False, today=TODAY)
    assert codes(rescan) == ["MRZ_INVALID"] and rescan.outcome is Outcome.REFER
    expired = decide(clean(document=passport(expiry=date(2020, 1, 1))), POLICY, SURE, auto_clear_lane=False,
                     today=TODAY)
    assert "DOCUMENT_EXPIRED" in codes(expired) and expired.outcome is Outcome.REFER
    strict = LanePolicyConfig(expired_document="deny")
    assert decide(clean(document=passport(expiry=date(2020, 1, 1))), strict, SURE, auto_clear_lane=False,
                  today=TODAY).outcome is Outcome.DENY


def test_face_mismatch_and_face_watchlist_are_advisory_referrals():
    mismatch = decide(clean(face_verification=face(False)), POLICY, SURE, auto_clear_lane=True, today=TODAY)
    assert codes(mismatch) == ["FACE_MISMATCH"] and mismatch.outcome is Outcome.REFER
    assert mismatch.reasons[0].advisory and "0.30" in mismatch.reasons[0].text
    candidate = SearchCandidate(template_id="t1", person_id="p9", score=0.9, rank=1, above_threshold=True)
    below = SearchCandidate(template_id="t2", person_id="p8", score=0.2, rank=2, above_threshold=False)
    searched = decide(clean(face_candidates=(candidate, below)), POLICY, SURE, auto_clear_lane=True, today=TODAY)
    assert codes(searched) == ["FACE_WATCHLIST"] and searched.outcome is Outcome.REFER


def test_uncertain_or_missing_plate_goes_to_the_officer():
    low = decide(clean(plate=plate(confidence=0.3)), POLICY, SURE, auto_clear_lane=True, today=TODAY)
    assert codes(low) == ["PLATE_UNSURE"] and low.outcome is Outcome.REFER and low.reasons[0].advisory
    assert not low.auto_clear
    assert "check the plate by eye" in low.reasons[0].text and "30%" in low.reasons[0].text
    assert codes(decide(clean(plate=None), POLICY, SURE, auto_clear_lane=True, today=TODAY)) == ["NO_PLATE"]
    walk_in = LanePolicyConfig(require_plate=False)
    assert decide(clean(plate=None), walk_in, SURE, auto_clear_lane=True, today=TODAY).outcome is Outcome.CLEAR


def test_only_a_sure_plate_read_clears_and_the_threshold_is_the_lanes():
    # At the threshold is sure; just under it is not, whatever else the crossing shows.
    at = decide(clean(plate=plate(confidence=0.9)), POLICY, SURE, auto_clear_lane=True, today=TODAY)
    assert at.outcome is Outcome.CLEAR and at.auto_clear
    under = decide(clean(plate=plate(confidence=0.89)), POLICY, SURE, auto_clear_lane=True, today=TODAY)
    assert under.outcome is Outcome.REFER and codes(under) == ["PLATE_UNSURE"] and not under.auto_clear
    stricter = SureRule.for_lane(PlatesConfig(regions=["us"], sure_confidence=0.995))
    assert codes(decide(clean(), POLICY, stricter, auto_clear_lane=True, today=TODAY)) == ["PLATE_UNSURE"]


def test_a_confident_read_that_fits_no_format_of_the_lane_is_not_sure():
    brazil = SureRule.for_lane(PlatesConfig(regions=["br"], sure_confidence=0.9))
    verdict = decide(clean(plate=plate("ABC12", confidence=0.99)), POLICY, brazil, auto_clear_lane=True,
                     today=TODAY)
    assert verdict.outcome is Outcome.REFER and codes(verdict) == ["PLATE_UNSURE"]
    assert "fits no plate format of br" in verdict.reasons[0].text
    assert "check the plate by eye" in verdict.reasons[0].text
    assert decide(clean(plate=plate("ABC1234", confidence=0.99)), POLICY, brazil, auto_clear_lane=True,
                  today=TODAY).outcome is Outcome.CLEAR


@pytest.mark.parametrize(
    ("policy", "outcome", "auto_clear"),
    [(StalePolicy.WARN, Outcome.CLEAR, False), (StalePolicy.REFER_ALL, Outcome.REFER, False),
     (StalePolicy.NO_AUTO_CLEAR, Outcome.CLEAR, False)],
)
def test_stale_watchlist_follows_the_configured_policy(policy, outcome, auto_clear):
    stale = Staleness(stale=True, policy=policy, max_age_s=3600, oldest_age_s=7200, reasons=("plates is 2.0 h old",))
    verdict = decide(clean(staleness=stale), POLICY, SURE, auto_clear_lane=True, today=TODAY)
    assert verdict.outcome is outcome and verdict.auto_clear is auto_clear
    assert codes(verdict) == ["WATCHLIST_STALE"] and "2.0 h old" in verdict.reasons[0].text


def test_a_degraded_lane_never_auto_clears():
    verdict = decide(clean(degraded=("reader offline",)), POLICY, SURE, auto_clear_lane=True, today=TODAY)
    assert verdict.outcome is Outcome.CLEAR and not verdict.auto_clear and codes(verdict) == ["LANE_DEGRADED"]


def test_the_most_severe_reason_wins_and_every_reason_is_kept():
    verdict = decide(
        clean(hits=(hit(Action.DENY),), face_verification=face(False), plate=plate(confidence=0.1)),
        POLICY, SURE, auto_clear_lane=True, today=TODAY,
    )
    assert verdict.outcome is Outcome.DENY
    assert set(codes(verdict)) == {"WATCHLIST_DENY", "FACE_MISMATCH", "PLATE_UNSURE"}
