"""A running process's resources, read from /proc: what the benches, the attack campaign and the
tests watch from outside the service."""

from __future__ import annotations

from pathlib import Path


def rss_mb(pid: int) -> float:
    """Resident memory of process `pid` in MB. OSError when the process is gone."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise ProcessLookupError(f"process {pid} has no resident memory (a zombie)")


def open_fds(pid: int) -> int:
    """How many file descriptors process `pid` holds open. OSError when the process is gone."""
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))
