"""The audit chain verified when the service starts, in the background.

A log edited while the service was stopped must not be carried on as if it were whole: the check
runs beside the lanes (a long log takes a while, and the crossing must not wait for it), and a
broken chain becomes an alarm on `/readyz`, in the metrics and on the kiosk, and an ERROR in the
log. The service keeps appending: stopping the crossing would not mend the log, and new records
are still chained to its head.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from edge.recording.audit.verify import verify_log

log = logging.getLogger(__name__)


class ChainState(StrEnum):
    CHECKING = "checking"
    OK = "ok"
    BROKEN = "broken"


@dataclass(frozen=True)
class ChainCheck:
    state: ChainState
    records: int = 0
    problem: str | None = None  # for BROKEN: the first break, and how many there are

    def to_json(self) -> dict:
        return {"state": self.state.value, "records": self.records, "problem": self.problem}


class StartupChainCheck:
    def __init__(self, path: Path, on_result: Callable[[ChainCheck], None]) -> None:
        self._path = path
        self._on_result = on_result
        self.result = ChainCheck(ChainState.CHECKING)
        self._thread = threading.Thread(target=self._run, name="audit-chain-check", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            report = verify_log(self._path)
        except OSError as exc:
            self._finish(ChainCheck(ChainState.BROKEN, 0, f"the audit log cannot be read: {exc.strerror or exc}"))
            return
        if report.breaks or report.damaged_blobs:
            first = (str(report.breaks[0]) if report.breaks
                     else f"blob {report.damaged_blobs[0]} no longer matches its hash")
            count = len(report.breaks) + len(report.damaged_blobs)
            self._finish(ChainCheck(ChainState.BROKEN, report.records, f"{count} problem(s), first: {first}"))
            return
        self._finish(ChainCheck(ChainState.OK, report.records))

    def _finish(self, result: ChainCheck) -> None:
        self.result = result
        if result.state is ChainState.BROKEN:
            log.error("AUDIT CHAIN BROKEN in %s: %s; `edge audit verify` names every break", self._path,
                      result.problem)
        else:
            log.info("audit chain verified: %d records", result.records)
        self._on_result(result)
