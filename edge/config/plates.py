"""Plate reading for a lane: the stages, the regions' formats, voting, and when a read is sure."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from edge.config.base import StrictModel
from edge.config.plate_regions import BUILTIN_REGIONS, RegionFormat

# The plate confidence at or above which a read that fits its lane's formats is sure. Measured by
# `edge alpr calibrate models/build/plates/calibration --target-precision 0.99` on the plate models'
# own validation crops (held-out Brazilian crops and synthetic plates, never a set used to measure
# them): 583 of 937 sure, 99.14% of those exact. Recalibrate whenever plate_reader.onnx changes.
SURE_CONFIDENCE = 0.9938



class PlateFormatConfig(StrictModel):
    """A plate region's format: patterns of L (letter), D (digit), A (either); '/' splits two lines."""

    code: str = Field(pattern=r"^[a-z]{2,3}(-[a-z0-9]{1,3})?$")
    name: str = Field(min_length=1)
    patterns: list[str] = []
    letters: str = Field(default="ABCDEFGHIJKLMNOPQRSTUVWXYZ", pattern=r"^[A-Z]+$")
    min_length: int = Field(default=2, ge=1, le=12)
    max_length: int = Field(default=8, ge=1, le=12)
    # Personalised plates exist: keep a free reading when no pattern fits.
    free: bool = True

    @model_validator(mode="after")
    def _valid_format(self) -> PlateFormatConfig:
        self.region_format()  # RegionFormat checks the patterns, letters and lengths
        return self

    def region_format(self) -> RegionFormat:
        return RegionFormat(self.code, self.name, tuple(self.patterns), self.letters, self.min_length,
                            self.max_length, self.free)


class PlateVotingConfig(StrictModel):
    """How a vehicle's frame reads become one plate read (see edge/plates/voting.py)."""

    min_frames: int = Field(default=3, ge=1, le=100)
    min_share: float = Field(default=0.4, gt=0, le=1)
    max_distance: int = Field(default=2, ge=0, le=4)
    track_timeout_s: float = Field(default=2.0, gt=0, le=60)
    repeat_hold_s: float = Field(default=60.0, ge=0, le=3600)


class PlatesConfig(StrictModel):
    """Plate reading for a lane: which regions' formats to read plates as, and how hard to look.

    The plate camera's `roi` limits where plates are searched."""

    # Built-in codes (any, us, us-ca, ..., eu, de, fr, ..., br) or codes defined in `formats`.
    regions: list[str] = Field(default=["any"], min_length=1)
    formats: list[PlateFormatConfig] = []
    # Plates read per frame, the detector's best boxes first: each costs one recogniser run (~2 ms).
    candidates: int = Field(default=3, ge=1, le=12)
    # The stages (edge/plates/stages.py). Detector: "cnn" (models/plate_detector.onnx) or "rows" (the
    # classical row search, no model). Recogniser: "cnn" (models/plate_reader.onnx, reads the whole
    # plate) or "easyocr" (EasyOCR's english_g2 line recogniser, models/plate_ocr.onnx). Decoder:
    # "formats" (the regions' patterns and look-alikes) or "greedy" (what the network saw, no formats).
    detector: Literal["cnn", "rows"] = "cnn"
    recogniser: Literal["cnn", "easyocr"] = "cnn"
    decoder: Literal["formats", "greedy"] = "formats"
    min_confidence: float = Field(default=0.2, ge=0, le=1)
    # A plate read is sure (edge/plates/certainty.py) only at or above this confidence, and only when
    # it fits a format of `regions`; anything else sends the crossing to the officer.
    sure_confidence: float = Field(default=SURE_CONFIDENCE, ge=0, le=1)
    voting: PlateVotingConfig = PlateVotingConfig()

    @model_validator(mode="after")
    def _known_regions(self) -> PlatesConfig:
        known = self.region_formats()
        unknown = [code for code in self.regions if code not in known]
        if unknown:
            raise ValueError(f"unknown plate region(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return self

    def region_formats(self) -> dict[str, RegionFormat]:
        """The built-in region formats, extended or overridden by this config's own."""
        return {**BUILTIN_REGIONS, **{f.code: f.region_format() for f in self.formats}}

