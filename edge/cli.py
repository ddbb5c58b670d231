"""The `edge` command: one entry point, subcommands registered by their own modules."""

from __future__ import annotations

import argparse
import importlib
import sys

# Order is the order of `edge --help`.
COMMAND_MODULES = (
    "edge.commands.run",
    "edge.commands.config",
    "edge.bench.lane",
    "edge.bench.soak",
    "edge.bench.attacks",
    "edge.commands.camera",
    "edge.commands.alpr",
    "edge.commands.watchlist",
    "edge.commands.synth",
    "edge.commands.faces",
    "edge.commands.device",
    "edge.commands.mrz",
    "edge.commands.audit",
    "edge.commands.report",
    "edge.commands.drill",
    "edge.commands.outbox",
    "edge.commands.service",
    "edge.commands.calibrate",
    "edge.commands.users",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edge", description="Checkpoint Edge: runs the lanes of a crossing.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    bench = sub.add_parser("bench", help="measure a stage; prints one JSON object on the last line")
    bench_sub = bench.add_subparsers(dest="bench", required=True, metavar="STAGE")
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        module.register(sub)
        if hasattr(module, "register_bench"):
            module.register_bench(bench_sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `edge ... | head` closed the pipe: not an error worth a traceback.
        sys.stderr.close()
        return 0
