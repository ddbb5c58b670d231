"""`edge report --from --to [--lane] --format html|csv|json`: the supervisor's figures for a period."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from edge.bench import report as report_bench
from edge.config import DEFAULT_CONFIG, ConfigError, load_config
from edge.report import report_for
from edge.report.render import as_csv, as_html, as_json

RENDERERS = {"html": as_html, "csv": as_csv, "json": as_json}


def moment(text: str) -> float:
    """An ISO date or date and time (UTC unless it says otherwise), as argparse's type."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (2026-12-01) or date and time "
                                         "(2026-12-01T08:00)") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("report", help="the supervisor's report: waits, decisions, overrides, reads, faults")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--from", dest="start", type=moment, help="start (UTC unless given); default: 24 h ago")
    parser.add_argument("--to", dest="end", type=moment, help="end, not included; default: now")
    parser.add_argument("--lane", help="one lane's figures only")
    parser.add_argument("--bucket", choices=("hour", "day"), default="hour", help="the time series' step")
    parser.add_argument("--format", choices=tuple(RENDERERS), default="html")
    parser.add_argument("--output", type=Path, help="write here instead of stdout")
    parser.set_defaults(func=_run)


def register_bench(bench: argparse._SubParsersAction) -> None:
    report_bench.register_bench(bench)


def _run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"edge report: {exc}", file=sys.stderr)
        return 2
    end = args.end if args.end is not None else time.time()
    start = args.start if args.start is not None else end - 86400
    if start >= end:
        print("edge report: --from must be before --to", file=sys.stderr)
        return 2
    if args.lane is not None and args.lane not in {lane.id for lane in config.lanes}:
        print(f"edge report: no lane {args.lane!r} in {args.config}", file=sys.stderr)
        return 2
    text = RENDERERS[args.format](report_for(config, start, end, args.lane, args.bucket))
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        print(f"report written to {args.output}", file=sys.stderr)
    return 0
