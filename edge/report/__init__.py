"""The supervisor's report: how the checkpoint works, from what the audit log recorded.

- `ledger.py`: the report's SQLite database, built from the audit log (and rebuilt from it at will);
- `figures.py`: the figures for a period, per lane and per hour or day;
- `charts.py`: the charts, as SVG drawn on the server; `render.py`: JSON, CSV or one offline HTML file.

`edge report` and the kiosk's /supervisor page both call `report_for`.
"""

from __future__ import annotations

import logging
import threading
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
    ledger = ReportLedger(ledger_path(config))
    try:
        ledger.catch_up(audit_path(config))
        return build_report(ledger.db, start, end, lane, bucket)
    finally:
        ledger.close()


class CheckpointReports:
    """`report_for` for the running service's kiosk: one at a time, because each catches the ledger up
    (writes) before it reads."""

    def __init__(self, config: EdgeConfig):
        self._config = config
        self._lock = threading.Lock()

    def report(self, start: float, end: float, lane: str | None = None, bucket: str = "hour") -> Report:
        with self._lock:
            return report_for(self._config, start, end, lane, bucket)

    def warm_up(self) -> None:
        """Build the ledger from the audit log in the background, so that the first page a supervisor
        opens after an upgrade or a deleted ledger does not wait for it (100,000 crossings: ~10 s)."""
        def catch_up() -> None:
            with self._lock:
                ledger = ReportLedger(ledger_path(self._config))
                try:
                    ledger.catch_up(audit_path(self._config))
                except Exception:  # the page catches up again, and says what is wrong
                    log.exception("the report's ledger could not catch up with the audit log")
                finally:
                    ledger.close()

        threading.Thread(target=catch_up, name="report-warm-up", daemon=True).start()
