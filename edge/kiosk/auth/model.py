"""Who is logged in: the account as the rest of the kiosk sees it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")
BADGE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
LANE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")  # the config's lane id


class Role(StrEnum):
    OFFICER = "officer"  # decides crossings on their lanes
    TECHNICIAN = "technician"  # calibrates cameras and tests devices on their lanes
    SUPERVISOR = "supervisor"  # every lane, and overrides


@dataclass(frozen=True)
class User:
    """A logged-in account. `username` and `role` go on every audit record of what they do."""

    username: str
    role: Role
    lanes: tuple[str, ...]  # the lanes this account may act on; ignored when all_lanes
    all_lanes: bool

    def may_act_on(self, lane_id: str) -> bool:
        return self.may_act_on_every_lane() or lane_id in self.lanes

    def may_act_on_every_lane(self) -> bool:
        return self.role is Role.SUPERVISOR or self.all_lanes

    def to_json(self) -> dict:
        every = self.all_lanes or self.role is Role.SUPERVISOR
        return {"username": self.username, "role": self.role.value, "all_lanes": every,
                "lanes": [] if every else list(self.lanes)}


class InvalidAccount(ValueError):
    """An account change that cannot be made; the message says which value is wrong and why."""


def check_username(name: str) -> str:
    if not USERNAME.match(name):
        raise InvalidAccount(
            f"user name {name!r} must be 1-32 lower-case letters, digits, '.', '_' or '-',"
            " starting with a letter or digit"
        )
    return name


def parse_lanes(text: str) -> tuple[tuple[str, ...], bool]:
    """'lane-1,lane-2' or 'all' -> (lanes, all_lanes)."""
    if text.strip() == "all":
        return (), True
    lanes = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not lanes:
        raise InvalidAccount("lanes must be 'all' or a comma-separated list of lane ids")
    bad = [lane for lane in lanes if not LANE.match(lane)]
    if bad:
        raise InvalidAccount(f"not a lane id: {', '.join(repr(b) for b in bad)}")
    return lanes, False
