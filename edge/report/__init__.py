"""The supervisor's report: how the checkpoint works, from what the audit log recorded.

- `ledger.py`: the report's SQLite database, built from the audit log (and rebuilt from it at will);
- `figures.py`: the figures for a period, per lane and per hour or day;
- `charts.py`: the charts, as SVG drawn on the server; `render.py`: JSON, CSV or one offline HTML file.

`edge report` calls `report_for`; the kiosk's /supervisor page asks `CheckpointReports`, which runs the same in a
worker process.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from edge.config import EdgeConfig
from edge.recording.audit.log import LOG_NAME
from edge.report.figures import Report, build_report
from edge.report.ledger import ReportLedger

log = logging.getLogger(__name__)


def ledger_path(config: EdgeConfig) -> Path:
    return config.state_dir / "report" / "report.sqlite"


def audit_path(config: EdgeConfig) -> Path:
    return config.state_dir / config.audit.dir / LOG_NAME


def report_for(config: EdgeConfig, start: float, end: float, lane: str | None = None, bucket: str = "hour") -> Report:
    """The figures for [start, end), after taking whatever the audit log recorded since the last report."""
    return _report(ledger_path(config), audit_path(config), start, end, lane, bucket)


class CheckpointReports:
    """`report_for` for the running service's kiosk, in a worker process of its own.

    The service's lanes are Python threads sharing one interpreter lock with the kiosk: a report over a
    month of crossings computed among them took 2-4 s a page, and the first build of the ledger 50 s,
    while slowing the lanes' cameras. In its own process the report gets a core from the OS (1.3 s for
    100,000 crossings) and the lanes keep theirs. One worker: each report catches the ledger up (writes)
    before it reads, so they run one at a time."""

    def __init__(self, config: EdgeConfig):
        self._paths = (ledger_path(config), audit_path(config))
        self._lock = threading.Lock()
        self._worker = _new_worker()

    def report(self, start: float, end: float, lane: str | None = None, bucket: str = "hour") -> Report:
        task = partial(_report, *self._paths, start, end, lane, bucket)
        worker = self._worker
        try:
            return worker.submit(task).result()
        except BrokenProcessPool:
            # The worker died (killed, out of memory): a new one takes the page; the ledger is on disk.
            log.error("the report's worker process died; starting another")
            with self._lock:
                if self._worker is worker:
                    self._worker = _new_worker()
            return self._worker.submit(task).result()

    def warm_up(self) -> None:
        """Build the ledger from the audit log now, so that the first page a supervisor opens after an
        upgrade or a deleted ledger does not wait for it (100,000 crossings: ~10 s)."""
        self._worker.submit(_catch_up, *self._paths).add_done_callback(_log_failure)

    def close(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)


def _new_worker() -> ProcessPoolExecutor:
    # spawn, not fork: the service is multithreaded, and a forked child would inherit locks held mid-use.
    return ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=_exit_with_parent,
                               initargs=(os.getpid(),))


@contextmanager
def _caught_up(ledger_file: Path, audit_file: Path) -> Iterator[ReportLedger]:
    """The ledger, having taken whatever the audit log recorded since it last looked."""
    ledger = ReportLedger(ledger_file)
    try:
        ledger.catch_up(audit_file)
        yield ledger
    finally:
        ledger.close()


def _report(ledger_file: Path, audit_file: Path, start: float, end: float, lane: str | None, bucket: str) -> Report:
    with _caught_up(ledger_file, audit_file) as ledger:
        return build_report(ledger.db, start, end, lane, bucket)


def _catch_up(ledger_file: Path, audit_file: Path) -> None:
    with _caught_up(ledger_file, audit_file):
        pass


def _log_failure(done: Future) -> None:
    if not done.cancelled() and done.exception() is not None:  # the page catches up again, and says what is wrong
        log.error("the report's ledger could not catch up with the audit log", exc_info=done.exception())


def _exit_with_parent(parent: int) -> None:
    """In the worker: leave when the service is gone. A service killed with -9 cannot stop its worker,
    which would otherwise wait forever for work."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="report-worker-watch", daemon=True).start()
