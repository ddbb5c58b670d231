"""Running the real `edge` CLI as an attacker's victim: its exit code, output and peak memory."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

CLI_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class CliRun:
    returncode: int
    stdout: str
    stderr: str
    peak_rss_mb: float

    def said(self) -> str:
        """The last lines it printed, for a Breach message."""
        return " | ".join((self.stdout + self.stderr).strip().splitlines()[-3:])


def run_edge(*args: str | Path, cwd: Path | None = None) -> CliRun:
    """`python -m edge ARGS`; its peak RSS comes from the kernel's accounting of that child alone."""
    process = subprocess.Popen([sys.executable, "-m", "edge", *map(str, args)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=cwd)
    stdout, stderr = process.stdout, process.stderr
    assert stdout is not None and stderr is not None  # both are pipes
    timer = threading.Timer(CLI_TIMEOUT_S, process.kill)
    timer.start()
    try:
        # Read both pipes while it runs (a full pipe would stall it), then reap it with its rusage.
        out: list[str] = []
        reader = threading.Thread(target=lambda: out.append(stdout.read()))
        reader.start()
        err = stderr.read()
        reader.join()
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    finally:
        timer.cancel()
        stdout.close()
        stderr.close()
    return CliRun(process.returncode, out[0], err, usage.ru_maxrss / 1024)
