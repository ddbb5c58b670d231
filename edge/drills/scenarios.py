"""A drill file: which scenarios a trainee meets on the training lane, in order, and the right answer to each.

    [drill]
    name = "First week"
    time_limit_s = 90              # per scenario: slower than this counts as late

    [[scenario]]
    id = "stolen-car"
    kind = "stolen_vehicle"        # see KINDS
    expect = "deny"                # optional: the kind's usual answer otherwise
    brief = "A car reported stolen last night."

Files are checked like the config: unknown keys are errors, and every error names its key
(`edge drill check FILE`).
"""

from __future__ import annotations

import tomllib
from enum import StrEnum
from pathlib import Path

from pydantic import Field, ValidationError, field_validator

from edge.config.base import StrictModel
from edge.config.loading import describe_error

MAX_DRILL_BYTES = 256 * 1024


class Answer(StrEnum):
    """What the officer did with the traveller, whatever button did it."""

    LET_THROUGH = "let_through"  # confirm on a CLEAR, or override
    REFER = "refer"
    DENY = "deny"


# Each kind of scenario and the answer it usually expects: what a trained officer does.
KINDS: dict[str, Answer] = {
    "clean": Answer.LET_THROUGH,  # a traveller with nothing against them
    "stolen_vehicle": Answer.DENY,  # the plate is on the stolen-vehicles list
    "lost_passport": Answer.DENY,  # the document is reported lost or stolen
    "face_mismatch": Answer.REFER,  # the live face is not the passport's portrait
    "expired_document": Answer.REFER,
    "unreadable_plate": Answer.REFER,  # no plate read: check the vehicle by eye
    "wrong_plate_read": Answer.REFER,  # a confident read that the crop shows is wrong
}


class DrillSettings(StrictModel):
    name: str = Field(min_length=1, max_length=120)
    time_limit_s: float = Field(default=90, gt=0, le=3600)


class Scenario(StrictModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    kind: str
    expect: Answer | None = None
    brief: str = Field(default="", max_length=500)

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        if kind not in KINDS:
            raise ValueError(f"unknown scenario kind {kind!r}; known: {', '.join(KINDS)}")
        return kind

    @property
    def answer(self) -> Answer:
        return self.expect if self.expect is not None else KINDS[self.kind]


class Drill(StrictModel):
    drill: DrillSettings
    scenario: list[Scenario] = Field(min_length=1, max_length=100)

    @field_validator("scenario")
    @classmethod
    def _unique_ids(cls, scenarios: list[Scenario]) -> list[Scenario]:
        ids = [s.id for s in scenarios]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"scenario id(s) used twice: {', '.join(repeated)}")
        return scenarios


class DrillError(Exception):
    """A drill file that cannot be used; the message names the file, the key and the problem."""

    def __init__(self, path: Path, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


def load_drill(path: Path) -> Drill:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DrillError(path, [f"cannot read: {exc.strerror or exc}"]) from None
    if len(data) > MAX_DRILL_BYTES:
        raise DrillError(path, [f"over {MAX_DRILL_BYTES // 1024} kB: not a drill file"])
    try:
        parsed = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DrillError(path, [f"not valid TOML: {exc}"]) from None
    try:
        return Drill.model_validate(parsed)
    except ValidationError as exc:
        raise DrillError(path, [describe_error(e) for e in exc.errors()]) from None
