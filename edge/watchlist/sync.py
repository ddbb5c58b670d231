"""Bring the cache up to date from its sources: the shortest verified path to each list's newest version.

For each list a source offers, the plan is a chain of deltas from the cache's version when one
exists, otherwise the newest full snapshot (and any deltas after it). A refused delta is set
aside and the list is planned again, so a broken delta falls back to a full snapshot. When
nothing can be reached, the cache keeps its last good copy and the staleness check speaks up.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from edge.watchlist.apply import apply_bundle
from edge.watchlist.keys import Keyring
from edge.watchlist.refusal import Refusal, Refused
from edge.watchlist.result import SyncResult
from edge.watchlist.sources import Offer, Source, SourceError
from edge.watchlist.store import WatchlistStore

log = logging.getLogger(__name__)
_MAX_PLANS_PER_LIST = 4  # each refused bundle triggers at most one re-plan; this bounds a hostile source


@dataclass(frozen=True, slots=True)
class SyncReport:
    source: str
    results: tuple[SyncResult, ...]  # one per bundle tried, in order
    error: str | None  # the source could not be read at all


def _delta_chain(start: int, target: int, deltas: list[Offer]) -> list[Offer] | None:
    """The shortest chain of deltas from version `start` to `target` (breadth first)."""
    by_base: dict[int, list[Offer]] = defaultdict(list)
    for delta in deltas:
        if delta.base_version is not None:
            by_base[delta.base_version].append(delta)
    paths: dict[int, list[Offer]] = {start: []}
    frontier = [start]
    while frontier:
        following = []
        for version in frontier:
            for delta in by_base.get(version, []):
                if delta.version not in paths:
                    paths[delta.version] = [*paths[version], delta]
                    following.append(delta.version)
        frontier = following
    return paths.get(target)


def plan(local_version: int | None, offers: list[Offer]) -> list[Offer]:
    """Bundles to apply, in order, to take one list from `local_version` to its newest offered version."""
    newest = max((o.version for o in offers), default=None)
    if newest is None or (local_version is not None and newest <= local_version):
        return []
    deltas = [o for o in offers if o.kind == "delta"]
    if local_version is not None:
        chain = _delta_chain(local_version, newest, deltas)
        if chain:
            return chain
    fulls = [o for o in offers if o.kind == "full" and (local_version is None or o.version > local_version)]
    for full in sorted(fulls, key=lambda o: -o.version):
        chain = _delta_chain(full.version, newest, deltas)
        if chain is not None:
            return [full, *chain]
    return [max(fulls, key=lambda o: o.version)] if fulls else []


class Syncer:
    """Pulls from every configured source in turn; each source only adds what is newer."""

    def __init__(
        self,
        store: WatchlistStore,
        sources: list[Source],
        keyring: Keyring,
        *,
        clock: Callable[[], float] = time.time,
    ):
        self._store = store
        self._sources = sources
        self._keyring = keyring
        self._clock = clock

    def sync_once(self) -> list[SyncReport]:
        return [self._isolated(source) for source in self._sources]

    def _isolated(self, source: Source) -> SyncReport:
        """One source's sync; whatever goes wrong with it, the other sources still sync."""
        try:
            return self.sync_source(source)
        except Exception as exc:
            log.exception("watchlist source %s failed", source.name)
            return SyncReport(source.name, (), f"the sync of this source failed: {type(exc).__name__}: {exc}")

    def sync_source(self, source: Source) -> SyncReport:
        try:
            offers = source.offers()
        except SourceError as exc:
            log.warning("watchlist source %s unavailable: %s", source.name, exc)
            return SyncReport(source.name, (), str(exc))
        by_list: dict[str, list[Offer]] = defaultdict(list)
        for offer in offers:
            by_list[offer.list_id].append(offer)
        results: list[SyncResult] = []
        for list_id in sorted(by_list):
            results.extend(self._sync_list(source, list_id, by_list[list_id]))
        return SyncReport(source.name, tuple(results), None)

    def _sync_list(self, source: Source, list_id: str, offers: list[Offer]) -> list[SyncResult]:
        results: list[SyncResult] = []
        for _ in range(_MAX_PLANS_PER_LIST):
            state = self._store.lists().get(list_id)
            steps = plan(state.version if state else None, offers)
            if not steps:
                break
            refused = None
            for offer in steps:
                result = self._apply(source, offer)
                results.append(result)
                if not result.applied:
                    refused = offer
                    break
            if refused is None:
                break
            offers = [o for o in offers if o != refused]
        return results

    def _apply(self, source: Source, offer: Offer) -> SyncResult:
        try:
            path = source.fetch(offer)
        except Refused as exc:
            result = _fetch_failed(source, offer, exc, self._clock())
        else:
            try:
                result = apply_bundle(
                    self._store, path, self._keyring, source=source.name, bundle=offer.file, now=self._clock()
                )
            except Exception as exc:
                # One bundle that breaks the reader is refused like any bad bundle: the ones after it
                # (a newer full snapshot) are still tried, this round and the next.
                log.exception("watchlist bundle %s from %s could not be read", offer.file, source.name)
                result = _fetch_failed(source, offer, Refused(Refusal.MALFORMED, f"{type(exc).__name__}: {exc}"),
                                       self._clock())
            finally:
                source.release(offer)
        if result.applied:
            log.info("watchlist %s", result.detail)
        else:
            log.warning("watchlist bundle %s from %s refused: %s", offer.file, source.name, result.detail)
        return result


def _fetch_failed(source: Source, offer: Offer, exc: Refused, now: float) -> SyncResult:
    return SyncResult(
        source=source.name,
        bundle=offer.file,
        applied=False,
        reason=exc.reason,
        detail=exc.detail,
        list_id=offer.list_id,
        kind=offer.kind,
        version=offer.version,
        base_version=offer.base_version,
        previous_version=None,
        record_count=None,
        state_count=None,
        body_sha256=None,
        state_hash=None,
        key_id=None,
        at=now,
        duration_s=0.0,
    )
