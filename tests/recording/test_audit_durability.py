"""The audit log under a kill -9 and on a full disk (a real, size-limited tmpfs mount)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.recording.audit import DECISION, AuditError, AuditLog, verify_log
from tests.support.small_filesystem import fill, small_tmpfs

APPENDER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from edge.recording.audit import AuditLog
    log = AuditLog(Path(sys.argv[1]))
    n = 0
    while True:
        record = log.append("decision", actor="lane", lane="lane-1", payload={"n": n, "pad": "x" * 3000})
        print(record.seq, record.hash, flush=True)  # acknowledged: the action would happen now
        n += 1
""")


def test_kill_9_mid_append_loses_no_acknowledged_record(tmp_path):
    directory = tmp_path / "audit"
    child = subprocess.Popen([sys.executable, "-c", APPENDER, str(directory)], stdout=subprocess.PIPE, text=True)
    acknowledged = []
    try:
        assert child.stdout is not None
        while len(acknowledged) < 200:
            line = child.stdout.readline()
            assert line, f"appender exited with {child.wait()}"
            acknowledged.append(line.split())
        child.send_signal(signal.SIGKILL)
        acknowledged += [line.split() for line in child.stdout.read().splitlines()]
    finally:
        child.kill()
        child.wait()
    with AuditLog(directory) as log:
        stored = [json.loads(line) for line in log.path.read_bytes().splitlines()]
        by_seq = {r["seq"]: r["hash"] for r in stored}
        for seq, digest in acknowledged:
            assert by_seq[int(seq)] == digest
        after = log.append(DECISION, actor="lane")
    assert after.seq == stored[-1]["seq"] + 1
    assert verify_log(directory / "audit.jsonl").ok


@pytest.fixture
def small_fs(tmp_path) -> Iterator[Path]:
    with small_tmpfs(tmp_path / "small") as mounted:
        yield mounted


def test_full_disk_refuses_the_append_and_keeps_the_log_whole(small_fs):
    with AuditLog(small_fs / "audit") as log:
        log.append(DECISION, actor="lane", payload={"n": 0})
        filler = small_fs / "filler"
        fill(filler)
        with pytest.raises(AuditError, match=r"cannot record decision: No space left on device; the action must not"):
            for n in range(1, 1000):  # the log's last page still has room for a few records
                log.append(DECISION, actor="lane", payload={"n": n, "pad": "y" * 700})
        refused_at = log.head.seq + 1
        report = verify_log(log.path)
        assert report.ok and report.torn_bytes == 0 and report.records == log.head.seq
        with pytest.raises(AuditError, match="cannot store biometric blob"):
            log.put_blob(os.urandom(8192), "biometric")

        filler.unlink()
        record = log.append(DECISION, actor="lane", payload={"n": "after"})
    assert record.seq == refused_at
    assert verify_log(small_fs / "audit" / "audit.jsonl").ok


def test_a_log_left_at_a_full_disk_opens_and_continues(small_fs):
    directory = small_fs / "audit"
    with AuditLog(directory) as log:
        log.append(DECISION, actor="lane")
    fill(small_fs / "filler")
    with AuditLog(directory) as log:
        with pytest.raises(AuditError):
            for _ in range(1000):
                log.append(DECISION, actor="lane", payload={"pad": "z" * 700})
        seq = log.head.seq
    (small_fs / "filler").unlink()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and os.statvfs(small_fs).f_bavail == 0:
        time.sleep(0.05)
    with AuditLog(directory) as log:
        assert log.append(DECISION, actor="lane").seq == seq + 1
