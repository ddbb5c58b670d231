"""Attacks on the audit log: edits `edge audit verify` must locate (same-meaning rewrites too), a
service killed mid-action, and a service started on an edited log. These stop and restart the
service, so they run last."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path

from websockets.exceptions import ConnectionClosed

from edge.attacks.campaign import Breach, attack
from edge.attacks.cli import run_edge
from edge.attacks.crossings import next_pending
from edge.attacks.kiosk import logged_in
from edge.attacks.target import Target

ALARM_WAIT_S = 60.0
KILLS = 2


def _lines(target: Target) -> list[bytes]:
    """The service's audit log so far, as complete lines; at least a few dozen by now."""
    lines = target.service().audit_path.read_bytes().split(b"\n")[:-1]
    if len(lines) < 10:
        raise RuntimeError(f"the audit log holds only {len(lines)} records; nothing to edit")
    return lines


def _verify_copy(target: Target, name: str, lines: list[bytes]) -> tuple[int, str]:
    copy = target.scratch / f"audit-{name}.jsonl"
    copy.write_bytes(b"".join(line + b"\n" for line in lines))
    run = run_edge("audit", "verify", "--log", copy)
    return run.returncode, run.stdout + run.stderr


def _located(target: Target, edits: dict[str, tuple[list[bytes], int]]) -> None:
    """Each edited copy fails `edge audit verify`, which names the line edited (1-based)."""
    missed = []
    for name, (lines, line) in edits.items():
        code, said = _verify_copy(target, name, lines)
        if code != 1 or f"line {line}" not in said:
            missed.append(f"{name}: exit {code}, said {said.strip()[:200]!r}")
    if missed:
        raise Breach("; ".join(missed))


def _rewritten(lines: list[bytes], index: int, rewrite: Callable[[bytes], bytes]) -> list[bytes]:
    edited = list(lines)
    edited[index] = rewrite(lines[index])
    if edited[index] == lines[index]:
        raise RuntimeError("the rewrite changed nothing")
    return edited


@attack("audit-same-meaning", "audit lines rewritten with the same meaning: a space, an escaped letter, keys "
        "reordered", finding=17)
def audit_same_meaning(target: Target) -> None:
    lines = _lines(target)
    at = len(lines) // 2

    def reordered(line: bytes) -> bytes:
        return json.dumps(dict(reversed(list(json.loads(line).items()))), separators=(",", ":")).encode()

    _located(target, {
        "a space": (_rewritten(lines, at, lambda line: line.replace(b":", b": ", 1)), at + 1),
        "an escaped letter": (_rewritten(lines, at, lambda line: line.replace(b'"kind"', b'"\\u006bind"', 1)), at + 1),
        "keys reordered": (_rewritten(lines, at, reordered), at + 1),
        "a trailing space": (_rewritten(lines, at, lambda line: line + b" "), at + 1),
    })


@attack("audit-edits", "audit records edited, deleted, swapped and inserted")
def audit_edits(target: Target) -> None:
    lines = _lines(target)
    at = len(lines) // 2

    def edited_actor(line: bytes) -> bytes:
        record = json.loads(line)
        record["actor"] = "someone else"
        return json.dumps(record, separators=(",", ":"), sort_keys=True).encode()

    swapped = list(lines)
    swapped[at], swapped[at + 1] = lines[at + 1], lines[at]
    _located(target, {
        "an actor changed": (_rewritten(lines, at, edited_actor), at + 1),
        "a record deleted": (lines[:at] + lines[at + 1:], at + 1),
        "two records swapped": (swapped, at + 1),
        "a record inserted": ([*lines[:at], lines[at - 1], *lines[at:]], at + 1),
    })


def _keep_acting(target: Target, stop: threading.Event) -> None:
    """Officer actions and barrier tests, as fast as the service takes them, until the kill."""
    officer, tech = logged_in(target, "officer"), logged_in(target, "tech")
    while not stop.is_set():
        try:
            pending = next_pending(officer, {"CLEAR", "REFER", "DENY"})
            officer.post_json(pending.action_path(), {"kind": "refer", "revision": pending.revision}, timeout=5)
            tech.post_json(f"/api/lanes/{pending.lane_id}/devices/barrier/test", {}, timeout=5)
        except (OSError, TimeoutError, ValueError, KeyError, ConnectionClosed):
            return  # the service is gone


@attack("kill-9-mid-action", f"SIGKILL to the service while officers act, {KILLS} times; the chain still verifies")
def kill_9_mid_action(target: Target) -> None:
    for _ in range(KILLS):
        target.service()
        stop = threading.Event()
        actor = threading.Thread(target=_keep_acting, args=(target, stop), daemon=True)
        actor.start()
        time.sleep(random.uniform(5.0, 15.0))
        target.kill()
        stop.set()
        actor.join(timeout=30)
        target.start(ready=True)
    run = run_edge("audit", "verify", "--config", target.config_path)
    if run.returncode != 0:
        raise Breach(f"after {KILLS} kills the audit log does not verify: {run.said()}")


@attack("edited-log-at-start", "the service started on an audit log with a record edited", finding=18)
def edited_log_at_start(target: Target) -> None:
    target.service().stop()
    path: Path = target.audit_path
    lines = path.read_bytes().split(b"\n")
    at = len(lines) // 2
    record = json.loads(lines[at])
    record["actor"] = "nobody"
    lines[at] = json.dumps(record, separators=(",", ":"), sort_keys=True).encode()
    path.write_bytes(b"\n".join(lines))
    target.start(ready=False)
    deadline = time.monotonic() + ALARM_WAIT_S
    status, body = target.get("/readyz")
    while b"audit chain broken" not in body and time.monotonic() < deadline:
        time.sleep(0.5)
        status, body = target.get("/readyz")
    _, metrics = target.get("/metrics")
    officer = logged_in(target, "officer")
    kiosk = officer.get("/api/status").json().get("audit") or {}
    problems = []
    if status != 503 or b"audit chain broken" not in body:
        problems.append(f"/readyz said {status} {body[:80]!r}")
    if b"edge_audit_chain_broken 1" not in metrics:
        problems.append("the metrics show no broken chain")
    if kiosk.get("state") != "broken":
        problems.append(f"the kiosk's status shows {kiosk}")
    if f"seq {record['seq']}" not in target.log() and f"line {at + 1}" not in target.log():
        problems.append("the log names no edited record")
    if problems:
        raise Breach("; ".join(problems))
