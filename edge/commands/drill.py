"""`edge drill check FILE`: validate a training drill file, naming the key of any error."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edge.drills.scenarios import DrillError, load_drill


def register(sub: argparse._SubParsersAction) -> None:
    drill = sub.add_parser("drill", help="training drills for officers on a training lane")
    drill_sub = drill.add_subparsers(dest="drill_command", required=True, metavar="COMMAND")
    check = drill_sub.add_parser("check", help="validate a drill file without running it")
    check.add_argument("file", type=Path)
    check.set_defaults(func=_check)


def _check(args: argparse.Namespace) -> int:
    try:
        drill = load_drill(args.file)
    except DrillError as exc:
        print(f"{exc.path}: not a usable drill:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    kinds = sorted({s.kind for s in drill.scenario})
    print(f"{args.file}: ok ({drill.drill.name}: {len(drill.scenario)} scenarios; kinds {', '.join(kinds)})")
    return 0
