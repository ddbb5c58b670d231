"""A lane's cameras: where frames come from, which part of them to look at, and how to undistort them."""

from __future__ import annotations

import math

from pydantic import Field, field_validator, model_validator

from edge.config.base import StrictModel, in_order


class RegionOfInterest(StrictModel):
    """A rectangle of the camera frame in pixels; the plate localiser only looks inside it."""

    x: int = Field(ge=0)
    y: int = Field(ge=0)
    width: int = Field(gt=0)
    height: int = Field(gt=0)


class LensConfig(StrictModel):
    """The camera's intrinsics and lens distortion (OpenCV's pinhole model), measured by
    `edge calibrate lens` from checkerboard images at width x height pixels."""

    width: int = Field(gt=0)
    height: int = Field(gt=0)
    fx: float = Field(gt=0)
    fy: float = Field(gt=0)
    cx: float
    cy: float
    # k1, k2, p1, p2, k3 (OpenCV's order).
    distortion: list[float] = Field(min_length=5, max_length=5)
    rms_px: float = Field(ge=0)  # reprojection error of the calibration


class PerspectiveWarp(StrictModel):
    """A homography applied to the camera's ROI (the whole frame without one) so that plates appear
    square-on; `edge calibrate warp` measures it from the four corners of a plate."""

    matrix: list[list[float]] = Field(min_length=3, max_length=3)  # 3 rows of 3, ROI pixels -> warped pixels
    width: int = Field(gt=0, le=8192)  # size of the warped image
    height: int = Field(gt=0, le=8192)

    @field_validator("matrix")
    @classmethod
    def _homography(cls, matrix: list[list[float]]) -> list[list[float]]:
        if any(len(row) != 3 for row in matrix):
            raise ValueError("matrix must be 3 rows of 3 numbers")
        if not all(math.isfinite(v) for row in matrix for v in row):
            raise ValueError("matrix must hold finite numbers")
        (a, b, c), (d, e, f), (g, h, i) = matrix
        if abs(a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)) < 1e-12:
            raise ValueError("matrix is singular (not a perspective warp)")
        return matrix



class CameraConfig(StrictModel):
    # usb:0, /dev/video0, rtsp://..., http://... (MJPEG), a video file, an image folder, synthetic://lane/camera
    url: str = Field(min_length=1)
    fps: float | None = Field(default=None, gt=0, le=120)
    stall_timeout_s: float = Field(default=2.0, gt=0, le=60)
    backoff_initial_s: float = Field(default=0.5, gt=0, le=60)
    backoff_max_s: float = Field(default=10.0, gt=0, le=600)
    roi: RegionOfInterest | None = None
    lens: LensConfig | None = None  # set by `edge calibrate lens`
    warp: PerspectiveWarp | None = None  # set by `edge calibrate warp`

    @model_validator(mode="after")
    def _backoff_order(self) -> CameraConfig:
        in_order(self, "backoff_initial_s", "backoff_max_s")
        return self


class LaneCameras(StrictModel):
    plate: CameraConfig
    face: CameraConfig

