"""`edge outbox status`: events waiting for the centre; `edge bench outbox`: the loss soak."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from edge.bench.outbox_soak import run_soak
from edge.commands.config import load_for_command
from edge.config import DEFAULT_CONFIG
from edge.recording.outbox import Outbox, OutboxError


def register(sub: argparse._SubParsersAction) -> None:
    outbox = sub.add_parser("outbox", help="events queued for the centre")
    actions = outbox.add_subparsers(dest="outbox_command", required=True, metavar="ACTION")
    status = actions.add_parser("status", help="depth and last delivery of the outbox (JSON)")
    status.add_argument("--config", default=str(DEFAULT_CONFIG), help="crossing config (default: the demo)")
    status.set_defaults(func=_status)


def register_bench(bench_sub: argparse._SubParsersAction) -> None:
    bench = bench_sub.add_parser(
        "outbox", help="events through broker outages and publisher kill -9s: are any lost? (real mosquitto)")
    bench.add_argument("--events", type=int, default=2000)
    bench.add_argument("--outages", type=int, default=100, help="broker stops and starts")
    bench.add_argument("--restarts", type=int, default=20, help="publisher kill -9s and restarts")
    bench.add_argument("--seed", type=int, default=1)
    bench.add_argument("--workdir", type=Path, help="keep the broker, outbox and logs here (default: a temp dir)")
    bench.set_defaults(func=_bench)


def _status(args: argparse.Namespace) -> int:
    config = load_for_command(args.config)
    path = config.state_dir / config.outbox.path
    if not path.exists():
        print(f"no outbox at {path} (nothing was ever queued)", file=sys.stderr)
        return 2
    try:
        with Outbox(path, config.checkpoint.id) as outbox:
            print(json.dumps({"outbox": str(path), "depth": outbox.depth(), "last_delivery": outbox.last_delivery(),
                              "last_seq": outbox.last_seq(), "central": config.central is not None}))
    except OutboxError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return 0


def _bench(args: argparse.Namespace) -> int:
    if min(args.events, args.outages, args.restarts) < 0 or args.events == 0:
        print("--events must be positive, --outages and --restarts not negative", file=sys.stderr)
        return 2
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        result = run_soak(args.workdir, args.events, args.outages, args.restarts, args.seed)
    else:
        with tempfile.TemporaryDirectory(prefix="edge-bench-outbox-") as workdir:
            result = run_soak(Path(workdir), args.events, args.outages, args.restarts, args.seed)
    print(json.dumps(result.to_json()))
    return 0 if result.lost == 0 else 1
