"""A report as JSON, CSV or one HTML file that opens offline (styles inline, charts as inline SVG)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from edge.report import charts
from edge.report.figures import LaneFigures, Report

# Inlined into the offline file; the kiosk serves it as a file instead (its CSP allows no inline styles).
STYLESHEET = Path(__file__).with_name("report.css")


def when(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M UTC")


def as_json(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2)


def as_csv(report: Report) -> str:
    """One row per lane and bucket (the time series), then one row per lane for the whole period."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["lane", "bucket_start", "crossings", "CLEAR", "REFER", "DENY", "arrival_to_decision_p50_s",
                     "decision_to_action_p50_s", "decision_to_action_p95_s", "agreed", "overridden",
                     "plates_sure", "plates_unsure", "plates_none", "documents_read", "faces_compared"])
    for figures in [*report.per_lane, report.total]:
        for slot in figures.series:
            writer.writerow([figures.lane, when(slot["start"]), slot["crossings"], slot["CLEAR"], slot["REFER"],
                             slot["DENY"], slot["arrival_to_decision_p50_s"], "", "", "", "", "", "", "", "", ""])
        writer.writerow([figures.lane, "whole period", figures.crossings, *figures.outcomes.values(),
                         figures.arrival_to_decision_s.p50, figures.decision_to_action_s.p50,
                         figures.decision_to_action_s.p95, figures.agreement["agreed"],
                         figures.agreement["overridden"], *figures.plate_reads.values(), figures.documents_read,
                         figures.faces["match"] + figures.faces["mismatch"]])
    return out.getvalue()


def _table(headers: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape('' if v is None else str(v))}</td>" for v in row) + "</tr>"
                   for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _lane_section(figures: LaneFigures, bucket: str) -> str:
    title = "Every lane" if figures.lane == "all" else f"Lane {figures.lane}"
    a, b = figures.arrival_to_decision_s, figures.decision_to_action_s
    stamp = "%H:%M" if bucket == "hour" else "%m-%d"
    labels = [datetime.fromtimestamp(s["start"], UTC).strftime(stamp) for s in figures.series]
    stacks = [{o: s[o] for o in ("CLEAR", "REFER", "DENY")} for s in figures.series]
    passed = figures.barrier_opened
    return "".join([
        f'<section data-lane="{escape(figures.lane)}"><h2>{escape(title)}</h2><div class="tables">',
        _table(["crossings", "per hour", "decided", "acted on", "barrier opened"],
               [[figures.crossings, figures.throughput_per_hour, figures.decided, figures.acted, passed]]),
        _table(["wait", "p50 s", "p95 s", "crossings"],
               [["arrival to decision", a.p50, a.p95, a.count], ["decision to officer", b.p50, b.p95, b.count]]),
        '</div><div class="charts">',
        charts.stacked_bars(f"Crossings per {bucket}, by decision", labels, stacks),
        charts.funnel("From arrival to the barrier", [("arrived", figures.crossings), ("decided", figures.decided),
                                                      ("acted on", figures.acted), ("barrier opened", passed)]),
        charts.histogram("1:1 face scores", figures.face_scores),
        '</div><div class="tables">',
        _table(["decision", "count"], [[k, v] for k, v in figures.outcomes.items()]),
        _table(["top reason", "count"], [[r["code"], r["count"]] for r in figures.top_reasons]),
        _table(["officer and decision", "count"], [[k, v] for k, v in figures.agreement.items()]),
        _table(["crossing", "lane", "decision", "action", "by", "reason"],
               [[o["crossing_id"], o["lane"], o["outcome"], o["action"], o["actor"], o["action_reason"]]
                for o in figures.overrides]) if figures.overrides else "",
        _table(["watchlist", "hit", "decision", "count"],
               [[h["list"], h["action"], h["outcome"], h["count"]] for h in figures.hits]) if figures.hits else "",
        _table(["plate sure", "plate unsure", "no plate", "document read", "face matched", "face not matched",
                "face not compared"],
               [[*figures.plate_reads.values(), figures.documents_read, *figures.faces.values()]]),
        _table(["device", "state", "times"], [[d["device"], d["state"], d["count"]] for d in figures.device_faults])
        if figures.device_faults else "",
        _table(["camera", "live"], [[c, f"{100 * share:.1f}%"] for c, share in figures.camera_uptime.items()])
        if figures.camera_uptime else "",
        "</div></section>",
    ])


def report_body(report: Report) -> str:
    """The report as HTML to put in a page: the period, any storage alarms, then every lane's section."""
    alarms = _table(["storage alarm", "from", "until"],
                    [[a["problem"], when(a["since"]), when(a["cleared_at"])] for a in report.storage_alarms])
    sections = [_lane_section(report.total, report.bucket)] + [_lane_section(f, report.bucket) for f in report.per_lane]
    return "".join([
        f"<p>{when(report.start)} to {when(report.end)}, per {report.bucket}; "
        f"lanes: {escape(', '.join(report.lanes) or 'none')}.</p>",
        alarms if report.storage_alarms else "",
        *sections,
    ])


def as_html(report: Report, title: str = "Checkpoint effectiveness") -> str:
    """One file that opens offline: the styles inline, the charts inline SVG."""
    return "".join([
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>',
        f"<style>{STYLESHEET.read_text(encoding='utf-8')}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        report_body(report),
        "</body></html>",
    ])
