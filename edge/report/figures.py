"""The supervisor's figures for a period, from the report's database: how the checkpoint worked.

Everything is counted by the crossing's arrival time (`opened_at`) inside [start, end), for every
lane or one. Times are seconds; percentiles are nearest-rank over the crossings that have both ends.
"""

from __future__ import annotations

import math
import sqlite3
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from functools import reduce

import numpy as np

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
_SLOT = "CAST((opened_at - :start) / :size AS INTEGER)"

# Every count of a lane's figures in one pass over its crossings: (field, value) -> SQL.
_COUNTED = {
    **{("outcomes", v): f"outcome = '{v}'" for v in OUTCOMES},
    **{("agreement", v): f"agreement = '{v}'" for v in AGREEMENTS},
    **{("plate_reads", v): f"plate = '{v}'" for v in ("sure", "unsure", "none")},
    **{("faces", v): f"face = '{v}'" for v in ("match", "mismatch", "none")},
}
# The sums, in order: crossings, decided, acted, barrier opened, document read, then those of _COUNTED.
_SUMS = ("COUNT(*), COUNT(decided_at), COUNT(action_at), COALESCE(SUM(barrier_opened), 0), "
         "COALESCE(SUM(document), 0), " + ", ".join(f"COALESCE(SUM({test}), 0)" for test in _COUNTED.values()))
_NO_SUMS = (0,) * (5 + len(_COUNTED))
_OUTCOME_SUMS = [5 + list(_COUNTED).index(("outcomes", outcome)) for outcome in OUTCOMES]


def _added(one: tuple[int, ...], other: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(map(sum, zip(one, other, strict=True)))


@dataclass(frozen=True)
class _Tally:
    """What the period's crossings of one lane add up to. The counts are read by queries grouped by
    lane and the times by one query per lane, not once per lane and once more for all of them (a
    month is 100,000 rows); the whole checkpoint's tally is the lanes' tallies added up."""

    slots: dict[int, tuple[int, ...]] = field(default_factory=dict)  # slot (hour or day) -> the sums of _SUMS
    # A row per crossing: slot, arrival to decision, decision to action, 1:1 score (NaN: not known).
    times: np.ndarray = field(default_factory=lambda: np.empty((0, 4)))
    reasons: Counter[str] = field(default_factory=Counter)
    hits: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (list, action, outcome)
    overrides: tuple[tuple, ...] = ()  # (action_at, crossing_id, lane, outcome, action, actor, reason), newest first

    @property
    def sums(self) -> tuple[int, ...]:
        """The period's sums of _SUMS."""
        return reduce(_added, self.slots.values(), _NO_SUMS)

    def __add__(self, other: _Tally) -> _Tally:
        return _Tally(
            {slot: _added(self.slots.get(slot, _NO_SUMS), other.slots.get(slot, _NO_SUMS))
             for slot in sorted(self.slots.keys() | other.slots.keys())},
            np.concatenate((self.times, other.times)), self.reasons + other.reasons, self.hits + other.hits,
            tuple(sorted(self.overrides + other.overrides, reverse=True)[:OVERRIDES_LISTED]))


def build_report(db: sqlite3.Connection, start: float, end: float, lane: str | None = None,
                 bucket: str = "hour") -> Report:
    period = {"start": start, "end": end, "lane": lane, "size": BUCKETS[bucket]}
    tallies = _tallies(db, period)
    lanes = sorted(tallies.keys() | _event_lanes(db, lane))
    per_lane = [_figures(db, {**period, "lane": name}, name, tallies.get(name, _Tally())) for name in lanes]
    total = _figures(db, period, "all", sum(tallies.values(), _Tally()))
    alarms = [dict(zip(("reason", "problem", "since", "cleared_at"), row, strict=True)) for row in db.execute(
        "SELECT reason, problem, since, cleared_at FROM storage_alarms WHERE cleared_at >= ? AND since < ? "
        "ORDER BY since", (start, end))]
    return Report(start, end, bucket, lanes, total, per_lane, alarms)


def _tallies(db: sqlite3.Connection, period: dict) -> dict[str, _Tally]:
    """Each lane's tally of the period."""
    slots: dict[str, dict[int, tuple[int, ...]]] = defaultdict(dict)
    for lane, slot, *sums in db.execute(
            f"SELECT lane, {_SLOT} AS slot, {_SUMS} FROM crossings WHERE {_PERIOD} GROUP BY lane, slot", period):
        slots[lane][slot] = tuple(sums)
    # Percentiles need every crossing's times: one array per lane, built without a Python loop per row.
    times = {lane: np.array(db.execute(
        f"SELECT {_SLOT}, MAX(0, decided_at - opened_at), MAX(0, action_at - decided_at), face_score "
        f"FROM crossings WHERE {_PERIOD}", {**period, "lane": lane}).fetchall(), dtype=float).reshape(-1, 4)
        for lane in slots}
    reasons: dict[str, Counter[str]] = defaultdict(Counter)
    for lane, code, count in db.execute(f"SELECT lane, code, COUNT(*) FROM crossings JOIN reasons USING "
                                        f"(crossing_id) WHERE {_PERIOD} GROUP BY lane, code", period):
        reasons[lane][code] = count
    hits: dict[str, Counter[tuple[str, str, str]]] = defaultdict(Counter)
    for lane, *hit, count in db.execute(
            "SELECT c.lane, h.list, h.action, COALESCE(c.outcome, 'undecided'), COUNT(*) FROM hits h JOIN "
            f"crossings c USING (crossing_id) WHERE {_PERIOD} GROUP BY 1, 2, 3, 4", period):
        hits[lane][tuple(hit)] = count
    overrides: dict[str, list[tuple]] = defaultdict(list)
    for row in db.execute(
            "SELECT action_at, crossing_id, lane, outcome, action, actor, action_reason FROM (SELECT *, "
            "ROW_NUMBER() OVER (PARTITION BY lane ORDER BY action_at DESC) AS newest FROM crossings WHERE "
            f"{_PERIOD} AND agreement IN ('overridden', 'softer')) WHERE newest <= {OVERRIDES_LISTED} "
            "ORDER BY action_at DESC", period):
        overrides[row[2]].append(tuple(row))
    return {lane: _Tally(slots[lane], times[lane], reasons[lane], hits[lane], tuple(overrides[lane]))
            for lane in slots}


def _event_lanes(db: sqlite3.Connection, lane: str | None) -> set[str]:
    if lane is not None:
        return {lane}
    return {row[0] for row in db.execute("SELECT DISTINCT lane FROM camera_events UNION "
                                         "SELECT DISTINCT lane FROM device_events WHERE lane IS NOT NULL")}


def _figures(db: sqlite3.Connection, period: dict, name: str, tally: _Tally) -> LaneFigures:
    sums = tally.sums
    crossings, decided, acted, opened, documents = sums[:5]
    hours = max((period["end"] - period["start"]) / 3600, 1e-9)
    figures = LaneFigures(name, crossings=crossings, decided=decided, acted=acted, barrier_opened=opened,
                          throughput_per_hour=round(crossings / hours, 2), documents_read=documents)
    for (field_name, value), count in zip(_COUNTED, sums[5:], strict=True):
        getattr(figures, field_name)[value] = count
    figures.arrival_to_decision_s = _spread(tally.times[:, 1])
    figures.decision_to_action_s = _spread(tally.times[:, 2])
    figures.top_reasons = [{"code": code, "count": count}
                           for code, count in sorted(tally.reasons.items(), key=lambda item: (-item[1], item[0]))[:10]]
    figures.hits = [{"list": list_id, "action": action, "outcome": outcome, "count": count}
                    for (list_id, action, outcome), count in sorted(tally.hits.items())]
    figures.overrides = [dict(zip(("crossing_id", "lane", "outcome", "action", "actor", "action_reason"), row[1:],
                                  strict=True)) for row in tally.overrides]
    figures.face_scores = _score_histogram(tally.times[:, 3])
    figures.device_faults = _device_faults(db, period["start"], period["end"], period["lane"])
    figures.camera_uptime = _camera_uptime(db, period["start"], period["end"], period["lane"])
    figures.series = _series(period, tally)
    return figures


def _spread(values: np.ndarray) -> Spread:
    """p50 and p95, nearest rank, of the values that are known (not NaN)."""
    known = np.sort(values[~np.isnan(values)])
    if not known.size:
        return Spread(None, None, 0)

    def rank(share: float) -> float:
        return round(float(known[max(0, math.ceil(share * known.size) - 1)]), 3)

    return Spread(rank(0.5), rank(0.95), int(known.size))


def _score_histogram(scores: np.ndarray) -> list[dict]:
    scores = scores[~np.isnan(scores)]
    if not scores.size:
        return []
    low, high = float(scores.min()), float(scores.max())
    if high - low < 1e-6:  # one score, or all the same: a narrow span around it, not a 0-wide bin
        low, high = low - 0.05, high + 0.05
    width = (high - low) / SCORE_BINS
    counts = np.bincount(np.minimum(SCORE_BINS - 1, ((scores - low) / width).astype(int)), minlength=SCORE_BINS)
    return [{"from": round(low + i * width, 4), "to": round(low + (i + 1) * width, 4), "count": int(counts[i])}
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


def _series(period: dict, tally: _Tally) -> list[dict]:
    """Per hour or day of the period: crossings, the decision mix, and the median wait for a decision."""
    if not tally.slots:
        return []
    # The waits sorted by slot and cut where the slot changes: one sort, not a scan of the period per slot.
    by_slot = tally.times[np.argsort(tally.times[:, 0], kind="stable")]
    slots, firsts = np.unique(by_slot[:, 0], return_index=True)
    waits = dict(zip(slots.astype(int).tolist(), np.split(by_slot[:, 1], firsts[1:]), strict=True))
    return [{"start": period["start"] + slot * period["size"], "crossings": sums[0],
             **{outcome: sums[column] for outcome, column in zip(OUTCOMES, _OUTCOME_SUMS, strict=True)},
             "arrival_to_decision_p50_s": _spread(waits[slot]).p50} for slot, sums in sorted(tally.slots.items())]
