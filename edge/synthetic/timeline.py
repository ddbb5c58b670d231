"""When vehicles come and go: a pure function of (seed, lane, absolute time).

Time is cut into fixed slots. In each slot at most one vehicle arrives, stops at the barrier,
and leaves; what varies per slot (how long it stops, when the passport is handed over) is drawn
from a generator seeded by (seed, lane, slot). Any process that knows the seed and the lane can
therefore say what is happening at any time without talking to the others.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np

SLOT_S = 20.0
ARRIVE_S = 3.0
LEAVE_S = 3.0
STOP_MIN_S, STOP_MAX_S = 8.0, 12.0
# Share of slots in which no vehicle comes: a quiet lane now and then.
EMPTY_SLOT_SHARE = 0.1
# Lighting runs in blocks of slots: this many slots of day, then this many of night.
DAY_SLOTS, NIGHT_SLOTS = 18, 6

# How far the vehicle travels (metres along the lane, 0 = stopped at the barrier) while arriving
# and leaving. Negative: still approaching.
ARRIVE_FROM_M = -20.0
LEAVE_TO_M = 9.0
# The induction loop in the road, in the same along-lane metres, relative to the car's front
# when stopped: it spans from 0.3 m to 2.0 m behind the stopped front bumper.
LOOP_FROM_M, LOOP_TO_M = 0.3, 2.0

# Purposes of the generators derived from a scene's seed, so that they never share a stream.
PURPOSE_LANE, PURPOSE_SLOT, PURPOSE_FRAME, PURPOSE_VEHICLE = 0, 1, 2, 3


def lane_key(lane_id: str) -> int:
    """A stable number for a lane name (Python's hash() differs between processes)."""
    return zlib.crc32(lane_id.encode("utf-8"))


def generator(seed: int, lane_id: str, purpose: int, *extra: int) -> np.random.Generator:
    return np.random.default_rng([seed & 0xFFFFFFFF, lane_key(lane_id), purpose, *extra])


def lane_offset_s(lane_id: str) -> float:
    """Lanes run out of step with each other, so that a crossing's lanes are not in lockstep."""
    return (lane_key(lane_id) % 10_000) / 10_000 * SLOT_S


@dataclass(frozen=True)
class SlotPlan:
    slot: int
    start: float  # absolute time the slot begins
    has_vehicle: bool
    stop_s: float
    hand_over_s: float  # after stopping, when the driver hands over the passport
    night: bool

    @property
    def stopped_at(self) -> float:
        return self.start + ARRIVE_S

    @property
    def leaves_at(self) -> float:
        return self.stopped_at + self.stop_s

    @property
    def gone_at(self) -> float:
        return self.leaves_at + LEAVE_S

    @property
    def document_at(self) -> float:
        return self.stopped_at + self.hand_over_s


def slot_index(t: float, lane_id: str) -> int:
    return math.floor((t - lane_offset_s(lane_id)) / SLOT_S)


def slot_plan(seed: int, lane_id: str, slot: int) -> SlotPlan:
    rng = generator(seed, lane_id, PURPOSE_SLOT, slot % (1 << 63))
    stop_s = float(rng.uniform(STOP_MIN_S, STOP_MAX_S))
    return SlotPlan(
        slot=slot,
        start=slot * SLOT_S + lane_offset_s(lane_id),
        has_vehicle=bool(rng.random() >= EMPTY_SLOT_SHARE),
        stop_s=stop_s,
        hand_over_s=float(rng.uniform(1.0, min(4.0, stop_s - 3.0))),
        night=slot % (DAY_SLOTS + NIGHT_SLOTS) >= DAY_SLOTS,
    )


@dataclass(frozen=True)
class Moment:
    """Where the slot's vehicle is at one time."""

    phase: str
    travel_m: float  # along the lane; 0 at the barrier, negative while approaching
    speed: float  # metres per second, for motion blur


def moment(plan: SlotPlan, t: float) -> Moment:
    if not plan.has_vehicle or t < plan.start or t >= plan.gone_at:
        return Moment("empty", math.nan, 0.0)
    if t < plan.stopped_at:
        # Braking to a stop: position eases out, speed falls to zero.
        p = (t - plan.start) / ARRIVE_S
        return Moment("arriving", ARRIVE_FROM_M * (1 - p) ** 2, -2 * ARRIVE_FROM_M * (1 - p) / ARRIVE_S)
    if t < plan.leaves_at:
        return Moment("stopped", 0.0, 0.0)
    # Pulling away: position eases in.
    p = (t - plan.leaves_at) / LEAVE_S
    return Moment("leaving", LEAVE_TO_M * p * p, 2 * LEAVE_TO_M * p / LEAVE_S)


def loop_occupied(front_behind_stop_m: float, car_length_m: float) -> bool:
    """Whether a car is over the loop, given how far its front is behind the stopping point.

    The body spans [front, front + length] behind the stopping point; so does the loop, over
    [LOOP_FROM_M, LOOP_TO_M].
    """
    front = front_behind_stop_m
    return front < LOOP_TO_M and front + car_length_m > LOOP_FROM_M
