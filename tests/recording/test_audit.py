"""The audit log: chained, durable appends; every kind of tampering found and located; blobs and retention."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

import pytest

from edge.config import AuditConfig
from edge.recording.audit import (
    AUDIT_REPAIR,
    DECISION,
    RETENTION_PURGE,
    AuditBusy,
    AuditCorrupt,
    AuditError,
    AuditLog,
    Head,
    InvalidRecord,
    verify_log,
)
from edge.recording.audit.records import GENESIS, canonical_json, record_hash

DAY = 86400


def _fill(log: AuditLog, count: int) -> None:
    for i in range(count):
        log.append(DECISION, actor="lane", lane="lane-1", crossing_id=f"c-{i}", payload={"outcome": "CLEAR", "n": i})


def _lines(log_path: Path) -> list[bytes]:
    return log_path.read_bytes().splitlines(keepends=True)


def _rewrite(log_path: Path, lines: list[bytes]) -> None:
    log_path.write_bytes(b"".join(lines))


def _breaks(log_path: Path, anchor: Head | None = None) -> list[str]:
    report = verify_log(log_path, anchor)
    assert report.ok == (not report.breaks and report.anchor_problem is None)
    return [str(b) for b in report.breaks] + ([report.anchor_problem] if report.anchor_problem else [])


@pytest.fixture
def log(tmp_path) -> AuditLog:
    with AuditLog(tmp_path / "audit") as opened:
        yield opened


def test_records_chain_and_survive_reopening(tmp_path):
    directory = tmp_path / "audit"
    with AuditLog(directory) as log:
        first = log.append(DECISION, actor="lane", lane="lane-1", crossing_id="c-1",
                           payload={"outcome": "REFER", "reasons": ("watchlist_hit",), "score": 0.25})
        second = log.append("officer_action", actor="officer:jdoe", lane="lane-1", crossing_id="c-1",
                            payload={"action": "confirm"})
    assert (first.seq, first.prev) == (1, GENESIS)
    assert (second.seq, second.prev) == (2, first.hash)
    assert first.payload == {"outcome": "REFER", "reasons": ["watchlist_hit"], "score": 0.25}
    assert first.time.endswith("Z") and len(first.time) == len("2026-01-01T00:00:00.000000Z")
    with AuditLog(directory) as log:
        assert log.head == Head(2, second.hash)
        third = log.append("barrier_command", actor="lane", lane="lane-1", crossing_id="c-1", payload={"open": 1})
    assert (third.seq, third.prev) == (3, second.hash)
    stored = [json.loads(line) for line in _lines(directory / "audit.jsonl")]
    assert [r["seq"] for r in stored] == [1, 2, 3]
    assert all(record_hash(r) == r["hash"] for r in stored)
    # Canonical: what is on disk is exactly what was hashed, keys sorted, no spaces.
    assert _lines(directory / "audit.jsonl")[1] == second.line()
    report = verify_log(directory / "audit.jsonl")
    assert report.ok and report.records == 3 and report.head == Head(3, third.hash)


def test_bad_input_is_refused_and_nothing_is_written(log):
    log.append(DECISION, actor="lane")
    size = log.path.stat().st_size
    with pytest.raises(InvalidRecord, match="kind 'Decision!'"):
        log.append("Decision!", actor="lane")
    with pytest.raises(InvalidRecord, match="actor"):
        log.append(DECISION, actor="")
    with pytest.raises(InvalidRecord, match="not representable in JSON"):
        log.append(DECISION, actor="lane", payload={"score": float("nan")})
    with pytest.raises(InvalidRecord, match="not representable in JSON"):
        log.append(DECISION, actor="lane", payload={"image": b"\x89PNG"})
    with pytest.raises(InvalidRecord, match="keys must be strings"):
        log.append(DECISION, actor="lane", payload={1: "x"})
    assert log.path.stat().st_size == size
    assert log.append(DECISION, actor="lane").seq == 2


def test_lanes_appending_at_once_make_one_unbroken_chain(log):
    def lane(name: str) -> None:
        for i in range(40):
            log.append(DECISION, actor="lane", lane=name, crossing_id=f"{name}-{i}", payload={"i": i})

    threads = [threading.Thread(target=lane, args=(f"lane-{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records = [json.loads(line) for line in _lines(log.path)]
    assert [r["seq"] for r in records] == list(range(1, 161))
    for lane_id in ("lane-0", "lane-3"):
        assert [r["payload"]["i"] for r in records if r["lane"] == lane_id] == list(range(40))
    assert verify_log(log.path).ok


def test_a_second_writer_is_refused(log):
    with pytest.raises(AuditBusy, match="open for appending by another process"):
        AuditLog(log.directory)
    log.close()
    with AuditLog(log.directory) as again:
        assert again.head.seq == 0


def test_edited_record_is_named(log):
    _fill(log, 5)
    lines = _lines(log.path)
    lines[2] = lines[2].replace(b'"outcome":"CLEAR"', b'"outcome":"DENY"')
    _rewrite(log.path, lines)
    assert _breaks(log.path) == ["line 3 (seq 3): content does not match its hash: the record was edited"]


def test_edited_and_rehashed_record_breaks_the_next_link(log):
    _fill(log, 5)
    lines = _lines(log.path)
    forged = json.loads(lines[2])
    forged["payload"]["outcome"] = "DENY"
    forged["hash"] = record_hash(forged)
    lines[2] = (canonical_json(forged) + "\n").encode()  # written as the log writes, to hide the edit
    _rewrite(log.path, lines)
    [problem] = _breaks(log.path)
    assert problem.startswith("line 4 (seq 4): its prev does not match the hash of seq 3 (line 3)")


def test_deleted_record_is_named(log):
    _fill(log, 5)
    lines = _lines(log.path)
    del lines[1]
    _rewrite(log.path, lines)
    assert _breaks(log.path) == [
        "line 2 (seq 3): seq 3 where 2 was expected: record 2 is missing here (deleted or moved)"]


def test_deleted_first_record_is_named(log):
    _fill(log, 3)
    _rewrite(log.path, _lines(log.path)[1:])
    assert _breaks(log.path) == [
        "line 1 (seq 2): seq 2 where 1 was expected: record 1 is missing here (deleted or moved)"]


def test_reordered_records_are_named(log):
    _fill(log, 5)
    lines = _lines(log.path)
    lines[1], lines[3] = lines[3], lines[1]
    _rewrite(log.path, lines)
    assert _breaks(log.path) == [
        "line 2 (seq 4): seq 4 where 2 was expected: records 2-3 are missing here (deleted or moved)",
        "line 3 (seq 3): seq 3 follows seq 4: out of order (moved)",
        "line 4 (seq 2): seq 2 follows seq 4: out of order (moved)",
    ]


def test_inserted_record_is_named(log):
    _fill(log, 4)
    lines = _lines(log.path)
    # A well-formed record that claims the place of seq 3, with a correct link to seq 2.
    forged = json.loads(lines[2])
    forged["payload"] = {"outcome": "CLEAR", "n": 99}
    forged["hash"] = record_hash(forged)
    lines.insert(2, (canonical_json(forged) + "\n").encode())
    _rewrite(log.path, lines)
    assert _breaks(log.path) == ["line 4 (seq 3): seq 3 already appeared at line 3: one of the two was inserted"]


def test_garbage_line_is_named(log):
    _fill(log, 3)
    lines = _lines(log.path)
    lines.insert(1, b"rm -rf /\n")
    _rewrite(log.path, lines)
    [problem] = _breaks(log.path)
    assert problem.startswith("line 2: not a record: not a JSON line")


def test_records_cut_off_the_end_show_only_against_an_anchor(log):
    _fill(log, 5)
    anchor = log.head
    log.close()
    _rewrite(log.path, _lines(log.path)[:3])
    assert _breaks(log.path) == []  # a chain alone cannot know it was longer
    assert _breaks(log.path, anchor) == [
        "the log ends at seq 3 but the anchor says seq 5 was written: records were removed from the end"]


def test_rewritten_log_shows_against_an_anchor(tmp_path):
    with AuditLog(tmp_path / "a") as real:
        _fill(real, 3)
        anchor = real.head
    with AuditLog(tmp_path / "b") as forged:
        forged.append(DECISION, actor="lane", crossing_id="c-0", payload={"outcome": "DENY"})
        _fill(forged, 2)
    [problem] = _breaks(forged.path, anchor)
    assert problem.startswith("seq 3 has hash ") and "the log was rewritten" in problem


def test_torn_last_line_is_set_aside_recorded_and_earlier_records_kept(tmp_path):
    directory = tmp_path / "audit"
    with AuditLog(directory) as log:
        _fill(log, 3)
        head = log.head
    torn = b'{"actor":"lane","crossing_id":"c-9","ha'
    with (directory / "audit.jsonl").open("ab") as f:
        f.write(torn)
    before = verify_log(directory / "audit.jsonl")
    assert before.ok and before.torn_bytes == len(torn) and before.head == head
    with AuditLog(directory) as log:
        repair = json.loads(_lines(log.path)[-1])
        assert (repair["seq"], repair["kind"], repair["prev"]) == (4, AUDIT_REPAIR, head.hash)
        assert repair["payload"]["torn_bytes"] == len(torn)
        assert repair["payload"]["torn_sha256"] == hashlib.sha256(torn).hexdigest()
        assert (directory / repair["payload"]["kept_as"]).read_bytes() == torn
        assert log.append(DECISION, actor="lane").seq == 5
    after = verify_log(directory / "audit.jsonl")
    assert after.ok and after.records == 5 and after.torn_bytes == 0
    assert [json.loads(line)["seq"] for line in _lines(directory / "audit.jsonl")] == [1, 2, 3, 4, 5]


def test_last_line_of_nul_bytes_counts_as_torn(tmp_path):
    # After a power cut a file can keep its new length while the appended bytes read as zeros.
    directory = tmp_path / "audit"
    with AuditLog(directory) as log:
        _fill(log, 2)
    with (directory / "audit.jsonl").open("ab") as f:
        f.write(b"\x00" * 300 + b"\n")
    with AuditLog(directory) as log:
        assert log.head.seq == 3
        assert json.loads(_lines(log.path)[-1])["payload"]["torn_bytes"] == 301
    assert verify_log(directory / "audit.jsonl").ok


def test_repair_interrupted_before_its_record_is_finished_on_next_open(tmp_path):
    directory = tmp_path / "audit"
    with AuditLog(directory) as log:
        _fill(log, 2)
    # What a crash after setting the bytes aside, and before recording that, leaves behind.
    (directory / "torn").mkdir()
    (directory / "torn" / "20260101T000000000000Z-500.unrecorded").write_bytes(b'{"seq":3')
    with AuditLog(directory) as log:
        assert log.head.seq == 3
    assert [p.name for p in (directory / "torn").iterdir()] == ["20260101T000000000000Z-500.bin"]
    assert json.loads(_lines(directory / "audit.jsonl")[-1])["payload"]["kept_as"] == \
        "torn/20260101T000000000000Z-500.bin"


def test_damaged_last_record_is_not_mistaken_for_a_crash(tmp_path):
    directory = tmp_path / "audit"
    with AuditLog(directory) as log:
        _fill(log, 3)
    lines = _lines(directory / "audit.jsonl")
    lines[-1] = lines[-1].replace(b"CLEAR", b"DENY!")
    _rewrite(directory / "audit.jsonl", lines)
    with pytest.raises(AuditCorrupt, match=r"the last record .*\(seq 3\) does not match its hash; this is damage"):
        AuditLog(directory)
    _rewrite(directory / "audit.jsonl", [*lines[:-1], b"not json\n"])
    with pytest.raises(AuditCorrupt, match="is unreadable: not a JSON line"):
        AuditLog(directory)
    assert _lines(directory / "audit.jsonl")[:2] == lines[:2]  # nothing was cut


def test_blobs_are_addressed_by_hash_and_tampering_shows(log):
    portrait = b"portrait bytes" * 100
    ref = log.put_blob(portrait, "biometric")
    assert ref.sha256 == hashlib.sha256(portrait).hexdigest() and ref.bytes == len(portrait)
    log.append(DECISION, actor="lane", payload={"portrait": ref.to_json()})
    path = log.blobs.path(ref.sha256, "biometric")
    assert path.read_bytes() == portrait
    assert verify_log(log.path).ok
    path.write_bytes(b"someone else")
    report = verify_log(log.path)
    assert not report.ok and report.damaged_blobs == (str(path),)
    with pytest.raises(InvalidRecord, match="category 'audio'"):
        log.put_blob(b"x", "audio")


def test_retention_purges_old_blobs_and_records_their_hashes(log):
    now = 1_900_000_000.0
    old_face = log.put_blob(b"old face", "biometric")
    new_face = log.put_blob(b"new face", "biometric")
    old_scene = log.put_blob(b"old scene", "image")
    os.utime(log.blobs.path(old_face.sha256, "biometric"), (now - 31 * DAY, now - 31 * DAY))
    os.utime(log.blobs.path(new_face.sha256, "biometric"), (now - 29 * DAY, now - 29 * DAY))
    os.utime(log.blobs.path(old_scene.sha256, "image"), (now - 31 * DAY, now - 31 * DAY))
    decision = log.append(DECISION, actor="lane", payload={"faces": [old_face.to_json(), new_face.to_json()],
                                                           "scene": old_scene.to_json()})

    result = log.purge_expired(AuditConfig(biometric_retention_days=30, image_retention_days=90), now=now)

    assert result.purged == (old_face,)
    assert result.record is not None and result.record.kind == RETENTION_PURGE
    assert result.record.payload["blobs"] == [old_face.to_json()]
    assert not log.blobs.path(old_face.sha256, "biometric").exists()
    assert log.blobs.path(new_face.sha256, "biometric").exists()
    assert log.blobs.path(old_scene.sha256, "image").exists()  # images are kept longer
    # The decision still names the purged face by its hash, and the chain is whole.
    assert json.loads(_lines(log.path)[decision.seq - 1])["payload"]["faces"][0]["sha256"] == old_face.sha256
    assert verify_log(log.path).ok
    assert log.purge_expired(AuditConfig(), now=now) == type(result)(None, ())


def test_storing_a_blob_again_restarts_its_retention(log):
    now = 1_900_000_000.0
    ref = log.put_blob(b"scene", "image")
    path = log.blobs.path(ref.sha256, "image")
    os.utime(path, (now - 100 * DAY, now - 100 * DAY))
    log.put_blob(b"scene", "image")
    assert log.purge_expired(AuditConfig(image_retention_days=90), now=path.stat().st_mtime + DAY).purged == ()


def test_closed_log_refuses_appends(log):
    log.close()
    with pytest.raises(AuditError, match="is closed: cannot record decision"):
        log.append(DECISION, actor="lane")
