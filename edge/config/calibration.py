"""Camera set-up targets for the technician, and the limits of drift from the calibrated baseline."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from edge.config.base import StrictModel


class DriftLimits(StrictModel):
    """How far today's frames may stray from the calibrated baseline before `edge calibrate drift` alarms."""

    min_focus_ratio: float = Field(default=0.6, gt=0, le=1)  # today's focus score over the baseline's
    max_brightness_change: float = Field(default=40, gt=0, le=255)  # mean grey level, either way
    max_clipped_increase: float = Field(default=0.05, gt=0, le=1)  # more of the frame black or white
    max_shift_px: float = Field(default=20, gt=0)  # the view moved (camera knocked or turned)
    min_similarity: float = Field(default=0.7, gt=-1, le=1)  # structure of the scene (lens dirty or covered)


class CalibrationConfig(StrictModel):
    """Camera set-up targets for the technician (`edge calibrate ...`) and the drift baseline."""

    # Relative to the crossing's state_dir: one baseline per lane camera.
    baseline_dir: Path = Path("calibration")
    min_plate_char_px: float = Field(default=15, gt=0)  # reliable plate reads need characters this tall
    min_inter_eye_px: float = Field(default=90, gt=0)  # face matching needs eyes this far apart
    vehicle_speed_kmh: float = Field(default=30, gt=0, le=250)  # for the shutter advice
    max_blur_px: float = Field(default=1.0, gt=0, le=10)  # motion blur the shutter advice allows
    drift: DriftLimits = DriftLimits()

