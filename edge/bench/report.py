"""`edge bench report --crossings N`: the supervisor's report over a seeded history of N crossings.

It writes a real audit log (the service's AuditLog and Recorder, records as lanes write them: a
decision, an officer's action, the crossing's end) for N crossings over 30 days on two lanes, then
times the three things a supervisor waits for: building the report's database from that log, the
figures for the whole period, and the HTML page.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from edge.lane.crossing import ActionKind, Decision, EvidenceSummary, OfficerAction
from edge.lane.policy import Outcome, Reason
from edge.recording.audit import AuditLog
from edge.recording.recorder import Recorder
from edge.report.figures import build_report
from edge.report.ledger import ReportLedger
from edge.report.render import as_html

DAYS = 30
LANES = ("lane-1", "lane-2")
_REASONS = (("PLATE_UNSURE", Outcome.REFER), ("FACE_MISMATCH", Outcome.REFER), ("NO_DOCUMENT", Outcome.REFER),
            ("WATCHLIST_DENY", Outcome.DENY), ("LANE_DEGRADED", Outcome.CLEAR))


def seed_history(audit: AuditLog, crossings: int, start: float, seed: int = 0) -> None:
    """`crossings` crossings spread over DAYS days from `start`, recorded as the lanes record them."""
    recorder = Recorder(audit, None)
    rng = np.random.default_rng(seed)
    arrivals = np.sort(rng.uniform(start, start + DAYS * 86400, crossings))
    for i, opened_at in enumerate(arrivals):
        lane = LANES[i % len(LANES)]
        crossing_id = f"{lane}-{i:07d}"
        reasons = tuple(Reason(code, outcome, code.lower()) for code, outcome in _REASONS if rng.random() < 0.08)
        outcome = max((r.outcome for r in reasons), default=Outcome.CLEAR)
        decided_at = float(opened_at + rng.gamma(3.0, 1.5))
        score = float(np.clip(rng.normal(0.95, 0.02), 0.8, 1.0))
        recorder.decision(Decision(
            crossing_id, lane, 1, outcome, reasons, auto_clear=False, made_at=decided_at,
            evidence=EvidenceSummary(plate=f"P{i:06d}", document_number=f"D{i:07d}", issuing_state="UTO",
                                     face_match=score >= 0.93), face_score=score,
            hits=(("vehicles", "deny"),) if any(r.code == "WATCHLIST_DENY" for r in reasons) else ()))
        kind = ActionKind.CONFIRM if rng.random() < 0.95 else ActionKind.REFER
        acted_at = decided_at + float(rng.gamma(2.0, 3.0))
        recorder.officer_action(OfficerAction(crossing_id, lane, kind, 1, "officer", "officer", acted_at))
        recorder.crossing_closed(lane, crossing_id, {
            "note": "passed", "opened_at": float(opened_at), "closed_at": acted_at + 5, "revision": 1,
            "outcome": str(outcome), "action": kind.value, "actor": "officer",
            "barrier_opened": outcome is Outcome.CLEAR and kind is ActionKind.CONFIRM, "restored": False})


def run(crossings: int, seed: int = 0) -> dict:
    start = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    with tempfile.TemporaryDirectory(prefix="edge-bench-report-") as scratch:
        audit = AuditLog(Path(scratch) / "audit")
        started = time.perf_counter()
        seed_history(audit, crossings, start, seed)
        seeded_s = time.perf_counter() - started
        audit.close()
        ledger = ReportLedger(Path(scratch) / "report.sqlite")
        started = time.perf_counter()
        ledger.catch_up(audit.path)
        build_s = time.perf_counter() - started
        started = time.perf_counter()
        report = build_report(ledger.db, start, start + DAYS * 86400, bucket="day")
        figures_s = time.perf_counter() - started
        started = time.perf_counter()
        page = as_html(report)
        html_s = time.perf_counter() - started
        ledger.close()
    return {"crossings": crossings, "counted": report.total.crossings, "seed_s": round(seeded_s, 1),
            "ledger_build_s": round(build_s, 2), "figures_s": round(figures_s, 3), "html_s": round(html_s, 3),
            "page_kb": round(len(page) / 1024, 1)}


def register_bench(bench: argparse._SubParsersAction) -> None:
    parser = bench.add_parser("report", help="the supervisor's report over a seeded history of N crossings")
    parser.add_argument("--crossings", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(func=lambda args: print(json.dumps(run(args.crossings, args.seed))) or 0)
