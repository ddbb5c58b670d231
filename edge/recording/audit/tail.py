"""Where the complete records of a log file end, and what follows them (a torn append).

append() writes a whole line in one write and fsyncs it before returning, so a crash can only
damage the record being appended, which was never acknowledged and whose action never took
effect. It shows up in one of two ways: bytes after the last newline (the write was cut short),
or a last line holding NUL bytes (the file grew but its data never reached the disk, as after a
power cut). Anything else that does not read as a record is damage, not a crash.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

_CHUNK = 64 * 1024


def split_tail(data: bytes) -> int:
    """Offset in `data` (a suffix of the file holding its last three newlines, or all of it)
    where the complete records end; what follows is torn."""
    end = data.rfind(b"\n") + 1
    if end > 0:
        start = data.rfind(b"\n", 0, end - 1) + 1
        if b"\x00" in data[start:end]:
            end = start
    return end


def read_end(fd: int, size: int) -> tuple[int, bytes]:
    """(file offset of `data`, data): the smallest suffix of the file that split_tail needs."""
    start, data = size, b""
    while start > 0 and data.count(b"\n") < 3:
        step = min(_CHUNK, start)
        start -= step
        data = os.pread(fd, step, start) + data
    return start, data


def last_line(data: bytes, end: int) -> bytes | None:
    """The last complete line before `end` (without its newline), or None if there is none."""
    if end == 0:
        return None
    return data[data.rfind(b"\n", 0, end - 1) + 1 : end - 1]


def complete_lines(path: Path) -> tuple[Iterator[bytes], int]:
    """The log's complete lines (without newlines), read lazily, and the number of torn bytes at its end."""
    lines, torn = ended_lines(path)
    return (line for line, _end in lines), torn


def ended_lines(path: Path, start: int = 0) -> tuple[Iterator[tuple[bytes, int]], int]:
    """The log's complete lines from byte `start` (where a line begins), each without its newline and
    with the offset just past it, read lazily; and the number of torn bytes at the log's end."""
    with path.open("rb") as f:
        size = f.seek(0, 2)
        offset, data = read_end(f.fileno(), size)
    end = offset + split_tail(data)
    return _lines_between(path, start, end), size - end


def _lines_between(path: Path, start: int, end: int) -> Iterator[tuple[bytes, int]]:
    with path.open("rb") as f:
        f.seek(start)
        position = start
        for raw in f:
            if position >= end:
                return
            position += len(raw)
            yield raw.rstrip(b"\n"), position


def line_ending_at(path: Path, end: int) -> bytes | None:
    """The line whose newline is the byte before offset `end` (without it), or None when no line ends there."""
    with path.open("rb") as f:
        fd, size = f.fileno(), f.seek(0, 2)
        if not 0 < end <= size:
            return None
        _offset, data = read_end(fd, end)
    return last_line(data, len(data)) if data.endswith(b"\n") else None
