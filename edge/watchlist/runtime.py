"""The watchlist as the service runs it: the cache, the lanes' lookups, and a background sync loop.

Built from the crossing's config; the CLI builds the same pieces for `edge watchlist ...`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from edge.config import WatchlistConfig
from edge.watchlist.http import HttpClient
from edge.watchlist.keys import Keyring, TrustedKey
from edge.watchlist.lookup import Lookup
from edge.watchlist.sources import FolderSource, HttpSource, Source
from edge.watchlist.staleness import Staleness, StalePolicy, assess
from edge.watchlist.store import WatchlistStore
from edge.watchlist.sync import Syncer, SyncReport

log = logging.getLogger(__name__)
DB_NAME = "watchlist.sqlite"


def cache_dir(config: WatchlistConfig, state_dir: Path) -> Path:
    """The cache's folder: the watchlist's state_dir, relative to the crossing's state_dir."""
    return state_dir / config.state_dir


def open_store(config: WatchlistConfig, state_dir: Path) -> WatchlistStore:
    max_bytes = config.max_db_mb * 1024 * 1024 if config.max_db_mb else None
    return WatchlistStore(cache_dir(config, state_dir) / DB_NAME, max_db_bytes=max_bytes)


def keyring(config: WatchlistConfig) -> Keyring:
    return Keyring(
        TrustedKey(k.id, k.public_key, int(k.not_after.timestamp()) if k.not_after else None)
        for k in config.trusted_keys
    )


def sources(config: WatchlistConfig, state_dir: Path) -> list[Source]:
    client = HttpClient(
        timeout_s=config.http_timeout_s, ca_file=config.ca_file, max_bytes=config.max_download_mb * 1024 * 1024
    )
    downloads = cache_dir(config, state_dir) / "downloads"
    return [
        HttpSource(s, downloads, client) if s.startswith(("http://", "https://")) else FolderSource(Path(s))
        for s in config.sources
    ]


def staleness(config: WatchlistConfig, store: WatchlistStore, now: float) -> Staleness:
    return assess(
        store.lists(),
        now=now,
        max_age_s=config.max_age_h * 3600,
        policy=StalePolicy(config.stale_policy),
        required_lists=config.required_lists,
    )


class WatchlistRuntime:
    """One cache for the whole crossing: lanes look up through `lookup`, a thread keeps it synced."""

    def __init__(self, config: WatchlistConfig, state_dir: Path,
                 on_report: Callable[[SyncReport], None] | None = None):
        self.config = config
        self._on_report = on_report  # the service audits every bundle applied or refused
        self._reader = open_store(config, state_dir)
        self._writer = open_store(config, state_dir)
        self.lookup = Lookup(self._reader)
        self.syncer = Syncer(self._writer, sources(config, state_dir), keyring(config))
        self.last_reports: list[SyncReport] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def store(self) -> WatchlistStore:
        """The read side of the cache (templates for the face index, status)."""
        return self._reader

    def staleness(self, now: float | None = None) -> Staleness:
        return staleness(self.config, self._reader, time.time() if now is None else now)

    def sync_once(self) -> list[SyncReport]:
        self.last_reports = self.syncer.sync_once()
        if self._on_report is not None:
            for report in self.last_reports:
                self._on_report(report)
        stale = self.staleness()
        if stale.stale:
            log.warning("watchlist stale (policy %s): %s", stale.policy.value, "; ".join(stale.reasons))
        return self.last_reports

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="watchlist-sync", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.sync_once()
            except Exception:  # the loop must outlive any one failure; the next round retries
                log.exception("watchlist sync round failed")
            self._stop.wait(self.config.sync_interval_s)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._reader.close()
        self._writer.close()
