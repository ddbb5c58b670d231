"""`edge config check FILE`: validate a config file without starting anything."""

from __future__ import annotations

import argparse
import sys

from edge.config import DEFAULT_CONFIG, ConfigError, load_config

EXIT_BAD_CONFIG = 2


def register(sub: argparse._SubParsersAction) -> None:
    config = sub.add_parser("config", help="inspect and validate configuration")
    config_sub = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    check = config_sub.add_parser("check", help="validate a config file; exit 2 if it is broken")
    check.add_argument("file", nargs="?", default=str(DEFAULT_CONFIG))
    check.set_defaults(func=_check)


def _check(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.file)
    except ConfigError as exc:
        print(f"config error in {exc.path}:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    lanes = ", ".join(lane.id for lane in config.lanes)
    print(f"{args.file}: ok (crossing {config.crossing.id}, lanes {lanes})")
    return 0
