"""`edge config check`: good files pass; each kind of broken file exits 2 naming the key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edge.config import DEFAULT_CONFIG, SURE_CONFIDENCE, ConfigError, load_config

DEMO = DEFAULT_CONFIG.read_text()


def _check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edge", "config", "check", str(path)], capture_output=True, text=True, timeout=60
    )


def test_demo_config_is_valid_and_is_the_default():
    result = _check(DEFAULT_CONFIG)
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout
    config = load_config()
    assert [lane.id for lane in config.lanes] == ["lane-1", "lane-2"]
    assert config.kiosk.host == "127.0.0.1" and config.kiosk.port == 8080


def test_relative_state_dir_is_resolved_against_the_config_file(tmp_path):
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "edge.toml"
    path.write_text(DEMO.replace('state_dir = "../var/demo"', 'state_dir = "state"'))
    assert load_config(path).state_dir == (tmp_path / "sub" / "state").resolve()


def test_the_old_crossing_section_still_loads_and_the_check_says_to_rename_it(tmp_path):
    path = tmp_path / "edge.toml"
    path.write_text(DEMO.replace("[checkpoint]\n", "[crossing]\n"))
    result = _check(path)
    assert result.returncode == 0, result.stderr
    assert "[crossing] is deprecated: rename it [checkpoint]" in result.stderr
    assert load_config(path).checkpoint.id == load_config().checkpoint.id


def test_the_old_and_the_new_name_of_a_section_together_are_refused(tmp_path):
    path = tmp_path / "edge.toml"
    path.write_text(DEMO + '\n[crossing]\nid = "other"\n')
    with pytest.raises(ConfigError, match=r"crossing: the old name of \[checkpoint\]"):
        load_config(path)


def test_a_lane_sets_the_confidence_from_which_a_plate_read_is_sure(tmp_path):
    path = tmp_path / "edge.toml"
    path.write_text(DEMO + "plates.sure_confidence = 0.97\n")  # a key of the last table: lane-2
    config = load_config(path)
    assert config.lanes[1].plates.sure_confidence == 0.97
    assert config.lanes[0].plates.sure_confidence == SURE_CONFIDENCE


# (what is broken, how to break the demo file, the key the message must name, words it must contain)
BROKEN = [
    ("unknown top-level key", lambda s: "colour = 'red'\n" + s, "colour", "unknown key"),
    ("unknown nested key", lambda s: s.replace('port = 8080', 'port = 8080\nprot = 1'), "kiosk.prot", "unknown key"),
    ("typo in a lane key", lambda s: s.replace("auto_clear = false", "autoclear = false", 1),
     "lanes[0].autoclear", "unknown key"),
    ("wrong type", lambda s: s.replace("port = 8080", 'port = "eighty"'), "kiosk.port", "integer"),
    ("out of range", lambda s: s.replace("port = 8080", "port = 70000"), "kiosk.port", "65535"),
    ("missing section", lambda s: s.replace('[checkpoint]\nid = "demo"\nname = "Demo checkpoint"\n', "[checkpoint]\n"),
     "checkpoint.id", "missing"),
    ("negative fps", lambda s: s.replace("seed=1\", fps = 10", "seed=1\", fps = -5", 1),
     "lanes[0].cameras.plate.fps", "greater than 0"),
    ("missing camera", lambda s: s.replace('cameras.face = { url = "synthetic://lane-1/face?seed=1", fps = 10 }\n', ""),
     "lanes[0].cameras.face", "missing"),
    ("bad lane id", lambda s: s.replace('id = "lane-2"', 'id = "Lane 2!"'), "lanes[1].id", "pattern"),
    ("duplicate lane id", lambda s: s.replace('id = "lane-2"', 'id = "lane-1"'), "lanes", "used twice"),
    ("bad log level", lambda s: s.replace('level = "info"', 'level = "loud"'), "logging.level", "debug"),
    ("bad country code", lambda s: s.replace('country = "UTO"', 'country = "Utopia"'), "checkpoint.country", "pattern"),
    ("public bind without TLS", lambda s: s.replace('host = "127.0.0.1"', 'host = "0.0.0.0"'), "kiosk",
     "requires tls"),
    ("back-off order", lambda s: s.replace("seed=2\", fps = 10", "seed=2\", fps = 10, backoff_initial_s = 30, "
                                           "backoff_max_s = 1", 1), "lanes[1].cameras.plate", "backoff_max_s"),
    ("presence hysteresis", lambda s: s + '\n[lanes.presence]\noccupied_fraction = 0.1\nempty_fraction = 0.2\n',
     "lanes[1].presence", "hysteresis"),
    ("no lanes", lambda s: "lanes = []\n" + s[: s.index("[[lanes]]")], "lanes", "at least 1"),
    ("sure confidence above 1", lambda s: s + "plates.sure_confidence = 1.5\n",
     "lanes[1].plates.sure_confidence", "less than or equal to 1"),
    ("the replaced plate_min_confidence", lambda s: s + "\n[lanes.policy]\nplate_min_confidence = 0.6\n",
     "lanes[1].policy.plate_min_confidence", "unknown key"),
    ("a training lane on a real camera", lambda s: s.replace('id = "lane-2"', 'id = "lane-2"\ntraining = true')
     .replace("synthetic://lane-2/face?seed=2", "rtsp://10.0.0.9/face"), "lanes[1]",
     "training = true but real devices: cameras.face.url is 'rtsp://10.0.0.9/face'"),
    ("a training lane with a real barrier", lambda s: s.replace('id = "lane-2"', 'id = "lane-2"\ntraining = true')
     + '\n[lanes.barrier.link]\nurl = "/dev/ttyUSB0"\n', "lanes[1]", "it has a [barrier] section"),
    ("not TOML", lambda s: s.replace("[kiosk]", "[kiosk"), "TOML", "line"),
]


@pytest.mark.slow  # a command in a process of its own, per case
@pytest.mark.parametrize(("name", "mutate", "key", "words"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_config_exits_2_and_names_the_key(tmp_path, name, mutate, key, words):
    broken = mutate(DEMO)
    assert broken != DEMO, f"the mutation for {name!r} did not change the file"
    path = tmp_path / "edge.toml"
    path.write_text(broken)
    result = _check(path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert str(path) in result.stderr
    problem_lines = [line for line in result.stderr.splitlines() if key in line]
    assert problem_lines, f"no line names {key!r}: {result.stderr}"
    assert any(words.lower() in line.lower() for line in problem_lines), result.stderr


@pytest.mark.parametrize(
    ("content", "words"),
    [(None, "file not found"), (b"\xff\xfe\x00garbage", "not UTF-8"), (b"", "required key is missing")],
    ids=["missing file", "binary file", "empty file"],
)
@pytest.mark.slow  # a command in a process of its own, per case
def test_unusable_files_are_refused_with_a_reason(tmp_path, content, words):
    path = tmp_path / "edge.toml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert words in str(raised.value)
    assert _check(path).returncode == 2


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda path: path.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n"), "nested too deep"),
        (lambda path: path.write_text("y = " + "{ a = " * 20_000 + "1" + " }" * 20_000 + "\n"), "nested too deep"),
        (lambda path: path.symlink_to("/dev/zero"), "not a regular file"),
        (lambda path: path.write_bytes(b"# " + b"x" * (2 * 1024 * 1024) + b"\n"), "over 1024 kB"),
    ],
    ids=["deep arrays", "deep inline tables", "link to /dev/zero", "2 MB file"],
)
@pytest.mark.slow  # a command in a process of its own, per case
def test_hostile_files_are_refused_by_the_cli_without_a_traceback(tmp_path, make, words):
    # Issue 13, finding 15: a RecursionError traceback, and 16 GB of RSS reading /dev/zero.
    path = tmp_path / "edge.toml"
    make(path)
    result = _check(path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert words in result.stderr and "Traceback" not in result.stderr
