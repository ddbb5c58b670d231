"""Structured logs: one JSON object per line for journald, or plain text for a terminal.

Every record carries the lane and crossing it concerns when there is one (pass them as
`extra={"lane": ..., "crossing": ...}`), so an operator can follow one crossing through the log
with a single grep.
"""

from __future__ import annotations

import json
import logging
import sys
import time

from edge.config import LoggingConfig

_CONTEXT_KEYS = ("lane", "crossing", "camera", "device")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in _CONTEXT_KEYS:
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        context = " ".join(f"{k}={getattr(record, k)}" for k in _CONTEXT_KEYS if getattr(record, k, None))
        line = super().format(record)
        return f"{line} [{context}]" if context else line


def configure_logging(config: LoggingConfig) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter() if config.format == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(config.level.upper())
    # uvicorn's access log is one line per camera frame request: noise at 3 a.m.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
