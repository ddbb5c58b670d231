"""The supervisor's report: its figures against counts taken from the audit log's own lines."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import pytest

from edge.bench.report import seed_history
from edge.config import load_config
from edge.lane.crossing import ActionKind, OfficerAction
from edge.recording.audit import CAMERA_STATUS, AuditLog
from edge.recording.recorder import Recorder
from edge.report.figures import build_report
from edge.report.ledger import ReportLedger
from edge.synthetic.scratch import demo_config_text, free_loopback_port

START = 1_780_000_000.0  # 2026-05-28
SEVERITY = {"CLEAR": 0, "REFER": 1, "DENY": 2}


def _records(audit_path: Path) -> list[dict]:
    return [json.loads(line) for line in audit_path.read_text().splitlines()]


def _nearest_rank(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[math.ceil(share * len(ordered)) - 1], 3)


def _independent_counts(records: list[dict]) -> dict:
    """What the report must say, counted straight from the JSON lines (no report code)."""
    last: dict[str, dict] = {}
    actions: dict[str, dict] = {}
    closed: dict[str, dict] = {}
    for record in records:
        if record["kind"] == "decision":
            last[record["crossing_id"]] = record["payload"]
        elif record["kind"] == "officer_action":
            actions[record["crossing_id"]] = record["payload"]
        elif record["kind"] == "crossing_closed":
            closed[record["crossing_id"]] = record["payload"]
    agreement: Counter[str] = Counter()
    for crossing_id, action in actions.items():
        outcome = last[crossing_id]["outcome"]
        if action["kind"] == "confirm":
            agreement["agreed"] += 1
        else:
            step = {"refer": 1, "deny": 2}[action["kind"]] - SEVERITY[outcome]
            agreement["agreed" if step == 0 else "stricter" if step > 0 else "softer"] += 1
    codes = {cid: {r["code"] for r in d["reasons"]} for cid, d in last.items()}
    return {
        "crossings": len(last),
        "outcomes": Counter(d["outcome"] for d in last.values()),
        "agreement": agreement,
        "barrier_opened": sum(c["barrier_opened"] for c in closed.values()),
        "plate_unsure": sum("PLATE_UNSURE" in c for c in codes.values()),
        "hits": sum(len(d["hits"]) for d in last.values()),
        "wait_p50": _nearest_rank([last[c]["made_at"] - closed[c]["opened_at"] for c in last], 0.5),
        "action_p95": _nearest_rank([actions[c]["at"] - last[c]["made_at"] for c in actions], 0.95),
    }


def test_the_figures_match_counts_taken_from_the_audit_log_itself(tmp_path):
    audit = AuditLog(tmp_path / "audit")
    seed_history(audit, 400, START, seed=3)
    audit.close()
    ledger = ReportLedger(tmp_path / "report.sqlite")
    assert ledger.catch_up(audit.path) == 1200  # decision, action, end: three records a crossing
    report = build_report(ledger.db, START - 1, START + 31 * 86400, bucket="day")
    expected = _independent_counts(_records(audit.path))
    total = report.total
    assert total.crossings == expected["crossings"] == 400
    assert total.outcomes == {o: expected["outcomes"][o] for o in ("CLEAR", "REFER", "DENY")}
    assert {k: v for k, v in total.agreement.items() if v} == dict(expected["agreement"])
    assert total.barrier_opened == expected["barrier_opened"]
    assert total.plate_reads["unsure"] == expected["plate_unsure"]
    assert sum(hit["count"] for hit in total.hits) == expected["hits"]
    assert total.arrival_to_decision_s.p50 == expected["wait_p50"]
    assert total.decision_to_action_s.p95 == expected["action_p95"]
    assert sum(lane.crossings for lane in report.per_lane) == 400
    assert sum(slot["crossings"] for slot in total.series) == 400


def test_the_lanes_add_up_to_the_whole_and_a_one_lane_report_is_that_lane(tmp_path):
    """The figures are read once, grouped by lane, and added up for every lane together: each lane's
    must be its own crossings', and asking for one lane must give what the whole report says of it."""
    audit = AuditLog(tmp_path / "audit")
    seed_history(audit, 300, START, seed=5)
    decisions = [r for r in _records(audit.path) if r["kind"] == "decision"]
    # More than the 50 listed by name: on one lane alone, and on both together.
    overruled = ([d for d in decisions if d["lane"] == "lane-1"][:60]
                 + [d for d in decisions if d["lane"] == "lane-2"][:30])
    recorder = Recorder(audit, None)
    for n, decision in enumerate(overruled):
        recorder.officer_action(OfficerAction(decision["crossing_id"], decision["lane"], ActionKind.OVERRIDE, 1,
                                              "super", "supervisor", START + 40 * 86400 + n, reason=f"seen {n}"))
    audit.close()
    ledger = ReportLedger(tmp_path / "report.sqlite")
    ledger.catch_up(audit.path)
    report = build_report(ledger.db, START - 1, START + 31 * 86400, bucket="hour")
    by_lane = {figures.lane: figures for figures in report.per_lane}

    def newest_overruled(lane: str | None) -> list[str]:
        return [d["crossing_id"] for d in reversed(overruled) if lane in (None, d["lane"])][:50]

    assert report.lanes == ["lane-1", "lane-2"]
    for lane, figures in [*by_lane.items(), (None, report.total)]:
        mine = [d for d in decisions if lane in (None, d["lane"])]
        assert figures.crossings == len(mine)
        codes = Counter(reason["code"] for d in mine for reason in d["payload"]["reasons"])
        assert {top["code"]: top["count"] for top in figures.top_reasons} == codes
        assert figures.agreement["overridden"] == sum(1 for d in overruled if lane in (None, d["lane"]))
        assert [o["crossing_id"] for o in figures.overrides] == newest_overruled(lane)
        assert sum(slot["crossings"] for slot in figures.series) == len(mine)
        assert sum(slot["CLEAR"] + slot["REFER"] + slot["DENY"] for slot in figures.series) == len(mine)
        assert sum(bin_["count"] for bin_ in figures.face_scores) == len(mine)  # every seeded crossing has a score
    alone = build_report(ledger.db, START - 1, START + 31 * 86400, lane="lane-1", bucket="hour")
    assert alone.lanes == ["lane-1"]
    assert asdict(alone.per_lane[0]) == asdict(by_lane["lane-1"]) == {**asdict(alone.total), "lane": "lane-1"}


def test_the_ledger_takes_only_new_records_and_rebuilds_for_another_log(tmp_path):
    audit = AuditLog(tmp_path / "audit")
    seed_history(audit, 20, START, seed=1)
    ledger = ReportLedger(tmp_path / "report.sqlite")
    assert ledger.catch_up(audit.path) == 60
    assert ledger.catch_up(audit.path) == 0, "nothing new"
    seed_history(audit, 5, START + 86400, seed=2)
    assert ledger.catch_up(audit.path) == 15
    audit.close()
    other = AuditLog(tmp_path / "other")  # another checkpoint's log under the same report database
    seed_history(other, 7, START, seed=9)
    other.close()
    ledger.catch_up(other.path)
    assert build_report(ledger.db, START - 1, START + 40 * 86400).total.crossings == 7
    longer = AuditLog(tmp_path / "longer")  # and one longer than the log it was built from
    seed_history(longer, 40, START, seed=4)
    longer.close()
    assert ledger.catch_up(longer.path) == 120
    assert build_report(ledger.db, START - 1, START + 40 * 86400).total.crossings == 40


def test_camera_uptime_comes_from_recorded_state_changes(tmp_path):
    audit = AuditLog(tmp_path / "audit")
    for since, state in ((START, "live"), (START + 600, "reconnecting"), (START + 900, "live")):
        audit.append(CAMERA_STATUS, actor="camera", lane="lane-1",
                     payload={"camera": "lane-1/plate", "state": state, "since": since, "error": None})
    audit.close()
    ledger = ReportLedger(tmp_path / "report.sqlite")
    ledger.catch_up(audit.path)
    report = build_report(ledger.db, START, START + 3600)
    assert report.lanes == ["lane-1"]
    assert report.total.camera_uptime == {"lane-1/plate": round(3300 / 3600, 4)}


@pytest.mark.slow  # the report command in a process of its own
def test_edge_report_writes_one_offline_html_file_and_csv_and_json(tmp_path):
    config_path = tmp_path / "edge.toml"
    config_path.write_text(demo_config_text(tmp_path / "state", free_loopback_port()))
    config = load_config(config_path)
    audit = AuditLog(config.state_dir / config.audit.dir)
    seed_history(audit, 50, START, seed=4)
    audit.close()
    base = [sys.executable, "-m", "edge", "report", "--config", str(config_path), "--from", "2026-05-01",
            "--to", "2026-07-01", "--bucket", "day"]
    page = tmp_path / "report.html"
    run = subprocess.run([*base, "--output", str(page)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    html = page.read_text()
    assert html.count("<svg") >= 3 * 3  # a time series, a funnel and a histogram for every lane and the whole
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html
    as_json = subprocess.run([*base, "--format", "json"], capture_output=True, text=True, timeout=120)
    assert json.loads(as_json.stdout)["total"]["crossings"] == 50
    as_csv = subprocess.run([*base, "--format", "csv", "--lane", "lane-1"], capture_output=True, text=True,
                            timeout=120)
    rows = as_csv.stdout.splitlines()
    assert rows[0].startswith("lane,bucket_start,crossings") and any(r.startswith("all,whole period,25") for r in rows)
    refused = subprocess.run([*base, "--lane", "lane-9"], capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "no lane 'lane-9'" in refused.stderr


@pytest.mark.slow  # the demo service in a process of its own
@pytest.mark.timeout(300)
def test_the_report_bench_reads_the_seeded_history_back_through_the_service():
    run = subprocess.run([sys.executable, "-m", "edge", "bench", "report", "--crossings", "300", "--service"],
                         capture_output=True, text=True, timeout=280)
    assert run.returncode == 0, run.stderr[-3000:]
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    # The supervisor's JSON, fetched over HTTP from the running service, counts the history it was given.
    assert figures["counted"] == figures["service_counted"] == 300
    assert figures["first_page_s"] > 0 and 0 < figures["page_s_median"] <= figures["page_s_max"]
