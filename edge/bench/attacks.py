"""`edge bench attacks`: the attack campaign against the demo service (see edge.attacks)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path


def register(_sub: argparse._SubParsersAction) -> None:
    """No command of its own: only `edge bench attacks`."""


def register_bench(bench: argparse._SubParsersAction) -> None:
    attacks = bench.add_parser("attacks", help="replay every known attack on the demo service; which held")
    attacks.add_argument("--only", action="append", metavar="TEXT",
                         help="only attacks whose name holds TEXT (repeatable)")
    attacks.add_argument("--list", action="store_true", help="list the attacks and exit")
    attacks.add_argument("--flood-seconds", type=float, default=30.0,
                         help="how long the login flood lasts (default 30)")
    attacks.add_argument("--keep", type=Path, metavar="DIR",
                         help="work in DIR and keep it (the service's log, state and audit log) for a post-mortem")
    attacks.set_defaults(func=_bench)


def _bench(args: argparse.Namespace) -> int:
    from edge.attacks.campaign import RSS_LIMIT_MB, all_attacks, run_attacks
    from edge.attacks.target import Target

    chosen = [a for a in all_attacks() if not args.only or any(text in a.name for text in args.only)]
    if args.list:
        for a in chosen:
            print(f"{a.name:36} {f'#{a.finding}' if a.finding else '':4} {a.what}")
        return 0
    if not chosen:
        print(f"no attack's name holds {' or '.join(args.only)}; see --list", file=sys.stderr)
        return 2
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as temporary:
        scratch = args.keep or Path(temporary)
        scratch.mkdir(parents=True, exist_ok=True)
        # What the attacked code logs in this process (the sync's refusals) goes beside the service's log.
        logging.basicConfig(filename=scratch / "campaign.log", level=logging.INFO, force=True)
        target = Target(scratch, flood_seconds=args.flood_seconds)
        failed: list[str] = []
        try:
            for verdict in run_attacks(chosen, target):
                mark = "held  " if verdict.held else "FAILED"
                print(f"{mark} {verdict.attack.name} ({verdict.seconds:.1f} s)"
                      + (f": {verdict.detail}" if verdict.detail else ""), flush=True)
                if not verdict.held:
                    failed.append(verdict.attack.name)
        finally:
            target.close()
    if target.rss_max_mb > RSS_LIMIT_MB:
        print(f"FAILED service memory: {target.rss_max_mb:.0f} MB RSS at its peak, over {RSS_LIMIT_MB:.0f}")
        failed.append("service-memory")
    print(json.dumps({"attacks": len(chosen), "held": len(chosen) - len([f for f in failed if f != "service-memory"]),
                      "failed": failed, "service_rss_max_mb": round(target.rss_max_mb, 1),
                      "findings_replayed": sorted({a.finding for a in chosen if a.finding}),
                      "seconds": round(time.monotonic() - started, 1)}))
    return 1 if failed else 0
