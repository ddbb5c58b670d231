"""The checkpoint itself: the site whose lanes this process runs (`[checkpoint]`)."""

from __future__ import annotations

from pydantic import Field

from edge.config.base import Identifier, StrictModel


class CheckpointConfig(StrictModel):
    id: Identifier
    name: str = Field(min_length=1)
    # ICAO three-letter code of the state that runs the checkpoint; documents it issued are "domestic".
    country: str = Field(pattern=r"^[A-Z]{3}$")
