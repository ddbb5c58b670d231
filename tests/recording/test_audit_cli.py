"""`edge audit verify|show|purge`, and the [audit] config section."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
from pathlib import Path

import pytest

from edge.cli import main
from edge.config import DEFAULT_CONFIG, ConfigError, parse_config
from edge.recording.audit import DECISION, AuditLog
from edge.synthetic.scratch import demo_config_text


def _edge(*args: object) -> subprocess.CompletedProcess[str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


@pytest.fixture
def state_dir(tmp_path) -> Path:
    state = tmp_path / "state"
    with AuditLog(state / "audit") as log:
        for i, lane in enumerate(("lane-1", "lane-2", "lane-1", "lane-1")):
            log.append(DECISION, actor="lane", lane=lane, crossing_id=f"c-{i}", payload={"n": i})
        log.append("officer_action", actor="officer:jdoe", lane="lane-1", crossing_id="c-3",
                   payload={"action": "confirm"})
    return state


def _config(tmp_path: Path, state: Path, audit_section: str = "") -> Path:
    text = demo_config_text(state)
    path = tmp_path / "edge.toml"
    path.write_text(text + audit_section)
    return path


def test_verify_ok(state_dir):
    result = _edge("audit", "verify", "--state-dir", state_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{state_dir / 'audit' / 'audit.jsonl'}: ok: 5 records, head seq 5 ")


def test_verify_names_the_break_and_exits_1(state_dir):
    log_path = state_dir / "audit" / "audit.jsonl"
    lines = log_path.read_bytes().splitlines(keepends=True)
    del lines[2]
    log_path.write_bytes(b"".join(lines))
    result = _edge("audit", "verify", "--log", log_path)
    assert result.returncode == 1
    assert "CHAIN BROKEN" in result.stdout
    assert "line 3 (seq 4): seq 4 where 3 was expected: record 3 is missing here" in result.stdout
    report = json.loads(_edge("audit", "verify", "--log", log_path, "--json").stdout)
    assert report["ok"] is False and report["breaks"][0]["line"] == 3 and report["breaks"][0]["seq"] == 4


@pytest.mark.parametrize("rewrite", [
    lambda line: line.replace(b'"kind":', b'"kind": ', 1),  # a space
    lambda line: line.replace(b'"kind"', b'"\\u006bind"', 1),  # an escaped key: the same JSON
    lambda line: json.dumps(dict(reversed(json.loads(line).items())), separators=(",", ":")).encode(),  # key order
], ids=["space", "escaped key", "fields reordered"])
def test_verify_names_a_line_rewritten_with_the_same_meaning(state_dir, rewrite):
    # Issue 13, finding 17: these parse to the same record with the same hash, and verify said ok.
    log_path = state_dir / "audit" / "audit.jsonl"
    lines = log_path.read_bytes().splitlines(keepends=True)
    changed = rewrite(lines[1].rstrip(b"\n"))
    assert changed != lines[1].rstrip(b"\n") and json.loads(changed) == json.loads(lines[1])
    lines[1] = changed + b"\n"
    log_path.write_bytes(b"".join(lines))
    result = _edge("audit", "verify", "--log", log_path)
    assert result.returncode == 1
    assert "line 2 (seq 2): not in the canonical form every record is written in" in result.stdout


def test_verify_against_a_head_finds_records_cut_off_the_end(state_dir):
    log_path = state_dir / "audit" / "audit.jsonl"
    head = json.loads(log_path.read_bytes().splitlines()[-1])
    anchor = f"{head['seq']}:{head['hash']}"
    assert _edge("audit", "verify", "--state-dir", state_dir, "--head", anchor).returncode == 0
    log_path.write_bytes(b"".join(log_path.read_bytes().splitlines(keepends=True)[:-1]))
    result = _edge("audit", "verify", "--state-dir", state_dir, "--head", anchor)
    assert result.returncode == 1 and "records were removed from the end" in result.stdout
    assert _edge("audit", "verify", "--state-dir", state_dir, "--head", "5:abc").returncode == 2


def test_verify_reports_a_torn_tail_as_a_note(state_dir):
    with (state_dir / "audit" / "audit.jsonl").open("ab") as f:
        f.write(b'{"seq":6,')
    result = _edge("audit", "verify", "--state-dir", state_dir)
    assert result.returncode == 0
    assert "note: the last 9 bytes are an unfinished append" in result.stdout


def test_verify_without_a_log(tmp_path):
    result = _edge("audit", "verify", "--state-dir", tmp_path)
    assert result.returncode == 2 and f"no audit log at {tmp_path / 'audit' / 'audit.jsonl'}" in result.stderr


def test_show_filters(state_dir):
    def seqs(*args: object) -> list[int]:
        result = _edge("audit", "show", "--state-dir", state_dir, *args)
        assert result.returncode == 0, result.stderr
        return [json.loads(line)["seq"] for line in result.stdout.splitlines()]

    assert seqs() == [1, 2, 3, 4, 5]
    assert seqs("--lane", "lane-1") == [1, 3, 4, 5]
    assert seqs("--lane", "lane-1", "--kind", "decision", "--last", "2") == [3, 4]
    assert seqs("--kind", "officer_action", "--kind", "decision", "--crossing", "c-3") == [4, 5]
    assert seqs("--seq", "2") == [2]
    assert seqs("--since", "2000-01-01T00:00:00+02:00") == [1, 2, 3, 4, 5]
    assert seqs("--since", "2999-01-01T00:00:00Z") == []
    bad = _edge("audit", "show", "--state-dir", state_dir, "--since", "yesterday")
    assert bad.returncode == 2 and "'yesterday' is not an ISO 8601 time" in bad.stderr


def test_purge_uses_the_configured_retention(tmp_path, state_dir):
    config = _config(tmp_path, state_dir, "\n[audit]\nbiometric_retention_days = 1\nimage_retention_days = 10\n")
    with AuditLog(state_dir / "audit") as log:
        face = log.put_blob(b"face", "biometric")
        scene = log.put_blob(b"scene", "image")
        two_days_ago = log.blobs.path(face.sha256, "biometric").stat().st_mtime - 2 * 86400
        for ref in (face, scene):
            os.utime(log.blobs.path(ref.sha256, ref.category), (two_days_ago, two_days_ago))
    result = _edge("audit", "purge", "--config", config)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"purged": 1, "record_seq": 6, "blobs": [face.to_json()]}
    assert _edge("audit", "verify", "--config", config).returncode == 0


def test_purge_while_the_service_holds_the_log(tmp_path, state_dir):
    with AuditLog(state_dir / "audit"):
        result = _edge("audit", "purge", "--state-dir", state_dir)
    assert result.returncode == 1 and "open for appending by another process" in result.stderr


def test_audit_config_section(tmp_path):
    base = DEFAULT_CONFIG.read_text()
    default = parse_config(base, tmp_path / "edge.toml")
    assert (default.audit.dir, default.audit.biometric_retention_days, default.audit.image_retention_days) == \
        (Path("audit"), 30, 90)
    with pytest.raises(ConfigError, match=r"audit.biometric_retention_days: Input should be greater than 0"):
        parse_config(base + "\n[audit]\nbiometric_retention_days = 0\n", tmp_path / "edge.toml")
    with pytest.raises(ConfigError, match=r"audit.retention: unknown key"):
        parse_config(base + "\n[audit]\nretention = 5\n", tmp_path / "edge.toml")
