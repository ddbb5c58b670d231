"""`edge bench soak --minutes N [--kills K]`: the demo checkpoint left running, watched from outside.

It runs the real service (demo config) on a free port with a scratch state dir and samples, every
few seconds, its resident memory and open file descriptors (from /proc) and the cameras' frame
rates (from /metrics), and counts ERROR lines in its log. With --kills, it also kill -9's the
service K times at spread-out moments and restarts it (each run is ready, /readyz, before the
next kill), and at the end verifies the audit chain and that every audited event for the centre
is in the outbox (the demo has no broker, so nothing leaves it): `lost_events` counts those
missing. `restored` and `closed_at_restart` count the crossings the restarts brought back.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from edge.bench.demo_service import run_service, wait_ready
from edge.recording.audit import CROSSING_CLOSED, CROSSING_RESTORED
from edge.recording.audit.backwards import records_backwards
from edge.recording.outbox.queue import Outbox
from edge.recording.recorder import missing_from_outbox
from edge.recording.recovery import CLOSED_AT_RESTART
from edge.service.proc import open_fds, rss_mb
from edge.synthetic.scratch import demo_config_text, free_loopback_port

_SAMPLE_S = 5.0
_FPS = re.compile(r'^edge_camera_fps\{camera="[^"]+"\} ([0-9.]+)$', re.MULTILINE)


def register(_sub: argparse._SubParsersAction) -> None:
    """No command of its own: only `edge bench soak`."""


def register_bench(bench: argparse._SubParsersAction) -> None:
    soak = bench.add_parser("soak", help="the demo checkpoint for N minutes: RSS, fds, fps trend, errors")
    soak.add_argument("--minutes", type=float, default=60.0)
    soak.add_argument("--kills", type=int, default=0, help="kill -9 and restart the service this many times")
    soak.set_defaults(func=_bench)


def _fps(port: int) -> float | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            values = [float(v) for v in _FPS.findall(response.read().decode())]
    except OSError:
        return None
    return sum(values) / len(values) if values else None


def _recovery_figures(state: Path) -> dict:
    """What the audit and the outbox say after the run: events lost on the way to the centre, and
    the crossings restarts brought back or closed."""
    audit = state / "audit" / "audit.jsonl"
    with Outbox(state / "outbox.sqlite", source="soak") as outbox:
        lost = missing_from_outbox(audit, outbox)
    records = list(records_backwards(audit))
    return {
        "lost_events": len(lost),
        "restored": sum(1 for r in records if r.kind == CROSSING_RESTORED),
        "closed_at_restart": sum(1 for r in records
                                 if r.kind == CROSSING_CLOSED and r.payload["note"].startswith(CLOSED_AT_RESTART)),
    }


def _bench(args: argparse.Namespace) -> int:
    port = free_loopback_port()
    with tempfile.TemporaryDirectory() as scratch:
        state = Path(scratch) / "state"
        config = Path(scratch) / "edge.toml"
        config.write_text(demo_config_text(state, port))
        log_path = Path(scratch) / "service.log"
        log = log_path.open("a")

        def start() -> subprocess.Popen:
            process = run_service(config, log)
            wait_ready(port, process)
            return process

        process = start()
        started = time.monotonic()
        duration = args.minutes * 60
        kill_at = [duration * (i + 1) / (args.kills + 1) for i in range(args.kills)]
        began = time.monotonic()
        samples: list[tuple[float, float, int, float | None]] = []
        kills = 0
        try:
            while (elapsed := time.monotonic() - began) < duration:
                if kill_at and elapsed >= kill_at[0]:
                    kill_at.pop(0)
                    process.send_signal(signal.SIGKILL)
                    process.wait()
                    kills += 1
                    process = start()
                    started = time.monotonic()
                    samples.clear()  # memory and fds are compared within one run of the process
                    continue
                rss, fds = rss_mb(process.pid), open_fds(process.pid)
                samples.append((time.monotonic() - started, rss, fds, _fps(port)))
                time.sleep(_SAMPLE_S)
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)
            log.close()
        verify = subprocess.run([sys.executable, "-m", "edge", "audit", "verify", "--state-dir", str(state)],
                                capture_output=True, text=True)
        errors = sum(1 for line in log_path.read_text(errors="replace").splitlines() if " ERROR " in line)
        recovery = _recovery_figures(state)
    # Growth is measured after a warm-up (the first minute of a run loads models and fills caches).
    warm = [s for s in samples if s[0] >= 60.0] or samples
    first, last = warm[0], warm[-1]
    fps = [s[3] for s in warm if s[3] is not None]
    third = max(1, len(fps) // 3)
    print(json.dumps({
        "minutes": args.minutes,
        "rss_start_mb": round(first[1], 1), "rss_end_mb": round(last[1], 1),
        "rss_growth_pct": round(100 * (last[1] - first[1]) / first[1], 2),
        "fds_start": first[2], "fds_end": last[2],
        "fps_first_third": round(sum(fps[:third]) / third, 2) if fps else None,
        "fps_last_third": round(sum(fps[-third:]) / third, 2) if fps else None,
        "errors": errors, "kills": kills, "audit_verified": verify.returncode == 0, **recovery,
    }))
    return 0 if verify.returncode == 0 and recovery["lost_events"] == 0 else 1
