"""Is the cache too old to trust on its own, and what does the crossing do about it?

A list's age is the time since the authority created the bundle that brought its version (the
signed `created`, not the time it arrived: a replayed or long-delayed copy cannot look fresh).
Authorities publish at least a heartbeat delta (possibly empty) more often than the max age.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from edge.watchlist import utc
from edge.watchlist.store import ListState


class StalePolicy(StrEnum):
    WARN = "warn"  # alarm only: decisions as usual
    REFER_ALL = "refer_all"  # every crossing goes to the officer as a referral
    NO_AUTO_CLEAR = "no_auto_clear"  # auto-clear lanes fall back to officer confirmation


@dataclass(frozen=True, slots=True)
class Staleness:
    stale: bool
    policy: StalePolicy
    max_age_s: float
    oldest_age_s: float | None  # None when no list has been applied yet
    reasons: tuple[str, ...]  # why it is stale, one sentence each

    @property
    def refer_all(self) -> bool:
        return self.stale and self.policy is StalePolicy.REFER_ALL

    @property
    def auto_clear_allowed(self) -> bool:
        return not self.stale or self.policy is StalePolicy.WARN


def assess(
    lists: Mapping[str, ListState],
    *,
    now: float,
    max_age_s: float,
    policy: StalePolicy,
    required_lists: Iterable[str] = (),
) -> Staleness:
    reasons = []
    if not lists:
        reasons.append("no watchlist has been applied yet")
    for list_id in required_lists:
        if list_id not in lists:
            reasons.append(f"required list {list_id!r} has never been applied")
    for state in lists.values():
        age = now - state.created
        if age > max_age_s:
            reasons.append(
                f"{state.list_id} version {state.version} is {age / 3600:.1f} h old (max {max_age_s / 3600:.1f} h)"
            )
        if state.expires <= now:
            reasons.append(f"{state.list_id} version {state.version} expired at {utc.render(state.expires)}")
    oldest = max((now - s.created for s in lists.values()), default=None)
    return Staleness(bool(reasons), policy, max_age_s, oldest, tuple(reasons))
