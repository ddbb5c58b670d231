"""The audit log read from its end: newest record first.

Start-up reads only the newest part of the log (what the outbox has not yet queued, the
crossings a crash left open), so it stays fast however long the log grows. Call it on a log
that AuditLog has opened, so a torn last line has already been set aside.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from edge.recording.audit.records import AuditRecord, parse_line

_CHUNK = 1 << 16


def records_backwards(path: Path) -> Iterator[AuditRecord]:
    """Every record of the log at `path`, newest first; nothing if there is no log yet."""
    if not path.exists():
        return
    with path.open("rb") as file:
        end = file.seek(0, os.SEEK_END)
        tail = b""
        while end > 0:
            start = max(0, end - _CHUNK)
            file.seek(start)
            lines = (file.read(end - start) + tail).split(b"\n")
            # The first piece of a chunk may be the end of a line that starts in the chunk before.
            tail, complete = (lines[0], lines[1:]) if start > 0 else (b"", lines)
            for line in reversed(complete):
                if line.strip():
                    yield parse_line(line)
            end = start
