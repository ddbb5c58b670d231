"""The settings of the serial devices: links, the barrier's relay/IO board, the document reader.

The drivers in this package take these models; edge's config imports them for a lane's [lanes.barrier]
and [lanes.reader] sections, so the shape of a device's settings is written once, here, beside its
driver. Every model rejects unknown keys and is frozen, like the rest of the config.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class StrictModel(BaseModel):
    """A settings model: unknown keys are an error (a typo is caught at start), and values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def in_order(model: BaseModel, low: str, high: str) -> None:
    """A back-off starts at `low` and grows up to `high`: a cap below the start is a typo."""
    if getattr(model, high) < getattr(model, low):
        raise ValueError(f"{high} must not be smaller than {low}")


class SerialLinkSettings(StrictModel):
    """A serial device, opened by URL through pyserial: /dev/ttyUSB0, /dev/checkpoint/lane1-barrier,
    socket://host:port, rfc2217://host:port or loop://. Line settings are ignored by socket:// links."""

    url: str = Field(min_length=1)
    baudrate: int = Field(default=9600, gt=0, le=4_000_000)
    bytesize: Literal[5, 6, 7, 8] = 8
    parity: Literal["N", "E", "O", "M", "S"] = "N"
    stopbits: float = 1  # 1, 1.5 or 2 (a Literal cannot hold 1.5)
    write_timeout_s: float = Field(default=1.0, gt=0, le=30)
    # Reconnect back-off after an unplug or I/O error; the cap bounds recovery time after a replug.
    reconnect_initial_s: float = Field(default=0.2, gt=0, le=60)
    reconnect_max_s: float = Field(default=0.5, gt=0, le=600)
    # Good exchanges in a row before a degraded device counts as online again.
    recover_after: int = Field(default=3, ge=1, le=100)

    @field_validator("stopbits")
    @classmethod
    def _stop_bits(cls, stopbits: float) -> float:
        if stopbits not in (1, 1.5, 2):
            raise ValueError("stopbits must be 1, 1.5 or 2")
        return stopbits

    @model_validator(mode="after")
    def _backoff_order(self) -> SerialLinkSettings:
        in_order(self, "reconnect_initial_s", "reconnect_max_s")
        return self


class BarrierSettings(StrictModel):
    """The barrier's Modbus RTU relay/IO board: which coil and inputs are wired to what.

    The software only pulses OPEN; CLOSE, if wired, is only ever switched off."""

    link: SerialLinkSettings
    unit_id: int = Field(default=1, ge=1, le=247)
    open_coil: int = Field(default=0, ge=0, le=65535)
    close_coil: int | None = Field(default=None, ge=0, le=65535)
    loop_input: int | None = Field(default=0, ge=0, le=65535)  # vehicle loop occupied
    arm_up_input: int = Field(default=1, ge=0, le=65535)
    arm_down_input: int = Field(default=2, ge=0, le=65535)
    pulse_s: float = Field(default=0.5, gt=0, le=5)
    # Longest the arm may take from the OPEN pulse to "up", or stay between its limits.
    travel_timeout_s: float = Field(default=6.0, gt=0, le=120)
    response_timeout_s: float = Field(default=0.3, gt=0, le=10)
    retries: int = Field(default=2, ge=0, le=10)
    poll_interval_s: float = Field(default=0.2, gt=0, le=10)

    @model_validator(mode="after")
    def _distinct_addresses(self) -> BarrierSettings:
        inputs = [a for a in (self.loop_input, self.arm_up_input, self.arm_down_input) if a is not None]
        if len(set(inputs)) != len(inputs):
            raise ValueError("loop_input, arm_up_input and arm_down_input must be different inputs")
        if max(inputs) - min(inputs) >= 2000:
            raise ValueError("the barrier inputs must lie within 2000 addresses of each other (one read)")
        if self.close_coil == self.open_coil:
            raise ValueError("close_coil must not be the open_coil")
        return self


class ReaderSettings(StrictModel):
    """The document reader: its link and how it frames what it sends (see hardware/reader_framing.py)."""

    link: SerialLinkSettings
    framing: Literal["lines", "stx", "length"] = "lines"
    max_frame_bytes: int = Field(default=262_144, ge=256, le=16_777_216)  # room for a portrait
    frame_timeout_s: float = Field(default=1.0, gt=0, le=30)  # a frame unfinished this long was cut short
    flood_bytes_per_s: int = Field(default=100_000, ge=1_000)
