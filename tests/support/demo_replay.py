"""A demo lane replayed in scene time: the lane's own code fed from the synthetic scene at chosen times.

The real `LaneRuntime` (presence, plate reading and voting, the state machine, the crossing and its
policy, the audit) gets what its camera worker and device pollers would give it: every plate-camera
frame at the camera's rate, the loop as the demo's stage hand plays it to the simulated barrier,
and each passport as the scene hands it over. Time is the scene's, so ten minutes of the demo take
as long as the CPU needs to read them, and the same span gives the same decisions.

What the replay leaves out: the face camera (no face steps run), the watchlist (nothing is
listed), and the serial protocols of the simulated devices. Each of those can only add reasons
to refer or deny, never to clear.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from edge.config import LaneConfig
from edge.lane.context import LaneContext
from edge.lane.machine import LaneState, VehicleArrived, VehicleLeft
from edge.lane.runtime import LaneRuntime
from edge.plates.pipeline import PlateReader
from edge.pubsub import Broadcaster
from edge.recording.audit import AuditLog
from edge.recording.recorder import Recorder
from edge.synthetic import Scene
from edge.synthetic.timeline import slot_index
from hardware.mrz import parse_mrz
from hardware.reader import DocumentRead


@dataclass(frozen=True)
class Shown:
    """A decision the lane put before the officer (made or still current while it waited for them)."""

    lane_id: str
    slot: int  # the scene slot in which the crossing opened: its car's
    truth: str | None  # that car's plate; None when the slot had no car
    crossing: dict  # the crossing as the kiosk's feed shows it at that moment
    at: float  # scene time

    @property
    def decision(self) -> dict:
        return self.crossing["decision"]

    @property
    def plate(self) -> str | None:
        return self.crossing["plate"]["text"] if self.crossing["plate"] else None

    def describe(self) -> str:
        plate = self.crossing["plate"]
        read = f"{plate['text']} ({plate['confidence']:.0%})" if plate else "no plate"
        codes = ", ".join(r["code"] for r in self.decision["reasons"]) or "no reasons"
        return (f"{self.lane_id} slot {self.slot} {self.crossing['crossing_id']} r{self.decision['revision']}: "
                f"read {read}, truth {self.truth}: {self.decision['outcome']} ({codes})")


def _document(lines: tuple[str, str], at: float) -> DocumentRead:
    """What the lane's document reader hands on for a passport presented at `at`."""
    return DocumentRead(parse_mrz(list(lines), today=date.fromtimestamp(at)), None, datetime.fromtimestamp(at, UTC))


def replay(lane: LaneConfig, scene: Scene, start: float, end: float, state_dir: Path) -> Iterator[tuple[float,
                                                                                                         LaneRuntime]]:
    """Drive a lane through the scene from `start` to `end` (scene seconds); yields after each plate frame."""
    feed_loop = asyncio.new_event_loop()
    feed_loop.close()  # nobody watches a replay's feed: the lane's announcements go nowhere
    with AuditLog(state_dir / "audit") as audit:
        context = LaneContext(recorder=Recorder(audit, None),
                              plate_reader=lambda config: PlateReader.from_config(config.plates,
                                                                                  config.cameras.plate.roi))
        runtime = LaneRuntime(lane, context, Broadcaster(feed_loop))
        step = 1.0 / (lane.cameras.plate.fps or 10.0)
        occupied = False
        previous = start - step
        for n in range(round((end - start) / step)):
            t = start + n * step
            truth = scene.truth_at(t)
            if truth.loop_occupied != occupied:  # the barrier's loop, as the stage hand plays it
                occupied = truth.loop_occupied
                runtime.feed(VehicleArrived(at=t, source="loop") if occupied else VehicleLeft(at=t))
            for at, lines in scene.document_presented(previous, t):
                runtime.document(_document(lines, at))
            runtime.plate_frame(scene.render("plate", t), t)
            runtime.tick(t)
            previous = t
            yield t, runtime


def shown_decisions(lane: LaneConfig, scene: Scene, start: float, end: float, state_dir: Path) -> list[Shown]:
    """Every decision revision the lane showed while it waited for the officer, once each, in order."""
    shown: dict[tuple[str, int], Shown] = {}
    for t, runtime in replay(lane, scene, start, end, state_dir):
        view = runtime.view()
        crossing = view.crossing
        if view.snapshot.state is not LaneState.DECISION_PENDING or crossing is None or crossing["decision"] is None:
            continue
        key = (crossing["crossing_id"], crossing["decision"]["revision"])
        if key not in shown:
            slot = slot_index(crossing["opened_at"], lane.id)
            visit = scene.visit(slot)
            shown[key] = Shown(lane.id, slot, visit.plate.text if visit else None, crossing, t)
    return list(shown.values())
