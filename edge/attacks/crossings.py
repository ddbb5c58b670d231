"""Attacks on the officer's actions: racing confirms, a DENY that must stay shut, invisible reasons.

They wait for the demo's traffic: the lane feed says when a crossing's decision waits for the
officer, and the audit log (written before any command reaches the barrier) says what was sent.
"""

from __future__ import annotations

import json
import time
from collections.abc import Set
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from edge.attacks.browser import Answer, Browser
from edge.attacks.campaign import Breach, attack
from edge.attacks.kiosk import logged_in
from edge.attacks.target import Target
from edge.recording.audit.records import BARRIER_COMMAND, OFFICER_ACTION

WAIT_FOR_CROSSING_S = 240.0  # a car arrives every 20 s per lane; a DENY is rarer
RACERS = 10


@dataclass(frozen=True)
class Pending:
    """A crossing whose decision waits for the officer."""

    lane_id: str
    crossing_id: str
    revision: int
    outcome: str

    def action_path(self) -> str:
        return f"/api/lanes/{self.lane_id}/crossings/{self.crossing_id}/actions"


def next_pending(officer: Browser, outcomes: set[str], skip: Set[str] = frozenset()) -> Pending:
    """The next crossing (not in `skip`) whose decision, one of `outcomes`, waits for the officer."""
    deadline = time.monotonic() + WAIT_FOR_CROSSING_S
    with officer.websocket() as ws:
        while (left := deadline - time.monotonic()) > 0:
            message = json.loads(ws.recv(timeout=left))
            for lane in message.get("lanes") or [message.get("lane")]:
                crossing = lane and lane["crossing"]
                decision = crossing and crossing["decision"]
                if (decision and lane["snapshot"]["state"] == "decision_pending" and not crossing["action"]
                        and decision["outcome"] in outcomes and crossing["crossing_id"] not in skip):
                    return Pending(lane["lane_id"], crossing["crossing_id"], decision["revision"],
                                   decision["outcome"])
    raise TimeoutError(f"no {'/'.join(sorted(outcomes))} decision waited for the officer in "
                       f"{WAIT_FOR_CROSSING_S:.0f} s")


def records_of(target: Target, crossing_id: str, kind: str) -> list[dict]:
    return [record for record in target.audit_records()
            if record["kind"] == kind and (record.get("crossing_id") == crossing_id
                                           or str(record["payload"].get("reason", "")).startswith(crossing_id))]


@attack("racing-confirms", f"{RACERS} confirms of one CLEAR at once: one is taken, the barrier opens once")
def racing_confirms(target: Target) -> None:
    officer = logged_in(target, "officer")
    tried: set[str] = set()
    for _ in range(4):  # a decision revised mid-race refuses every confirm; then race the next crossing
        pending = next_pending(officer, {"CLEAR"}, tried)
        tried.add(pending.crossing_id)
        paths = [pending.action_path()] * RACERS
        body = {"kind": "confirm", "revision": pending.revision}
        with ThreadPoolExecutor(RACERS) as pool:
            answers: list[Answer] = list(pool.map(officer.post_json, paths, [body] * RACERS))
        taken = sum(answer.status == 200 for answer in answers)
        opens = len(records_of(target, pending.crossing_id, BARRIER_COMMAND))
        if taken > 1 or opens != taken or not {a.status for a in answers} <= {200, 409}:
            raise Breach(f"{RACERS} racing confirms of {pending.crossing_id}: {taken} taken, answers "
                         f"{sorted(a.status for a in answers)}, {opens} barrier commands sent")
        if taken == 1:
            return
    raise RuntimeError("every race met a decision revised mid-race; no confirm was taken to count")


@attack("deny-stays-shut", "a watchlist DENY: an officer's override is refused, a confirm opens nothing")
def deny_stays_shut(target: Target) -> None:
    officer = logged_in(target, "officer")
    pending = next_pending(officer, {"DENY"})
    override = officer.post_json(pending.action_path(), {"kind": "override", "revision": pending.revision,
                                                         "reason": "driver known to me, let through"})
    confirm = officer.post_json(pending.action_path(), {"kind": "confirm", "revision": pending.revision})
    opens = records_of(target, pending.crossing_id, BARRIER_COMMAND)
    if override.status != 409 or confirm.status != 200 or opens or confirm.json()["barrier_opened"]:
        raise Breach(f"DENY {pending.crossing_id}: officer override {override.status}, confirm {confirm.status}, "
                     f"{len(opens)} barrier commands sent")


INVISIBLE_REASONS = ["\u200b", "\u200b\u200b\u200b\u200b", " \u00a0 ", "\u2066\u2069", "...", "\u202e!!", "a\u200bb"]


@attack("invisible-reason", "overrides whose reasons hold no visible words (zero-width, bidi, punctuation)",
        finding=6)
def invisible_reason(target: Target) -> None:
    officer = logged_in(target, "officer")
    pending = next_pending(officer, {"CLEAR", "REFER"})
    taken = [f"{reason!r}: {answer.status}" for reason in INVISIBLE_REASONS
             if (answer := officer.post_json(pending.action_path(), {"kind": "override", "revision": pending.revision,
                                                                     "reason": reason})).status not in (409, 422)]
    opens = records_of(target, pending.crossing_id, BARRIER_COMMAND)
    recorded = records_of(target, pending.crossing_id, OFFICER_ACTION)
    if taken or opens or recorded:
        raise Breach(f"invisible override reasons on {pending.crossing_id}: taken {taken}, {len(opens)} barrier "
                     f"commands, {len(recorded)} actions recorded")
