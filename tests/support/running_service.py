"""Start the real service (`python -m edge run`) as a process on a free port, for tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from edge.attacks.target import plain_get


class RunningService:
    def __init__(self, config_path: Path, port: int, log_path: Path):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self._log = log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "edge", "run", "--config", str(config_path)],
            stdout=self._log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def get(self, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
        return plain_get(self.url + path, timeout)

    def wait_until(self, path: str, status: int = 200, timeout: float = 60.0) -> bytes:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"service exited with {self.process.returncode}:\n{self.log()}")
            try:
                code, body = self.get(path)
                if code == status:
                    return body
                last = (code, body[:200])
            except OSError as exc:
                last = exc
            time.sleep(0.2)
        raise AssertionError(f"{path} never answered {status} (last: {last}):\n{self.log()}")

    def stop(self, sig: int = signal.SIGINT, timeout: float = 20.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not self._log.closed:
            self._log.close()
        return self.process.returncode

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")
