"""`edge bench report --crossings N`: the supervisor's report over a seeded history of N crossings.

It writes a real audit log (the service's AuditLog and Recorder, records as lanes write them: a
decision, an officer's action, the crossing's end) for N crossings over 30 days on two lanes, then
times the three things a supervisor waits for: building the report's database from that log, the
figures for the whole period, and the HTML page. With --service it then puts the same history behind
the running demo service (both lanes reading their cameras) and times the supervisor's page and the
JSON download over HTTP, as a browser waits for them.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import numpy as np

from edge.bench.demo_service import run_service, session_cookie, wait_ready
from edge.kiosk.auth.demo import DEMO_ACCOUNTS
from edge.kiosk.auth.model import Role
from edge.lane.crossing import ActionKind, Decision, EvidenceSummary, OfficerAction
from edge.lane.policy import Outcome, Reason
from edge.recording.audit import AuditLog
from edge.recording.recorder import Recorder, outbox_marker
from edge.report.figures import build_report
from edge.report.ledger import ReportLedger
from edge.report.render import as_html
from edge.synthetic.scratch import demo_config_text, free_loopback_port

DAYS = 30
START = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
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


def run(crossings: int, seed: int = 0, service: bool = False) -> dict:
    with tempfile.TemporaryDirectory(prefix="edge-bench-report-") as scratch:
        state = Path(scratch) / "state"
        audit = AuditLog(state / "audit")
        started = time.perf_counter()
        seed_history(audit, crossings, START, seed)
        seeded_s = time.perf_counter() - started
        # A lane that ran for those 30 days has queued them for the centre already: the outbox starts after them.
        outbox_marker(state).write_text(str(audit.head.seq))
        audit.close()
        ledger = ReportLedger(Path(scratch) / "report.sqlite")
        started = time.perf_counter()
        ledger.catch_up(audit.path)
        build_s = time.perf_counter() - started
        started = time.perf_counter()
        report = build_report(ledger.db, START, START + DAYS * 86400, bucket="day")
        figures_s = time.perf_counter() - started
        started = time.perf_counter()
        page = as_html(report)
        html_s = time.perf_counter() - started
        ledger.close()
        figures = {"crossings": crossings, "counted": report.total.crossings, "seed_s": round(seeded_s, 1),
                   "ledger_build_s": round(build_s, 2), "figures_s": round(figures_s, 3),
                   "html_s": round(html_s, 3), "page_kb": round(len(page) / 1024, 1)}
        return figures | through_the_service(Path(scratch), state) if service else figures


def register_bench(bench: argparse._SubParsersAction) -> None:
    parser = bench.add_parser("report", help="the supervisor's report over a seeded history of N crossings")
    parser.add_argument("--crossings", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--service", action="store_true",
                        help="then time the supervisor's page and download over HTTP from the running demo service")
    parser.set_defaults(func=lambda args: print(json.dumps(run(args.crossings, args.seed, args.service))) or 0)


def through_the_service(scratch: Path, state: Path, pages: int = 5) -> dict:
    """The seeded `state` under the demo service, which then runs both lanes from their cameras: a
    supervisor logs in and opens the page for the whole period (the first one may wait for the
    ledger the service builds at start), then `pages` more, then downloads the JSON."""
    port = free_loopback_port()
    config = scratch / "edge.toml"
    config.write_text(demo_config_text(state, port))
    with (scratch / "service.log").open("w") as log:
        service = run_service(config, log)
        try:
            wait_ready(port, service)
            supervisor = next(account for account in DEMO_ACCOUNTS if account.role is Role.SUPERVISOR)
            get = _Getter(port, session_cookie(port, supervisor))
            query = urlencode({"from": _iso(START), "to": _iso(START + DAYS * 86400), "bucket": "day"})
            first_s, _ = get(f"/supervisor?{query}")
            page_s = sorted(get(f"/supervisor?{query}")[0] for _ in range(pages))
            json_s, body = get(f"/supervisor/report.json?{query}")
        finally:
            service.terminate()
            service.wait(timeout=60)
    return {"service_counted": json.loads(body)["total"]["crossings"], "first_page_s": round(first_s, 3),
            "page_s_median": round(page_s[len(page_s) // 2], 3), "page_s_max": round(page_s[-1], 3),
            "json_s": round(json_s, 3)}


class _Getter:
    """GET a kiosk path with a session: (seconds until the whole body arrived, body)."""

    def __init__(self, port: int, cookie: str):
        self._base, self._cookie = f"http://127.0.0.1:{port}", cookie

    def __call__(self, path: str) -> tuple[float, bytes]:
        started = time.perf_counter()
        request = urllib.request.Request(self._base + path, headers={"Cookie": self._cookie})
        with urllib.request.urlopen(request, timeout=120) as response:
            body = response.read()
        return time.perf_counter() - started, body


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M")
