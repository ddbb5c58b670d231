"""The demo checkpoint somewhere private, for benches and tests: a free loopback port, and the demo
config with its kiosk on that port and its state in a directory of the caller's (so a bench or a
test never shares `../var/demo` or port 8080 with a demo someone is running)."""

from __future__ import annotations

import socket
from pathlib import Path

from edge.config import DEFAULT_CONFIG

_DEMO_PORT = "port = 8080"
_DEMO_STATE = 'state_dir = "../var/demo"'
_DEMO_WAIT = "cars_wait_s = 90"


def free_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def demo_config_text(state_dir: Path, port: int | None = None, cars_wait: bool = False) -> str:
    """config/edge.toml with its state in `state_dir` and, if given, its kiosk on `port`. Its cars
    keep the fixed schedule (benches and tests count on it) unless `cars_wait`."""
    text = DEFAULT_CONFIG.read_text()
    # A demo config that no longer holds these lines would silently keep the shared ones.
    for line in (_DEMO_STATE, _DEMO_PORT, _DEMO_WAIT):
        if line not in text:
            raise RuntimeError(f"{DEFAULT_CONFIG} no longer holds {line!r}: cannot point it elsewhere")
    text = text.replace(_DEMO_STATE, f'state_dir = "{state_dir}"')
    if not cars_wait:
        text = text.replace(_DEMO_WAIT, "cars_wait_s = 0")
    return text if port is None else text.replace(_DEMO_PORT, f"port = {port}")
