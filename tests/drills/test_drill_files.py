"""Drill files: the shipped example is valid, a broken one is refused with its key named, and scoring."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edge.drills.scenarios import KINDS, Answer, DrillError, load_drill
from edge.drills.scoring import DrillResult, answer_of, score

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "drills" / "first-week.toml"


def _check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "edge", "drill", "check", str(path)], capture_output=True,
                          text=True, timeout=60)


@pytest.mark.slow  # a command in a process of its own, per case
def test_the_shipped_drill_is_valid_and_covers_every_kind_of_scenario():
    result = _check(EXAMPLE)
    assert result.returncode == 0, result.stderr
    drill = load_drill(EXAMPLE)
    assert len(drill.scenario) == 10
    assert {s.kind for s in drill.scenario} == set(KINDS)


@pytest.mark.parametrize(("mutate", "key", "words"), [
    (lambda t: t.replace('kind = "stolen_vehicle"', 'kind = "stolen"', 1), "scenario[1].kind", "unknown scenario kind"),
    (lambda t: t.replace('id = "clean-1"', 'id = "clean-1"\nexpct = "deny"', 1), "scenario[0].expct", "unknown key"),
    (lambda t: t.replace('id = "clean-2"', 'id = "clean-1"'), "scenario", "used twice"),
    (lambda t: t.replace('kind = "clean"', 'kind = "clean"\nexpect = "wave"', 1), "scenario[0].expect", "let_through"),
    (lambda t: t.replace("time_limit_s = 90", "time_limit_s = -1"), "drill.time_limit_s", "greater than 0"),
    (lambda t: t.replace("[drill]", "[drll]"), "drill", "required key is missing"),
], ids=["unknown kind", "typo in a key", "repeated id", "unknown answer", "negative time limit", "no [drill]"])
@pytest.mark.slow  # a command in a process of its own, per case
def test_a_broken_drill_is_refused_naming_the_key(tmp_path, mutate, key, words):
    text = EXAMPLE.read_text()
    broken = mutate(text)
    assert broken != text
    path = tmp_path / "drill.toml"
    path.write_text(broken)
    result = _check(path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip().startswith(key)]
    assert any(words in line for line in lines), result.stderr
    with pytest.raises(DrillError):
        load_drill(path)


@pytest.mark.slow  # a command in a process of its own, per case
def test_a_file_that_is_not_toml_is_refused_in_words(tmp_path):
    path = tmp_path / "drill.toml"
    path.write_bytes(b"\xff\xfe garbage")
    result = _check(path)
    assert result.returncode == 2 and "not valid TOML" in result.stderr


def test_confirm_takes_the_decision_s_outcome_and_override_lets_through():
    assert answer_of("confirm", "CLEAR") is Answer.LET_THROUGH
    assert answer_of("confirm", "DENY") is Answer.DENY
    assert answer_of("refer", "CLEAR") is Answer.REFER
    assert answer_of("override", "DENY") is Answer.LET_THROUGH


def test_each_action_is_scored_right_or_wrong_which_way_and_late():
    drill = load_drill(EXAMPLE)
    stolen, clean, misread = (next(s for s in drill.scenario if s.kind == kind)
                              for kind in ("stolen_vehicle", "clean", "wrong_plate_read"))
    scores = (
        score(stolen, "confirm", "DENY", 12.0, 90),  # the system denied; the officer agreed
        score(stolen, "override", "DENY", 5.0, 90),  # let a stolen car through
        score(clean, "deny", "CLEAR", 100.0, 90),  # denied a clean traveller, and slowly
        score(misread, "confirm", "CLEAR", 3.0, 90),  # trusted a wrong read without looking
        score(misread, None, None, None, 90),  # never acted
    )
    assert [s.verdict for s in scores] == ["right", "too_lenient", "too_strict", "too_lenient", "missed"]
    assert [s.late for s in scores] == [False, False, True, False, False]
    summary = DrillResult(scores).to_json()
    assert (summary["right"], summary["too_lenient"], summary["too_strict"], summary["missed"]) == (1, 2, 1, 1)
    assert summary["median_seconds"] == 5.0
