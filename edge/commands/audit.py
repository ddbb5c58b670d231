"""`edge audit verify|show|purge`: check the audit chain, read records, apply retention now."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import deque
from datetime import datetime
from pathlib import Path

from edge.commands.config import load_for_command
from edge.config import DEFAULT_CONFIG, AuditConfig
from edge.recording.audit import AuditError, AuditLog, Head, verify_log
from edge.recording.audit.log import LOG_NAME
from edge.recording.audit.records import UnreadableRecord, canonical_json, parse_line, utc_text
from edge.recording.audit.tail import complete_lines

EXIT_BROKEN = 1
EXIT_USAGE = 2


def register(sub: argparse._SubParsersAction) -> None:
    audit = sub.add_parser("audit", help="the audit log: verify the hash chain, show records, purge expired blobs")
    actions = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")

    verify = actions.add_parser("verify", help="check every record and link; exit 1 naming where the chain breaks")
    _where(verify, with_log=True)
    verify.add_argument("--head", type=_anchor, metavar="SEQ:HASH",
                        help="a head recorded elsewhere (e.g. at the centre): also detects records cut off the end")
    verify.add_argument("--json", action="store_true", help="print the report as one JSON object")
    verify.set_defaults(func=_verify)

    show = actions.add_parser("show", help="print records as JSON lines, oldest first")
    _where(show, with_log=True)
    show.add_argument("--kind", action="append", help="only this kind (repeatable)")
    show.add_argument("--lane")
    show.add_argument("--crossing", help="only records of this crossing id")
    show.add_argument("--since", type=_utc_text, help="only records at or after this UTC time (ISO 8601)")
    show.add_argument("--seq", type=int, help="only the record with this sequence number")
    show.add_argument("--last", type=_positive, metavar="N", help="only the last N matching records")
    show.set_defaults(func=_show)

    purge = actions.add_parser("purge", help="delete biometric data and images past retention (records keep hashes)")
    _where(purge, with_log=False)
    purge.set_defaults(func=_purge)


def _where(parser: argparse.ArgumentParser, with_log: bool) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--config", help="crossing config whose [audit] dir to use (default: the demo)")
    group.add_argument("--state-dir", type=Path, help="a crossing's state dir (audit log in its audit/ folder)")
    if with_log:
        group.add_argument("--log", type=Path, help="an audit log file, e.g. a copy handed to an auditor")


def _anchor(text: str) -> Head:
    match = re.fullmatch(r"(\d+):([0-9a-f]{64})", text)
    if not match:
        raise argparse.ArgumentTypeError("expected SEQ:HASH, e.g. 1042:<64 hex digits>")
    return Head(int(match[1]), match[2])


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def _utc_text(text: str) -> str:
    """An ISO time as records write it (UTC, microseconds, Z), so it compares as text."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a time zone, e.g. 2026-01-31T08:00:00Z")
    return utc_text(moment)


def _settings(args: argparse.Namespace) -> tuple[Path, AuditConfig]:
    """The audit directory and the retention settings the arguments point at."""
    if getattr(args, "log", None) is not None:
        return args.log.parent, AuditConfig()
    if args.state_dir is not None:
        return args.state_dir / AuditConfig().dir, AuditConfig()
    config = load_for_command(args.config or str(DEFAULT_CONFIG))
    return config.state_dir / config.audit.dir, config.audit


def _log_path(args: argparse.Namespace) -> Path:
    return args.log if getattr(args, "log", None) is not None else _settings(args)[0] / LOG_NAME


def _verify(args: argparse.Namespace) -> int:
    path = _log_path(args)
    try:
        report = verify_log(path, anchor=args.head)
    except FileNotFoundError:
        print(f"no audit log at {path}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"cannot read {path}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps({
            "log": str(report.path), "ok": report.ok, "records": report.records,
            "head": {"seq": report.head.seq, "hash": report.head.hash},
            "breaks": [{"line": b.line, "seq": b.seq, "problem": b.problem} for b in report.breaks],
            "damaged_blobs": list(report.damaged_blobs), "anchor_problem": report.anchor_problem,
            "torn_bytes": report.torn_bytes,
        }))
    else:
        verdict = "ok" if report.ok else "CHAIN BROKEN"
        print(f"{report.path}: {verdict}: {report.records} records, head seq {report.head.seq} {report.head.hash}")
        for problem in report.breaks:
            print(f"  {problem}")
        for blob in report.damaged_blobs:
            print(f"  blob {blob}: its bytes no longer match its hash (edited)")
        if report.anchor_problem:
            print(f"  {report.anchor_problem}")
        if report.torn_bytes:
            print(f"  note: the last {report.torn_bytes} bytes are an unfinished append (a crash); "
                  f"they are set aside and recorded when the log is next opened for writing")
    return 0 if report.ok else EXIT_BROKEN


def _show(args: argparse.Namespace) -> int:
    path = _log_path(args)
    try:
        lines, _ = complete_lines(path)
        matching: deque[str] = deque(maxlen=args.last)
        for number, raw in enumerate(lines, start=1):
            try:
                record = parse_line(raw)
            except UnreadableRecord as exc:
                print(f"{path} line {number}: not a record ({exc})", file=sys.stderr)
                continue
            if _wanted(record.fields(), args):
                matching.append(canonical_json(record.fields()))
    except FileNotFoundError:
        print(f"no audit log at {path}", file=sys.stderr)
        return EXIT_USAGE
    for line in matching:
        print(line)
    return 0


def _wanted(fields: dict, args: argparse.Namespace) -> bool:
    return ((not args.kind or fields["kind"] in args.kind)
            and (args.lane is None or fields["lane"] == args.lane)
            and (args.crossing is None or fields["crossing_id"] == args.crossing)
            and (args.since is None or fields["time"] >= args.since)
            and (args.seq is None or fields["seq"] == args.seq))


def _purge(args: argparse.Namespace) -> int:
    directory, retention = _settings(args)
    try:
        with AuditLog(directory) as log:
            result = log.purge_expired(retention)
    except AuditError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BROKEN
    seq = result.record.seq if result.record else None
    print(json.dumps({"purged": len(result.purged), "record_seq": seq,
                      "blobs": [ref.to_json() for ref in result.purged]}))
    return 0
