"""The whole config file of a checkpoint: its sections, each modelled in its own module."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from edge.config.base import StrictModel
from edge.config.calibration import CalibrationConfig
from edge.config.faces import FacesConfig
from edge.config.kiosk import KioskConfig
from edge.config.lane import LaneConfig
from edge.config.recording import AuditConfig, CentralConfig, OutboxConfig
from edge.config.site import CheckpointConfig
from edge.config.watchlist import WatchlistConfig


class LoggingConfig(StrictModel):
    level: Literal["debug", "info", "warning", "error"] = "info"
    # json for journald and log shippers; text for a person at a terminal.
    format: Literal["json", "text"] = "json"



class DemoConfig(StrictModel):
    """The demo checkpoint only (edge/synthetic/demo.py)."""

    # Give every synthetic lane a simulated barrier and document reader (real protocol, loopback
    # TCP) played from the synthetic scene, and publish a signed demo watchlist.
    simulators: bool = False
    # Each simulated car waits at the barrier until it opens (then drives through), until the officer
    # has answered without opening it (then turns away), or this long (then drives off); so a
    # newcomer can act in the demo. 0: cars come and go on the synthetic timeline's fixed schedule.
    cars_wait_s: float = Field(default=0.0, ge=0, le=600)


class EdgeConfig(StrictModel):
    checkpoint: CheckpointConfig
    # Relative paths are resolved against the directory of the config file.
    state_dir: Path
    lanes: list[LaneConfig] = Field(min_length=1)
    kiosk: KioskConfig = KioskConfig()
    logging: LoggingConfig = LoggingConfig()
    watchlist: WatchlistConfig = WatchlistConfig()
    faces: FacesConfig = FacesConfig()
    calibration: CalibrationConfig = CalibrationConfig()
    audit: AuditConfig = AuditConfig()
    outbox: OutboxConfig = OutboxConfig()
    # None: events wait in the outbox (nothing is published) until a broker is configured.
    central: CentralConfig | None = None
    demo: DemoConfig = DemoConfig()
    # The training drills a supervisor can start on a training lane (edge/drills/; relative to this file).
    drills_dir: Path = Path("drills")

    @field_validator("lanes")
    @classmethod
    def _unique_lane_ids(cls, lanes: list[LaneConfig]) -> list[LaneConfig]:
        seen: set[str] = set()
        for lane in lanes:
            if lane.id in seen:
                raise ValueError(f"lane id {lane.id!r} is used twice")
            seen.add(lane.id)
        return lanes

    def lane(self, lane_id: str) -> LaneConfig:
        for lane in self.lanes:
            if lane.id == lane_id:
                return lane
        raise KeyError(lane_id)

