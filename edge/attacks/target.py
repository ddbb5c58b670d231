"""What the attacks aim at: the demo service, run as its own process group on a free port with a
scratch state dir, and watched for memory from outside the whole time."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from edge.recording.audit.log import LOG_NAME
from edge.service.proc import rss_mb
from edge.synthetic.scratch import demo_config_text, free_loopback_port

START_TIMEOUT_S = 90.0  # models load and cameras start on a loaded machine too
_RSS_SAMPLE_S = 0.2


def plain_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """A GET with no cookies: (status, body) whatever the status; OSError when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class Target:
    """The demo service under attack; started on first use, and again by the attacks that stop it."""

    def __init__(self, scratch: Path, *, flood_seconds: float):
        self.scratch = scratch
        self.flood_seconds = flood_seconds
        self.port = free_loopback_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.state_dir = scratch / "state"
        self.config_path = scratch / "edge.toml"
        self.config_path.write_text(demo_config_text(self.state_dir, self.port))
        self.audit_path = self.state_dir / "audit" / LOG_NAME
        self.log_path = scratch / "service.log"
        self.rss_max_mb = 0.0
        self._process: subprocess.Popen | None = None
        self._log_offset = 0  # where the current run's output starts in the log
        self._watching = threading.Event()
        self._watcher = threading.Thread(target=self._watch_memory, name="rss-watch", daemon=True)

    # -- the service's life -------------------------------------------------------------------

    def service(self) -> Target:
        """The service, started and ready (every lane's cameras up) if it was not already."""
        if self._process is None or self._process.poll() is not None:
            self.start(ready=True)
        return self

    def start(self, *, ready: bool) -> None:
        """Start the service; wait until it serves, and with `ready` until /readyz says 200."""
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("a") as log:
            # Its own session: a kill takes the simulators it starts with it, as systemd's cgroup would.
            self._process = subprocess.Popen(
                [sys.executable, "-m", "edge", "run", "--config", str(self.config_path)], stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        if not self._watcher.is_alive():
            self._watching.set()
            self._watcher.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the service exited with {self._process.returncode}:\n{self.log()[-3000:]}")
            status, _ = self.get("/readyz" if ready else "/healthz")
            if status == 200:
                return
            time.sleep(0.3)
        raise RuntimeError(f"the service was not {'ready' if ready else 'serving'} in {START_TIMEOUT_S:.0f} s:\n"
                           f"{self.log()[-3000:]}")

    def stop(self) -> None:
        """Stop the service the way systemd does (SIGTERM), and wait for it."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """SIGKILL to the service and everything it started, with no chance to tidy up."""
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()

    def close(self) -> None:
        self.stop()
        self._watching.clear()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    def _watch_memory(self) -> None:
        while self._watching.is_set():
            pid = self.pid
            # A process that ends between the two looks is skipped; the next sample sees its successor.
            if pid is not None:
                with contextlib.suppress(OSError):
                    self.rss_max_mb = max(self.rss_max_mb, rss_mb(pid))
            time.sleep(_RSS_SAMPLE_S)

    def log(self) -> str:
        """What the current run of the service has logged so far."""
        with self.log_path.open("rb") as log:
            log.seek(self._log_offset)
            return log.read().decode(errors="replace")

    # -- what the attacks read ---------------------------------------------------------------

    def get(self, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
        """A plain GET with no cookies; (0, b"") when nothing answers."""
        try:
            return plain_get(self.url + path, timeout)
        except OSError:
            return 0, b""

    def audit_records(self) -> list[dict]:
        """Every complete record in the audit log, as parsed JSON."""
        lines = self.audit_path.read_bytes().split(b"\n")[:-1]
        return [json.loads(line) for line in lines]
