"""`edge bench lane --seconds S`: the demo checkpoint, measured from outside like a kiosk sees it.

It runs the real service (demo config: synthetic cameras, simulated devices) on a free port with
a scratch state dir, logs in as the demo officer (the feed needs a session, as for any kiosk)
and listens on the kiosk websocket. Two latencies:
- decision: from the first frame that showed the vehicle's plate (the plate read's `first_seen`)
  to the first decision revision on the kiosk that carries that plate, per crossing;
- revision: from the evidence behind each decision revision (`decision.made_at`: the frame's or
  the document's time) to its arrival at the kiosk.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from edge.bench.demo_service import run_service, session_cookie
from edge.kiosk.auth.demo import DEMO_ACCOUNTS
from edge.synthetic.scratch import demo_config_text, free_loopback_port

if TYPE_CHECKING:
    from websockets.sync.client import ClientConnection


def register(_sub: argparse._SubParsersAction) -> None:
    """No command of its own: only `edge bench lane`."""


def register_bench(bench: argparse._SubParsersAction) -> None:
    lane = bench.add_parser("lane", help="the demo checkpoint: crossings decided, fps, evidence -> kiosk latency")
    lane.add_argument("--seconds", type=float, default=120.0, help="how long to watch (default 120)")
    lane.set_defaults(func=_bench)


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 1)


def _bench(args: argparse.Namespace) -> int:
    port = free_loopback_port()
    with tempfile.TemporaryDirectory() as scratch:
        config = Path(scratch) / "edge.toml"
        config.write_text(demo_config_text(Path(scratch) / "state", port))
        log_path = Path(scratch) / "service.log"
        with log_path.open("w") as log:
            service = run_service(config, log)
            try:
                ws = _connect(port, service, log_path)
                if ws is None:
                    return 1
                with ws:
                    watched = _watch(ws, args.seconds)
            finally:
                service.terminate()
                service.wait(timeout=30)
    _report(watched, args.seconds)
    return 0


def _connect(port: int, service: subprocess.Popen, log_path: Path) -> ClientConnection | None:
    """The kiosk's websocket once the service is up, or None (said on stderr, with its log) if it never came."""
    from websockets.exceptions import InvalidHandshake
    from websockets.sync.client import connect

    deadline = time.monotonic() + 60
    while True:
        try:
            return connect(f"ws://127.0.0.1:{port}/ws", open_timeout=2,
                           additional_headers={"Cookie": session_cookie(port, DEMO_ACCOUNTS[0])})
        except (OSError, InvalidHandshake) as exc:
            if time.monotonic() > deadline or service.poll() is not None:
                print(f"the demo service did not start ({exc}):\n{log_path.read_text()}", file=sys.stderr)
                return None
            time.sleep(0.3)


@dataclass
class _Watched:
    latencies: dict[str, float] = field(default_factory=dict)  # crossing -> plate first seen to decision, ms
    revisions: dict[tuple[str, int], float] = field(default_factory=dict)  # (crossing, revision) -> made to kiosk
    fps: list[float] = field(default_factory=list)


def _watch(ws: ClientConnection, seconds: float) -> _Watched:
    """Every lane message for `seconds`, timed on arrival as a kiosk would see it."""
    watched = _Watched()
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        try:
            message = json.loads(ws.recv(timeout=left))
        except TimeoutError:
            break
        arrived = time.time()
        for lane in message.get("lanes") or [message.get("lane")]:
            if not lane:
                continue
            watched.fps += [camera["fps"] for camera in lane["cameras"].values() if camera["state"] == "live"]
            crossing = lane.get("crossing")
            decision = crossing and crossing["decision"]
            if not decision:
                continue
            key = (crossing["crossing_id"], decision["revision"])
            watched.revisions.setdefault(key, 1000 * (arrived - decision["made_at"]))
            if crossing["plate"]:
                first_seen = crossing["plate"]["first_seen"]
                watched.latencies.setdefault(crossing["crossing_id"], 1000 * (arrived - first_seen))
    return watched


def _report(watched: _Watched, seconds: float) -> None:
    values = list(watched.latencies.values())
    revisions = list(watched.revisions.values())
    print(f"{len(values)} crossings with a plate decided in {seconds:.0f} s")
    print(json.dumps({
        "crossings": len(values),
        "fps": round(statistics.fmean(watched.fps), 2) if watched.fps else 0.0,
        "decision_p50_ms": _percentile(values, 0.5),
        "decision_p95_ms": _percentile(values, 0.95),
        "revisions": len(revisions),
        "revision_p50_ms": _percentile(revisions, 0.5),
        "revision_p95_ms": _percentile(revisions, 0.95),
        "seconds": seconds,
    }))
