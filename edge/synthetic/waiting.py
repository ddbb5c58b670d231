"""Cars that wait at the barrier: the demo's timeline when an officer is there to answer.

The pure timeline (timeline.py) sends each car away on a fixed schedule, whatever the officer does.
Here each car stays stopped at the barrier until it is released: the world's stage hand releases it
when the barrier opens (it drives through) or when the officer has answered without opening it (it
turns away), and a car nobody answers drives off after `wait_limit_s`. The next car comes a little
after the last has gone, never sooner than `cadence_s` after the last one came (the demo keeps the
pure timeline's cadence, which its watchlist counts on; a training lane's drill need not).

Which car comes, and how it looks, is still the pure timeline's: the n-th car is the n-th slot's
vehicle. Only when cars arrive and leave depends on what happened, so this holds state, and it is
shared in one process by whoever renders or stages the lane (`Scene.wait_at_barrier`).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import replace

from edge.synthetic.timeline import ARRIVE_S, SLOT_S, SlotPlan, slot_index

GAP_S = 2.0  # from one car gone to the next one arriving
# A training lane's cars always wait (a drill's answer is the officer's), this long unless the demo says.
TRAINING_CARS_WAIT_S = 120.0
_KEPT = 4  # cars gone, kept for callers asking about a moment just past


class WaitingCars:
    def __init__(self, natural: Callable[[int], SlotPlan], lane_id: str, wait_limit_s: float, now: float,
                 cadence_s: float = SLOT_S):
        self._natural = natural
        self._wait_limit_s = wait_limit_s
        self._cadence_s = cadence_s  # the least time from one car's arrival to the next one's
        self._lock = threading.Lock()
        self._slot = self._next_with_vehicle(slot_index(now, lane_id) + 1)
        self._start = natural(self._slot).start
        self._released_at: float | None = None
        self._gone: deque[SlotPlan] = deque(maxlen=_KEPT)

    def plan_at(self, t: float) -> SlotPlan:
        """The plan of the car at the lane at time t (or of the next one, when t falls before it comes)."""
        with self._lock:
            self._advance(t)
            current = self._current()
            if t >= current.start:
                return current
            return next((plan for plan in reversed(self._gone) if plan.start <= t < plan.gone_at), current)

    def plans_between(self, t0: float, t1: float) -> list[SlotPlan]:
        """The plans of the cars at the lane at some time in [t0, t1), oldest first."""
        with self._lock:
            self._advance(t1)
            plans = [*self._gone, self._current()]
        return [plan for plan in plans if plan.start < t1 and plan.gone_at > t0]

    def upcoming(self, now: float, count: int) -> list[int]:
        """The slots of the next `count` cars that have not begun to arrive at `now`."""
        with self._lock:
            self._advance(now)
            slot = self._slot if now < self._start else self._next_with_vehicle(self._slot + 1)
            slots: list[int] = []
            while len(slots) < count:
                slots.append(slot)
                slot = self._next_with_vehicle(slot + 1)
        return slots

    def gone(self, slot: int, now: float) -> bool:
        """Whether the car of `slot` has left the lane by `now` (or was passed over)."""
        with self._lock:
            self._advance(now)
            return slot < self._slot

    def release(self, at: float) -> bool:
        """Let the car stopped at the barrier go at `at`; False when no car is waiting there then."""
        with self._lock:
            self._advance(at)
            plan = self._current()
            if self._released_at is not None or not plan.stopped_at <= at < plan.leaves_at:
                return False
            self._released_at = at
            return True

    def _current(self) -> SlotPlan:
        natural = self._natural(self._slot)
        stopped_at = self._start + ARRIVE_S
        stop_s = self._wait_limit_s if self._released_at is None else max(self._released_at - stopped_at, 0.0)
        return replace(natural, start=self._start, stop_s=stop_s)

    def _advance(self, t: float) -> None:
        """Move on to the next car for as long as the current one has gone by t."""
        while (plan := self._current()).gone_at <= t:
            self._gone.append(plan)
            self._slot = self._next_with_vehicle(self._slot + 1)
            self._start = max(plan.gone_at + GAP_S, plan.start + self._cadence_s)
            self._released_at = None

    def _next_with_vehicle(self, slot: int) -> int:
        while not self._natural(slot).has_vehicle:  # quiet slots are skipped: waiting makes pauses enough
            slot += 1
        return slot
