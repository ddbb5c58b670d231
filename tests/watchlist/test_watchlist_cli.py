"""`edge watchlist ...` end to end in real processes: keygen, publish, sync, status, lookup, import; bench."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from edge.cli import main
from edge.synthetic.scratch import demo_config_text


def _edge(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the `edge` CLI in this process (the same entry point as the console script, minus start-up time)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code
    result = subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())
    if ok:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture
def crossing(tmp_path) -> dict[str, Path]:
    """An authority key, a publication folder, and a crossing config that trusts the key and reads the folder."""
    key = tmp_path / "authority.pem"
    keygen = _edge("watchlist", "keygen", "--out", key, "--key-id", "central-2026")
    snippet = keygen.stdout.split("\n", 1)[1]
    assert snippet.startswith("[[watchlist.trusted_keys]]")
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    published = tmp_path / "published"
    demo = demo_config_text(tmp_path / "state")
    assert "[watchlist" not in demo
    config = tmp_path / "edge.toml"
    config.write_text(
        demo
        + f'\n[watchlist]\nsources = ["{published}"]\nmax_age_h = 12\nstale_policy = "no_auto_clear"\n\n'
        + snippet
    )
    return {"key": key, "published": published, "config": config, "tmp": tmp_path}


def _publish(crossing, which: str, source: Path, ok: bool = True) -> subprocess.CompletedProcess[str]:
    return _edge("watchlist", "publish", "--list", "vehicles", f"--{which}", source, "--key", crossing["key"],
                 "--key-id", "central-2026", "--out", crossing["published"], ok=ok)


def _publish_and_sync_first_version(crossing) -> None:
    full = crossing["tmp"] / "vehicles.csv"
    full.write_text(
        "kind,id,plate,region,number,issuer,surname,given_names,dob,reason,action,valid_from,source\n"
        "plate,V1,abc-123,DE,,,,,,stolen vehicle,deny,2020-01-01,BKA 1\n"
        "plate,V2,XYZ 987,DE,,,,,,wanted driver,alert,,BKA 2\n"
        "document,D1,,,X1234567,UTO,,,,lost passport,refer,,SLTD 3\n"
        "person,P1,,,,,Ivanova,Olga,1985-02-03,person of interest,refer,,INT 4\n"
    )
    published = json.loads(_publish(crossing, "full", full).stdout.strip().splitlines()[-1])
    assert (published["version"], published["record_count"], published["kind"]) == (1, 4, "full")
    sync = _edge("watchlist", "sync", "--config", crossing["config"])
    assert "vehicles/full-00000001.wlb: applied" in sync.stdout


def test_publish_sync_status_and_lookups(crossing):
    _publish_and_sync_first_version(crossing)
    config = crossing["config"]
    status = _edge("watchlist", "status", "--config", config, "--verify")
    assert "vehicles: version 1, 4 records" in status.stdout
    assert "stale: no (policy no_auto_clear)" in status.stdout
    assert "verify: ok" in status.stdout

    hits = [json.loads(line) for line in _edge("watchlist", "lookup", "plate", "A8C123", "--config", config)
            .stdout.splitlines()]
    assert [(h["record"]["id"], h["match"], h["advisory"]) for h in hits] == [("V1", "lookalike", True)]
    assert hits[0]["record"]["valid_from"] == "2020-01-01T00:00:00Z"
    exact = _edge("watchlist", "lookup", "plate", "ABC123", "--exact", "--config", config).stdout
    assert json.loads(exact)["record"]["action"] == "deny"
    doc = _edge("watchlist", "lookup", "doc", "X1234567", "--issuer", "UTO", "--config", config).stdout
    assert json.loads(doc)["record"]["id"] == "D1"
    who = _edge("watchlist", "lookup", "person", "IVANOVA", "OLGA", "--dob", "1985-02-03", "--config", config)
    assert json.loads(who.stdout)["match"] == "name+dob"
    nobody = _edge("watchlist", "lookup", "plate", "QQQ999", "--config", config)
    assert nobody.stdout == "" and "0 hit(s)" in nobody.stderr


def test_a_delta_through_the_cli_and_a_refused_replay(crossing):
    _publish_and_sync_first_version(crossing)
    config = crossing["config"]
    delta = crossing["tmp"] / "changes.csv"
    delta.write_text("op,kind,id,plate,reason,action\ndelete,plate,V2,,,\nupsert,plate,V3,NEW111,stolen,alert\n")
    assert json.loads(_publish(crossing, "delta", delta).stdout.splitlines()[-1])["base_version"] == 1
    assert "delta-00000001-00000002.wlb: applied" in _edge("watchlist", "sync", "--config", config).stdout
    assert _edge("watchlist", "lookup", "plate", "XYZ987", "--config", config).stdout == ""

    replay = _edge("watchlist", "import", crossing["published"] / "vehicles" / "full-00000001.wlb",
                   "--config", config, ok=False)
    assert replay.returncode == 1 and "REFUSED (replay)" in replay.stdout
    assert "vehicles: version 2, 4 records" in _edge("watchlist", "status", "--config", config).stdout


def test_bad_publisher_input_publishes_nothing_and_names_the_line(crossing):
    bad = crossing["tmp"] / "bad.csv"
    bad.write_text("kind,id,plate,reason,action\nplate,V1,ABC123,stolen,alert\nplate,V2,DEF456,stolen,arrest\n")
    result = _publish(crossing, "full", bad, ok=False)
    assert result.returncode == 1
    assert "bad.csv:3" in result.stderr and "action must be alert, refer or deny" in result.stderr
    assert not list(crossing["published"].rglob("*.wlb"))


def test_an_empty_cache_is_stale_and_sync_without_sources_says_so(crossing, tmp_path):
    status = _edge("watchlist", "status", "--config", crossing["config"])
    assert "(no lists)" in status.stdout and "stale: YES" in status.stdout
    assert "no watchlist has been applied yet" in status.stdout
    no_sources = tmp_path / "plain.toml"
    no_sources.write_text(demo_config_text(tmp_path / "s2"))
    result = _edge("watchlist", "sync", "--config", no_sources, ok=False)
    assert result.returncode == 2 and "no watchlist sources" in result.stderr
    assert _edge("watchlist", "keygen", "--out", crossing["key"], "--key-id", "x", ok=False).returncode == 2


def test_bench_sync_prints_its_json_last(tmp_path):
    command = [sys.executable, "-m", "edge", "bench", "sync", "--records", "2000", "--delta-records", "200",
               "--lookups", "50", "--dir", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"records", "apply_s", "delta_records", "delta_apply_s", "lookup_p99_us", "fuzzy_p99_us"} <= stats.keys()
    assert (stats["records"], stats["delta_records"]) == (2000, 200)
    assert not list(tmp_path.iterdir())  # the bench cleans up after itself
