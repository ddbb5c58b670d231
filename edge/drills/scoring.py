"""An officer's action on a drill scenario, scored: right, or wrong and which way, and how fast."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from edge.drills.scenarios import Answer, Scenario

_SEVERITY = {Answer.LET_THROUGH: 0, Answer.REFER: 1, Answer.DENY: 2}
_OUTCOME_ANSWER = {"CLEAR": Answer.LET_THROUGH, "REFER": Answer.REFER, "DENY": Answer.DENY}


def answer_of(action: str, outcome: str) -> Answer:
    """What an action did with the traveller: `confirm` takes the decision's own outcome."""
    if action == "override":
        return Answer.LET_THROUGH
    if action == "confirm":
        return _OUTCOME_ANSWER[outcome]
    return Answer(action)


@dataclass(frozen=True)
class Score:
    scenario: str
    kind: str
    expected: Answer
    given: Answer | None  # None: no action before the scenario ended
    verdict: str  # right | too_lenient | too_strict | missed
    seconds: float | None  # from the decision on screen to the action
    late: bool

    @property
    def right(self) -> bool:
        return self.verdict == "right"

    def to_json(self) -> dict:
        return asdict(self)


def score(scenario: Scenario, action: str | None, outcome: str | None, seconds: float | None,
          time_limit_s: float) -> Score:
    expected = scenario.answer
    if action is None or outcome is None:
        return Score(scenario.id, scenario.kind, expected, None, "missed", None, False)
    given = answer_of(action, outcome)
    difference = _SEVERITY[given] - _SEVERITY[expected]
    verdict = "right" if difference == 0 else "too_strict" if difference > 0 else "too_lenient"
    return Score(scenario.id, scenario.kind, expected, given, verdict, seconds,
                 seconds is not None and seconds > time_limit_s)


@dataclass(frozen=True)
class DrillResult:
    """The debrief's figures."""

    scores: tuple[Score, ...]

    @property
    def right(self) -> int:
        return sum(s.right for s in self.scores)

    def to_json(self) -> dict:
        verdicts = [s.verdict for s in self.scores]
        timed = sorted(s.seconds for s in self.scores if s.seconds is not None)
        return {
            "scenarios": len(self.scores), "right": self.right,
            "too_lenient": verdicts.count("too_lenient"), "too_strict": verdicts.count("too_strict"),
            "missed": verdicts.count("missed"), "late": sum(s.late for s in self.scores),
            "median_seconds": timed[(len(timed) - 1) // 2] if timed else None,
            "scores": [s.to_json() for s in self.scores],
        }
