"""Start a simulator process and talk to its control port: for tests, the fault bench and the demo."""

from __future__ import annotations

import contextlib
import json
import select
import socket
import subprocess
import sys
import tempfile
import time


class SimError(RuntimeError):
    """The simulator did not start, died, or refused a command."""


class SimProcess:
    """`python -m hardware.sim DEVICE ARGS...`; `url` is what the product opens."""

    def __init__(self, device: str, *args: str, start_timeout_s: float = 15.0):
        # A file, not a pipe: nobody reads the simulator's stderr while it runs, and a full pipe would stall it.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the process; closed in close())
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "hardware.sim", device, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        self._control: socket.socket | None = None
        try:
            ready = json.loads(self._first_line(start_timeout_s))
            self.url: str = ready["url"]
            host, port = ready["control"].rsplit(":", 1)
            self._control = socket.create_connection((host, int(port)), timeout=start_timeout_s)
        except Exception:
            self.close()
            raise
        self._replies = self._control.makefile("rb")

    @property
    def pid(self) -> int:
        return self._proc.pid

    def _first_line(self, timeout_s: float) -> str:
        assert self._proc.stdout is not None
        ready, _, _ = select.select([self._proc.stdout], [], [], timeout_s)
        line = self._proc.stdout.readline().decode() if ready else ""
        if not line:
            raise SimError(f"simulator did not start within {timeout_s:g} s: {self.stderr_tail()}")
        return line

    def stderr_tail(self, limit: int = 2000) -> str:
        """The end of what the simulator wrote to stderr, for error messages."""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-limit:]

    def command(self, line: str) -> dict:
        """Send one command and return its JSON answer; raises SimError if the simulator refused it."""
        if self._control is None:
            raise SimError("simulator has no control connection")
        try:
            self._control.sendall(line.encode() + b"\n")
            raw = self._replies.readline()
        except OSError as exc:
            raise SimError(f"simulator control link failed: {exc}") from exc
        if not raw:
            raise SimError(f"simulator closed its control port (exit code {self._proc.poll()})")
        reply = json.loads(raw)
        if not reply.get("ok"):
            raise SimError(reply.get("error", "command refused"))
        return reply

    def alive(self) -> bool:
        return self._proc.poll() is None

    def close(self) -> None:
        """Ask the simulator to quit; kill it if it does not."""
        if self._proc.poll() is None:
            with contextlib.suppress(SimError):
                self.command("quit")  # if it cannot be asked, it is killed below
            deadline = time.monotonic() + 5
            while self._proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            if self._proc.poll() is None:
                self._proc.kill()
        self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._stderr.close()
        if self._control is not None:
            self._replies.close()
            self._control.close()
            self._control = None

    def __enter__(self) -> SimProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
