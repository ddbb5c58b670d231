"""Staleness: the alarm and its policies; the runtime that syncs in the background from config."""

from __future__ import annotations

import time

import pytest

from edge.config import WatchlistConfig
from edge.watchlist.runtime import WatchlistRuntime
from edge.watchlist.staleness import StalePolicy, assess
from edge.watchlist.store import ListState
from tests.support.watchlist_authority import Authority, plate

HOUR = 3600.0
NOW = 1_800_000_000.0


def _list(list_id: str, age_h: float, expires_in_h: float = 48) -> ListState:
    created = int(NOW - age_h * HOUR)
    return ListState(list_id, 1, 3, created, int(NOW + expires_in_h * HOUR), created, 10, "0" * 64, "k1", "0" * 64)


@pytest.mark.parametrize(
    ("policy", "refer_all", "auto_clear"),
    [(StalePolicy.WARN, False, True), (StalePolicy.REFER_ALL, True, False), (StalePolicy.NO_AUTO_CLEAR, False, False)],
)
def test_policies_act_only_when_stale(policy, refer_all, auto_clear):
    fresh = assess({"v": _list("v", 1)}, now=NOW, max_age_s=24 * HOUR, policy=policy)
    assert not fresh.stale and not fresh.refer_all and fresh.auto_clear_allowed and fresh.reasons == ()
    stale = assess({"v": _list("v", 30)}, now=NOW, max_age_s=24 * HOUR, policy=policy)
    assert stale.stale and stale.refer_all is refer_all and stale.auto_clear_allowed is auto_clear
    assert stale.reasons == ("v version 3 is 30.0 h old (max 24.0 h)",)
    assert stale.oldest_age_s == pytest.approx(30 * HOUR)


def test_missing_empty_and_expired_lists_are_stale():
    empty = assess({}, now=NOW, max_age_s=HOUR, policy=StalePolicy.WARN)
    assert empty.stale and empty.reasons == ("no watchlist has been applied yet",) and empty.oldest_age_s is None
    missing = assess({"v": _list("v", 0)}, now=NOW, max_age_s=HOUR, policy=StalePolicy.WARN,
                     required_lists=["v", "persons"])
    assert missing.reasons == ("required list 'persons' has never been applied",)
    expired = assess({"v": _list("v", 0, expires_in_h=-1)}, now=NOW, max_age_s=HOUR, policy=StalePolicy.WARN)
    assert expired.stale and "expired at" in expired.reasons[0]


def _config(authority: Authority, **overrides) -> WatchlistConfig:
    key = {"id": authority.key_id, "public_key": authority.trusted.public_key}
    return WatchlistConfig(sources=[str(authority.out)], trusted_keys=[key], **overrides)


def test_the_runtime_syncs_looks_up_and_raises_the_alarm_with_age(tmp_path):
    authority = Authority(tmp_path / "authority")
    authority.full("vehicles", [plate("V1", "ABC123")])
    authority.close()
    runtime = WatchlistRuntime(_config(authority, max_age_h=2, stale_policy="refer_all"), tmp_path / "state")
    try:
        assert runtime.staleness().stale  # nothing applied yet
        [report] = runtime.sync_once()
        assert [r.applied for r in report.results] == [True]
        assert (tmp_path / "state" / "watchlist" / "watchlist.sqlite").exists()
        assert [h.record.id for h in runtime.lookup.plate("ABC123", now=time.time())] == ["V1"]
        assert not runtime.staleness().stale
        later = runtime.staleness(now=time.time() + 3 * HOUR)
        assert later.stale and later.refer_all and not later.auto_clear_allowed
    finally:
        runtime.stop()


def test_the_background_loop_picks_up_a_new_version(tmp_path):
    authority = Authority(tmp_path / "authority")
    authority.full("vehicles", [plate("V1", "ABC123")])
    runtime = WatchlistRuntime(_config(authority, sync_interval_s=0.2), tmp_path / "state")
    runtime.start()
    try:
        authority.delta("vehicles", [plate("V2", "NEW222")])
        deadline = time.monotonic() + 60
        while runtime.store.lists().get("vehicles") is None or runtime.store.lists()["vehicles"].version < 2:
            assert time.monotonic() < deadline, "the sync loop did not apply version 2"
            time.sleep(0.05)
        assert [h.record.id for h in runtime.lookup.plate("NEW222", now=time.time())] == ["V2"]
    finally:
        runtime.stop()
        authority.close()
