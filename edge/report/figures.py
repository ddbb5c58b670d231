"""The supervisor's figures for a period, from the report's database: how the checkpoint worked.

Everything is counted by the crossing's arrival time (`opened_at`) inside [start, end), for every
lane or one. Times are seconds; percentiles are nearest-rank over the crossings that have both ends.
"""

from __future__ import annotations

import math
import sqlite3
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field

OUTCOMES = ("CLEAR", "REFER", "DENY")
AGREEMENTS = ("agreed", "stricter", "softer", "overridden")
SCORE_BINS = 20  # the 1:1 score histogram's bins between its lowest and highest score
BUCKETS = {"hour": 3600, "day": 86400}


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(share * len(ordered)) - 1)], 3)


@dataclass(frozen=True)
class Spread:
    p50: float | None
    p95: float | None
    count: int

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        return cls(percentile(values, 0.5), percentile(values, 0.95), len(values))


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


_CROSSING_COLUMNS = ("crossing_id", "lane", "opened_at", "decided_at", "outcome", "plate", "document", "face",
                     "face_score", "action", "action_at", "actor", "action_reason", "agreement", "barrier_opened")


def build_report(db: sqlite3.Connection, start: float, end: float, lane: str | None = None,
                 bucket: str = "hour") -> Report:
    rows = [dict(zip(_CROSSING_COLUMNS, row, strict=True)) for row in db.execute(
        f"SELECT {', '.join(_CROSSING_COLUMNS)} FROM crossings WHERE opened_at >= ? AND opened_at < ? "
        "AND (? IS NULL OR lane = ?) ORDER BY opened_at", (start, end, lane, lane))]
    reasons = _by_crossing(db, "SELECT r.crossing_id, r.code FROM reasons r JOIN crossings c USING (crossing_id) "
                               "WHERE c.opened_at >= ? AND c.opened_at < ?", start, end)
    hits = _by_crossing(db, "SELECT h.crossing_id, h.list || ' ' || h.action FROM hits h "
                            "JOIN crossings c USING (crossing_id) WHERE c.opened_at >= ? AND c.opened_at < ?",
                        start, end)
    lanes = sorted({row["lane"] for row in rows} | _event_lanes(db, lane))
    per_lane = [_figures(name, [r for r in rows if r["lane"] == name], reasons, hits, db, start, end, bucket)
                for name in lanes]
    total = _figures("all", rows, reasons, hits, db, start, end, bucket, lane)
    alarms = [dict(zip(("reason", "problem", "since", "cleared_at"), row, strict=True)) for row in db.execute(
        "SELECT reason, problem, since, cleared_at FROM storage_alarms WHERE cleared_at >= ? AND since < ? "
        "ORDER BY since", (start, end))]
    return Report(start, end, bucket, lanes, total, per_lane, alarms)


def _by_crossing(db: sqlite3.Connection, query: str, start: float, end: float) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for crossing_id, value in db.execute(query, (start, end)):
        found[crossing_id].append(value)
    return found


def _event_lanes(db: sqlite3.Connection, lane: str | None) -> set[str]:
    if lane is not None:
        return {lane}
    return {row[0] for row in db.execute("SELECT DISTINCT lane FROM camera_events UNION "
                                         "SELECT DISTINCT lane FROM device_events WHERE lane IS NOT NULL")}


def _figures(name: str, rows: list[dict], reasons: dict[str, list[str]], hits: dict[str, list[str]],
             db: sqlite3.Connection, start: float, end: float, bucket: str, only: str | None = None) -> LaneFigures:
    lane = None if name == "all" else name
    figures = LaneFigures(name, crossings=len(rows))
    figures.throughput_per_hour = round(len(rows) / max((end - start) / 3600, 1e-9), 2)
    _timings(figures, rows)
    _decisions(figures, rows, reasons, hits)
    _reads(figures, rows)
    figures.device_faults = _device_faults(db, start, end, lane if lane is not None else only)
    figures.camera_uptime = _camera_uptime(db, start, end, lane if lane is not None else only)
    figures.series = _series(rows, start, bucket)
    return figures


def _timings(figures: LaneFigures, rows: list[dict]) -> None:
    decided = [r for r in rows if r["decided_at"] is not None]
    acted = [r for r in decided if r["action_at"] is not None]
    figures.decided, figures.acted = len(decided), len(acted)
    figures.barrier_opened = sum(1 for r in rows if r["barrier_opened"])
    figures.arrival_to_decision_s = Spread.of([max(0.0, r["decided_at"] - r["opened_at"]) for r in decided])
    figures.decision_to_action_s = Spread.of([max(0.0, r["action_at"] - r["decided_at"]) for r in acted])


def _decisions(figures: LaneFigures, rows: list[dict], reasons: dict[str, list[str]],
               hits: dict[str, list[str]]) -> None:
    codes: Counter[str] = Counter()
    hit_counts: Counter[tuple[str, str, str]] = Counter()
    for row in rows:
        if row["outcome"] in figures.outcomes:
            figures.outcomes[row["outcome"]] += 1
        codes.update(reasons.get(row["crossing_id"], ()))
        for hit in hits.get(row["crossing_id"], ()):
            list_id, action = hit.rsplit(" ", 1)
            hit_counts[(list_id, action, row["outcome"] or "undecided")] += 1
        if row["agreement"] in figures.agreement:
            figures.agreement[row["agreement"]] += 1
        if row["agreement"] in ("overridden", "softer", "stricter"):
            figures.overrides.append({key: row[key] for key in ("crossing_id", "lane", "outcome", "action", "actor",
                                                                 "action_reason")})
    figures.top_reasons = [{"code": code, "count": count} for code, count in codes.most_common(10)]
    figures.hits = [{"list": list_id, "action": action, "outcome": outcome, "count": count}
                    for (list_id, action, outcome), count in sorted(hit_counts.items())]


def _reads(figures: LaneFigures, rows: list[dict]) -> None:
    scores = []
    for row in rows:
        if row["plate"] in figures.plate_reads:
            figures.plate_reads[row["plate"]] += 1
        figures.documents_read += row["document"] or 0
        if row["face"] in figures.faces:
            figures.faces[row["face"]] += 1
        if row["face_score"] is not None:
            scores.append(row["face_score"])
    figures.face_scores = histogram(scores, SCORE_BINS)


def histogram(values: list[float], bins: int) -> list[dict]:
    if not values:
        return []
    low, high = min(values), max(values)
    width = (high - low) / bins or 1.0
    counts = [0] * bins
    for value in values:
        counts[min(bins - 1, int((value - low) / width))] += 1
    return [{"from": round(low + i * width, 4), "to": round(low + (i + 1) * width, 4), "count": count}
            for i, count in enumerate(counts)]


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


def _series(rows: list[dict], start: float, bucket: str) -> list[dict]:
    size = BUCKETS[bucket]
    slots: dict[int, dict] = {}
    for row in rows:
        index = int((row["opened_at"] - start) // size)
        slot = slots.setdefault(index, {"start": start + index * size, "crossings": 0, **dict.fromkeys(OUTCOMES, 0),
                                        "waits": []})
        slot["crossings"] += 1
        if row["outcome"] in OUTCOMES:
            slot[row["outcome"]] += 1
        if row["decided_at"] is not None:
            slot["waits"].append(max(0.0, row["decided_at"] - row["opened_at"]))
    series = []
    for index in sorted(slots):
        slot = slots[index]
        waits = slot.pop("waits")
        series.append({**slot, "arrival_to_decision_p50_s": percentile(waits, 0.5)})
    return series
