"""A crossing's decision revisions and the rules for officer actions and the barrier."""

from __future__ import annotations

from datetime import date

import pytest

from edge.config import LaneCameras, LaneConfig, PlatesConfig
from edge.lane.crossing import ActionKind, ActionRefused, Crossing, OfficerAction
from edge.lane.policy import Evidence, Outcome
from edge.watchlist.records import Action
from tests.lane.test_policy import face, hit, passport, plate

TODAY = date(2026, 11, 28)
CAMERAS = LaneCameras.model_validate({"plate": {"url": "synthetic://l/plate"}, "face": {"url": "synthetic://l/face"}})


def crossing(auto_clear: bool = False) -> Crossing:
    # The plate reads of these tests (test_policy.plate) are sure from 0.9, whatever the calibrated default.
    lane = LaneConfig(id="lane-1", name="Lane 1", cameras=CAMERAS, auto_clear=auto_clear,
                      plates=PlatesConfig(regions=["us"], sure_confidence=0.9))
    return Crossing("lane-1-x", lane, opened_at=100.0)


def act(c: Crossing, kind: ActionKind, revision: int | None = None, reason: str | None = None,
        role: str = "officer") -> OfficerAction:
    rev = c.decision.revision if revision is None else revision
    return OfficerAction("lane-1-x", "lane-1", kind, rev, role, role, 110.0, reason)


def complete(c: Crossing):
    return c.update(101.0, TODAY, Evidence(plate=plate(), document=passport(), face_verification=face()))


def test_late_evidence_makes_a_new_revision_and_unchanged_evidence_does_not():
    c = crossing()
    first = c.update(100.0, TODAY, Evidence(plate=plate()))
    assert first.revision == 1 and first.outcome is Outcome.REFER  # no document yet
    assert c.update(100.5, TODAY, Evidence(plate=plate())) is None
    second = complete(c)
    assert second.revision == 2 and second.outcome is Outcome.CLEAR


def test_confirming_a_clear_opens_once():
    c = crossing()
    complete(c)
    result = c.check_action(act(c, ActionKind.CONFIRM))
    assert result.open_barrier
    c.apply_action(result)
    with pytest.raises(ActionRefused, match="already"):
        c.check_action(act(c, ActionKind.CONFIRM))


def test_confirming_a_referral_or_denial_does_not_open():
    c = crossing()
    c.update(100.0, TODAY,
             Evidence(plate=plate(), document=passport(), face_verification=face(), hits=(hit(Action.DENY),)))
    assert c.decision.outcome is Outcome.DENY
    assert not c.check_action(act(c, ActionKind.CONFIRM)).open_barrier
    assert not c.check_action(act(c, ActionKind.REFER)).open_barrier
    assert not c.check_action(act(c, ActionKind.DENY)).open_barrier


def test_only_a_supervisor_overrides_a_deny():
    c = crossing()
    c.update(100.0, TODAY,
             Evidence(plate=plate(), document=passport(), face_verification=face(), hits=(hit(Action.DENY),)))
    with pytest.raises(ActionRefused, match="only a supervisor may override a DENY"):
        c.check_action(act(c, ActionKind.OVERRIDE, reason="the driver is known to me"))
    assert c.check_action(act(c, ActionKind.OVERRIDE, reason="checked with the centre", role="supervisor")).open_barrier


def test_override_needs_a_reason_and_then_opens():
    c = crossing()
    c.update(100.0, TODAY, Evidence(plate=plate(), document=passport(), face_verification=face(False)))
    # Blank, invisible or wordless reasons are no reasons (issue 13, finding 6: a zero-width space
    # opened the barrier and left an empty reason in the audit).
    for blank in ("  ", "\u200b", "\u200b\u200b\u200b", ".", "ok", "\u3000\u3000"):
        with pytest.raises(ActionRefused, match="reason"):
            c.check_action(act(c, ActionKind.OVERRIDE, reason=blank))
    for hidden in ("photo old\u200b checked", "checked\nby hand", "\u202echecked by hand", "checked\ud800"):
        with pytest.raises(ActionRefused, match="control or invisible"):
            c.check_action(act(c, ActionKind.OVERRIDE, reason=hidden))
        with pytest.raises(ActionRefused, match="control or invisible"):
            c.check_action(act(c, ActionKind.REFER, reason=hidden))  # any reason the audit keeps
    assert c.check_action(act(c, ActionKind.OVERRIDE, reason="photo is 9 years old; checked by hand")).open_barrier
    assert c.check_action(act(c, ActionKind.OVERRIDE, reason="Foto 9 Jahre alt, geprüft")).open_barrier


def test_an_action_on_an_outdated_revision_is_refused():
    c = crossing()
    c.update(100.0, TODAY, Evidence(plate=plate()))
    seen = c.decision.revision
    complete(c)
    with pytest.raises(ActionRefused, match="changed"):
        c.check_action(act(c, ActionKind.CONFIRM, revision=seen))


def test_no_action_before_a_decision_and_none_for_another_crossing():
    c = crossing()
    with pytest.raises(ActionRefused, match="no decision"):
        c.check_action(OfficerAction("lane-1-x", "lane-1", ActionKind.CONFIRM, 1, "o", "officer", 1.0))
    complete(c)
    with pytest.raises(ActionRefused, match="no longer"):
        c.check_action(OfficerAction("lane-1-old", "lane-1", ActionKind.CONFIRM, 2, "o", "officer", 1.0))


def test_auto_clear_only_on_an_auto_clear_lane_with_a_clean_clear():
    officer_lane = crossing(auto_clear=False)
    complete(officer_lane)
    assert not officer_lane.auto_clear_due()
    c = crossing(auto_clear=True)
    complete(c)
    assert c.auto_clear_due()
    c.barrier_opened = True
    assert not c.auto_clear_due()
