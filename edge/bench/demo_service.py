"""What the benches that run the real demo service share: starting it, waiting for it to be ready, and logging in."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO

from edge.kiosk.auth.demo import DemoAccount
from edge.kiosk.auth.web import SESSION_COOKIE


def run_service(config: Path, log: IO[str]) -> subprocess.Popen:
    """`edge run` on `config` in a process of its own, its output to `log`."""
    return subprocess.Popen([sys.executable, "-m", "edge", "run", "--config", str(config)], stdout=log,
                            stderr=subprocess.STDOUT)


def wait_ready(port: int, process: subprocess.Popen, timeout: float = 90) -> None:
    """Until /readyz answers 200 (every camera live), or raise if the service exits or takes too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2).close()
            return
        except OSError:  # not serving yet, or 503: not ready
            time.sleep(0.3)
    raise RuntimeError("the demo service did not become ready")


def session_cookie(port: int, account: DemoAccount) -> str:
    """Log in as a demo account; the Cookie header value that carries the session."""
    body = json.dumps({"username": account.username, "password": account.password}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/login", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        for header in response.headers.get_all("Set-Cookie") or []:
            if header.startswith(f"{SESSION_COOKIE}="):
                return header.split(";", 1)[0]
    raise RuntimeError(f"the demo {account.username}'s login set no session cookie")
