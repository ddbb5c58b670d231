"""The recorder: audit first, then the outbox; and what a crash between the two left is queued at start."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from edge.recording.audit import DECISION, AuditLog
from edge.recording.outbox.queue import Outbox
from edge.recording.recorder import Recorder
from hardware.barrier import BarrierCommand
from tests.support.small_filesystem import fill, small_tmpfs


def _payloads(outbox: Outbox) -> list[dict]:
    return [json.loads(event.envelope("test"))["event"] for event in outbox.pending(0, 10_000)]


def test_every_record_is_audited_then_queued_with_its_audit_seq(tmp_path):
    audit, outbox = AuditLog(tmp_path / "audit"), Outbox(tmp_path / "outbox.sqlite", source="x")
    recorder = Recorder(audit, outbox, marker=tmp_path / "marker")
    command = BarrierCommand("lane-1/barrier", "open", "test", "officer", datetime.now(UTC))
    recorder.barrier_command("lane-1", "lane-1-c1", command)
    assert audit.head.seq == 1 and outbox.depth() == 1
    (event,) = _payloads(outbox)
    assert event["audit_seq"] == 1 and event["crossing_id"] == "lane-1-c1" and event["action"] == "open"
    assert recorder.catch_up() == 0, "nothing was left behind"


def test_records_audited_but_never_queued_are_queued_at_the_next_start(tmp_path):
    audit, outbox = AuditLog(tmp_path / "audit"), Outbox(tmp_path / "outbox.sqlite", source="x")
    recorder = Recorder(audit, outbox, marker=tmp_path / "marker")
    recorder.barrier_command("lane-1", "c0", BarrierCommand("b", "open", "r", "a", datetime.now(UTC)))
    # A crash between the audit append and the outbox put, many times over (and past one read chunk).
    for i in range(300):
        audit.append(DECISION, actor="lane", lane="lane-1", crossing_id=f"c{i + 1}", payload={"pad": "x" * 400})
    audit.append("config_change", actor="service", payload={})  # not an event for the centre
    restarted = Recorder(audit, outbox, marker=tmp_path / "marker")
    assert restarted.catch_up() == 300
    seqs = [event["audit_seq"] for event in _payloads(outbox)]
    assert seqs == list(range(1, 302)), "in audit order, none missing, the first one not queued twice"
    assert restarted.catch_up() == 0


def test_events_the_outbox_refused_are_queued_once_it_takes_events_again(tmp_path):
    with small_tmpfs(tmp_path / "small", size="256k") as small:
        audit, outbox = AuditLog(tmp_path / "audit"), Outbox(small / "outbox.sqlite", source="x")
        recorder = Recorder(audit, outbox, marker=tmp_path / "marker")

        def command(crossing_id: str) -> None:
            recorder.barrier_command("lane-1", crossing_id, BarrierCommand("b", "open", "r", "a", datetime.now(UTC)))

        command("c0")
        fill(small / "filler")
        command("c1")  # audited (another disk), refused by the outbox's full disk
        assert audit.head.seq == 2 and outbox.depth() == 1 and recorder.behind
        (small / "filler").unlink()
        command("c2")  # queued, but the marker must not pass c1
        assert recorder.behind and (tmp_path / "marker").read_text() == "1"
        assert recorder.catch_up() == 2 and not recorder.behind
        assert {event["audit_seq"] for event in _payloads(outbox)} == {1, 2, 3}, "c1 queued, c2 maybe twice"
        outbox.close()
