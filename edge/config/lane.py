"""A lane: its cameras, presence, timeouts, clearance policy, plate reading and serial devices."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from edge.config.base import Identifier, StrictModel
from edge.config.cameras import LaneCameras
from edge.config.plates import PlatesConfig
from hardware.settings import BarrierSettings, ReaderSettings


class PresenceConfig(StrictModel):
    """Camera-based vehicle presence: how much of the plate camera's view must change, and for how long.

    The barrier's induction loop is the primary presence signal where it is wired; this detector
    covers lanes without one and gives a second opinion.
    """

    occupied_fraction: float = Field(default=0.12, gt=0, lt=1)
    empty_fraction: float = Field(default=0.04, gt=0, lt=1)
    confirm_frames: int = Field(default=3, ge=1, le=100)
    still_fraction: float = Field(default=0.01, gt=0, lt=1)

    @model_validator(mode="after")
    def _hysteresis(self) -> PresenceConfig:
        if self.empty_fraction >= self.occupied_fraction:
            raise ValueError("empty_fraction must be below occupied_fraction (hysteresis)")
        return self


class LaneTimeouts(StrictModel):
    """Seconds a lane may stay in a state before it moves on by itself."""

    settle_s: float = Field(default=4.0, gt=0, le=120)  # present: vehicle still moving
    reading_s: float = Field(default=6.0, gt=0, le=300)  # reading: gathering evidence
    decision_s: float = Field(default=120.0, gt=0, le=3600)  # pending: officer has not acted (flagged overdue)
    passing_s: float = Field(default=20.0, gt=0, le=600)  # passing: barrier open, vehicle still on the loop



class LanePolicyConfig(StrictModel):
    """What the lane's evidence must show for a crossing to be CLEAR (see edge/lane/policy.py)."""

    require_plate: bool = True  # vehicle lanes; a pedestrian lane sets false
    require_document: bool = True
    require_face_match: bool = True  # the live face compared with the document portrait
    expired_document: Literal["refer", "deny"] = "refer"


class LaneConfig(StrictModel):
    id: Identifier
    name: str = Field(min_length=1)
    cameras: LaneCameras
    # Officer confirmation is the default; auto-clear is a per-lane decision of the authority.
    auto_clear: bool = False
    presence: PresenceConfig = PresenceConfig()
    timeouts: LaneTimeouts = LaneTimeouts()
    policy: LanePolicyConfig = LanePolicyConfig()
    plates: PlatesConfig = PlatesConfig()
    # None: no barrier (or reader) of this lane is wired to this process.
    barrier: BarrierSettings | None = None
    reader: ReaderSettings | None = None
    # A training lane, for officers' drills: marked TRAINING on every screen, its records kept apart
    # from the live ones (edge/recording/training.py). It must never see real travellers nor move a
    # real barrier: its cameras must be synthetic, and it may name no serial device (the service
    # gives it a simulated barrier and reader).
    training: bool = False

    @model_validator(mode="after")
    def _training_lane_is_simulated(self) -> LaneConfig:
        if not self.training:
            return self
        real = [f"cameras.{role}.url is {camera.url!r}" for role, camera in
                (("plate", self.cameras.plate), ("face", self.cameras.face)) if not camera.url.startswith("synthetic://")]
        real += [f"it has a [{name}] section" for name, device in (("barrier", self.barrier), ("reader", self.reader))
                 if device is not None]
        if real:
            raise ValueError(f"lane {self.id!r} has training = true but real devices: {'; '.join(real)}. A training "
                             "lane runs on the synthetic checkpoint only: synthetic:// cameras, and the simulated "
                             "barrier and reader the service gives it")
        return self

