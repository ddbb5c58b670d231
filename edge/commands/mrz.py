"""`edge mrz LINE...`: parse and verify an MRZ, print it as JSON.

Exit status: 0 valid, 1 well-formed but failing a check (the reader would ask for a re-scan),
2 not an MRZ at all. With no LINE, the lines are read from stdin.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from hardware.mrz import MrzFormatError, parse_mrz, split_mrz_text

EXIT_RESCAN = 1
EXIT_NOT_MRZ = 2


def register(sub: argparse._SubParsersAction) -> None:
    mrz = sub.add_parser("mrz", help="parse an MRZ (TD1, TD2, TD3, MRV-A, MRV-B) and print it as JSON")
    mrz.add_argument("lines", nargs="*", metavar="LINE", help="MRZ lines (quote them: '<' is special to shells)")
    mrz.add_argument("--today", type=date.fromisoformat, help="date that decides date centuries (default: today)")
    mrz.set_defaults(func=_mrz)


def _mrz(args: argparse.Namespace) -> int:
    text = "\n".join(args.lines) if args.lines else sys.stdin.read()
    try:
        parsed = parse_mrz(split_mrz_text(text), today=args.today)
    except MrzFormatError as exc:
        print(json.dumps({"valid": False, "error": str(exc)}))
        return EXIT_NOT_MRZ
    print(json.dumps(parsed.to_json()))
    return 0 if parsed.valid else EXIT_RESCAN
