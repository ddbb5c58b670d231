"""`edge config check FILE`: validate a config file without starting anything."""

from __future__ import annotations

import argparse
import sys

from edge.config import DEFAULT_CONFIG, ConfigError, EdgeConfig, load_config

EXIT_BAD_CONFIG = 2


def register(sub: argparse._SubParsersAction) -> None:
    config = sub.add_parser("config", help="inspect and validate configuration")
    config_sub = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    check = config_sub.add_parser("check", help="validate a config file; exit 2 if it is broken")
    check.add_argument("file", nargs="?", default=str(DEFAULT_CONFIG))
    check.set_defaults(func=_check)


def load_for_command(path: str) -> EdgeConfig:
    """The config at `path`, or exit 2 with every problem listed by key (never a traceback).

    Every command that takes --config loads it through here, so they all fail the same way.
    """
    try:
        return load_config(path)
    except ConfigError as exc:
        print(f"config error in {exc.path}:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_CONFIG) from None


def _check(args: argparse.Namespace) -> int:
    config = load_for_command(args.file)
    lanes = ", ".join(lane.id for lane in config.lanes)
    print(f"{args.file}: ok (checkpoint {config.checkpoint.id}, lanes {lanes})")
    return 0
