"""The supervisor's figures for a period, from the report's database: how the checkpoint worked.

Everything is counted by the crossing's arrival time (`opened_at`) inside [start, end), for every
lane or one. Times are seconds; percentiles are nearest-rank over the crossings that have both ends.
"""

from __future__ import annotations

import math
import sqlite3
from collections import defaultdict
from dataclasses import asdict, dataclass, field

OUTCOMES = ("CLEAR", "REFER", "DENY")
AGREEMENTS = ("agreed", "stricter", "softer", "overridden")
SCORE_BINS = 20  # the 1:1 score histogram's bins between its lowest and highest score
BUCKETS = {"hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Spread:
    p50: float | None
    p95: float | None
    count: int


@dataclass
class LaneFigures:
    """One lane's figures (or every lane's, as `lane = "all"`) for the period."""

    lane: str
    crossings: int = 0
    decided: int = 0
    acted: int = 0
    barrier_opened: int = 0
    throughput_per_hour: float = 0.0
    arrival_to_decision_s: Spread = Spread(None, None, 0)
    decision_to_action_s: Spread = Spread(None, None, 0)
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    top_reasons: list[dict] = field(default_factory=list)
    agreement: dict[str, int] = field(default_factory=lambda: dict.fromkeys(AGREEMENTS, 0))
    overrides: list[dict] = field(default_factory=list)
    hits: list[dict] = field(default_factory=list)
    plate_reads: dict[str, int] = field(default_factory=lambda: {"sure": 0, "unsure": 0, "none": 0})
    documents_read: int = 0
    faces: dict[str, int] = field(default_factory=lambda: {"match": 0, "mismatch": 0, "none": 0})
    face_scores: list[dict] = field(default_factory=list)  # histogram: bin start, end, count
    device_faults: list[dict] = field(default_factory=list)
    camera_uptime: dict[str, float] = field(default_factory=dict)  # camera -> share of the period live
    series: list[dict] = field(default_factory=list)  # per hour or day


@dataclass
class Report:
    start: float
    end: float
    bucket: str
    lanes: list[str]
    total: LaneFigures
    per_lane: list[LaneFigures]
    storage_alarms: list[dict]

    def to_json(self) -> dict:
        return asdict(self)


OVERRIDES_LISTED = 50  # the latest overrules by name; all of them are counted in `agreement`
# The period's crossings (and one lane's, when :lane is not null); every figure below reads from it.
_PERIOD = "opened_at >= :start AND opened_at < :end AND (:lane IS NULL OR lane = :lane)"


def build_report(db: sqlite3.Connection, start: float, end: float, lane: str | None = None,
                 bucket: str = "hour") -> Report:
    period = {"start": start, "end": end, "lane": lane, "size": BUCKETS[bucket]}
    lanes = sorted({row[0] for row in db.execute(f"SELECT DISTINCT lane FROM crossings WHERE {_PERIOD}", period)}
                   | _event_lanes(db, lane))
    # The waits need every crossing's times (percentiles); they are read once and shared out by lane.
    times = db.execute("SELECT lane, CAST((opened_at - :start) / :size AS INTEGER), MAX(0, decided_at - opened_at), "
                       f"MAX(0, action_at - decided_at) FROM crossings WHERE {_PERIOD}", period).fetchall()
    per_lane = [_figures(db, {**period, "lane": name}, name, [t for t in times if t[0] == name]) for name in lanes]
    total = _figures(db, period, "all", times)
    alarms = [dict(zip(("reason", "problem", "since", "cleared_at"), row, strict=True)) for row in db.execute(
        "SELECT reason, problem, since, cleared_at FROM storage_alarms WHERE cleared_at >= ? AND since < ? "
        "ORDER BY since", (start, end))]
    return Report(start, end, bucket, lanes, total, per_lane, alarms)


def _event_lanes(db: sqlite3.Connection, lane: str | None) -> set[str]:
    if lane is not None:
        return {lane}
    return {row[0] for row in db.execute("SELECT DISTINCT lane FROM camera_events UNION "
                                         "SELECT DISTINCT lane FROM device_events WHERE lane IS NOT NULL")}


# Every count of a lane's figures in one pass over its crossings: (field, value) -> SQL.
_COUNTED = {
    **{("outcomes", v): f"outcome = '{v}'" for v in OUTCOMES},
    **{("agreement", v): f"agreement = '{v}'" for v in AGREEMENTS},
    **{("plate_reads", v): f"plate = '{v}'" for v in ("sure", "unsure", "none")},
    **{("faces", v): f"face = '{v}'" for v in ("match", "mismatch", "none")},
}


def _figures(db: sqlite3.Connection, period: dict, name: str, times: list[tuple]) -> LaneFigures:
    """`times`: (lane, slot, arrival-to-decision, decision-to-action) of the crossings counted here."""
    row = db.execute(
        "SELECT COUNT(*), COUNT(decided_at), COUNT(action_at), COALESCE(SUM(barrier_opened), 0), "
        "COALESCE(SUM(document), 0), MIN(face_score), MAX(face_score), "
        + ", ".join(f"COALESCE(SUM({test}), 0)" for test in _COUNTED.values())
        + f" FROM crossings WHERE {_PERIOD}", period).fetchone()
    crossings, decided, acted, opened, documents, low_score, high_score = row[:7]
    hours = max((period["end"] - period["start"]) / 3600, 1e-9)
    figures = LaneFigures(name, crossings=crossings, decided=decided, acted=acted, barrier_opened=opened,
                          throughput_per_hour=round(crossings / hours, 2), documents_read=documents)
    for (field_name, value), count in zip(_COUNTED, row[7:], strict=True):
        getattr(figures, field_name)[value] = count
    figures.arrival_to_decision_s = _spread([t[2] for t in times if t[2] is not None])
    figures.decision_to_action_s = _spread([t[3] for t in times if t[3] is not None])
    figures.top_reasons = [{"code": code, "count": count} for code, count in db.execute(
        f"SELECT code, COUNT(*) AS n FROM crossings JOIN reasons USING (crossing_id) WHERE {_PERIOD} "
        "GROUP BY code ORDER BY n DESC, code LIMIT 10", period)]
    figures.hits = [{"list": list_id, "action": action, "outcome": outcome, "count": count}
                    for list_id, action, outcome, count in db.execute(
        "SELECT h.list, h.action, COALESCE(c.outcome, 'undecided'), COUNT(*) FROM hits h JOIN crossings c "
        f"USING (crossing_id) WHERE {_PERIOD} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3", period)]
    figures.overrides = [dict(zip(("crossing_id", "lane", "outcome", "action", "actor", "action_reason"), row,
                                  strict=True)) for row in db.execute(
        "SELECT crossing_id, lane, outcome, action, actor, action_reason FROM crossings WHERE "
        f"{_PERIOD} AND agreement IN ('overridden', 'softer') ORDER BY action_at DESC LIMIT {OVERRIDES_LISTED}",
        period)]
    figures.face_scores = _score_histogram(db, period, low_score, high_score)
    figures.device_faults = _device_faults(db, period["start"], period["end"], period["lane"])
    figures.camera_uptime = _camera_uptime(db, period["start"], period["end"], period["lane"])
    figures.series = _series(db, period, times)
    return figures


def _spread(values: list[float]) -> Spread:
    """p50 and p95, nearest rank."""
    if not values:
        return Spread(None, None, 0)
    values.sort()

    def rank(share: float) -> float:
        return round(values[max(0, math.ceil(share * len(values)) - 1)], 3)

    return Spread(rank(0.5), rank(0.95), len(values))


def _score_histogram(db: sqlite3.Connection, period: dict, low: float | None, high: float | None) -> list[dict]:
    if low is None or high is None:
        return []
    if high - low < 1e-6:  # one score, or all the same: a narrow span around it, not a 0-wide bin
        low, high = low - 0.05, high + 0.05
    width = (high - low) / SCORE_BINS
    counts = dict(db.execute(
        f"SELECT MIN({SCORE_BINS - 1}, CAST((face_score - :low) / :width AS INTEGER)) AS bin, COUNT(*) "
        f"FROM crossings WHERE {_PERIOD} AND face_score IS NOT NULL GROUP BY bin", {**period, "low": low,
                                                                                     "width": width}))
    return [{"from": round(low + i * width, 4), "to": round(low + (i + 1) * width, 4), "count": counts.get(i, 0)}
            for i in range(SCORE_BINS)]


def _device_faults(db: sqlite3.Connection, start: float, end: float, lane: str | None) -> list[dict]:
    return [{"device": device, "state": state, "count": count} for device, state, count in db.execute(
        "SELECT device, state, COUNT(*) FROM device_events WHERE at >= ? AND at < ? AND state != 'online' "
        "AND (? IS NULL OR lane = ?) GROUP BY device, state ORDER BY device, state", (start, end, lane, lane))]


def _camera_uptime(db: sqlite3.Connection, start: float, end: float, lane: str | None) -> dict[str, float]:
    """Each camera's share in the live state of the part of [start, end) since its first recorded
    state; a camera with no state recorded before `end` is not known and not listed."""
    changes: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for camera, state, at in db.execute("SELECT camera, state, at FROM camera_events WHERE at < ? "
                                        "AND (? IS NULL OR lane = ?) ORDER BY at", (end, lane, lane)):
        changes[camera].append((at, state))
    uptime = {}
    for camera, events in sorted(changes.items()):
        live = 0.0
        for (at, state), following in zip(events, [*events[1:], (end, "")], strict=True):
            if state == "live":
                live += max(0.0, min(following[0], end) - max(at, start))
        known_from = max(start, events[0][0])
        uptime[camera] = round(live / (end - known_from), 4) if end > known_from else 0.0
    return uptime


def _series(db: sqlite3.Connection, period: dict, times: list[tuple]) -> list[dict]:
    """Per hour or day of the period: crossings, the decision mix, and the median wait for a decision."""
    waits: dict[int, list[float]] = defaultdict(list)
    for _, slot, wait, _ in times:
        if wait is not None:
            waits[slot].append(wait)
    return [{"start": period["start"] + slot * period["size"], "crossings": crossings, "CLEAR": clear,
             "REFER": refer, "DENY": deny, "arrival_to_decision_p50_s": _spread(waits[slot]).p50}
            for slot, crossings, clear, refer, deny in db.execute(
        "SELECT CAST((opened_at - :start) / :size AS INTEGER) AS slot, COUNT(*), SUM(outcome = 'CLEAR'), "
        f"SUM(outcome = 'REFER'), SUM(outcome = 'DENY') FROM crossings WHERE {_PERIOD} GROUP BY slot ORDER BY slot",
        period)]
