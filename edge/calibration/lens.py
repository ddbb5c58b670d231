"""Lens intrinsics and distortion from photos of a printed checkerboard (OpenCV's pinhole model).

The technician holds a flat checkerboard in front of the camera at a dozen positions and tilts,
filling the corners of the view too (that is where distortion shows). Each photo where the whole
board is found gives its inner corners to sub-pixel accuracy; cv2.calibrateCamera fits focal
lengths, principal point and k1, k2, p1, p2, k3 to all of them, and reports the RMS reprojection
error: well under a pixel for a good calibration.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from edge.config import LensConfig
from edge.plates.pipeline import grey

MIN_VIEWS = 3  # fewer views leave the fit underdetermined
_SUBPIX = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 40, 0.001)


class LensError(ValueError):
    """The images cannot give a calibration; the message says what to do differently."""


@dataclass(frozen=True)
class Board:
    columns: int  # inner corners along a row (squares - 1)
    rows: int  # inner corners along a column
    square_mm: float = 25.0

    def points(self) -> np.ndarray:
        """The inner corners on the board's plane (z = 0), in mm, in the order OpenCV finds them."""
        grid = np.mgrid[0 : self.columns, 0 : self.rows].T.reshape(-1, 2).astype(np.float32)
        return np.hstack([grid * self.square_mm, np.zeros((len(grid), 1), np.float32)])


@dataclass(frozen=True)
class LensCalibration:
    width: int
    height: int
    camera_matrix: np.ndarray  # 3x3
    distortion: np.ndarray  # k1, k2, p1, p2, k3
    rms_px: float
    used: tuple[str, ...]  # images the board was found in
    rejected: tuple[str, ...]  # images it was not found in

    def to_config(self) -> LensConfig:
        k = self.camera_matrix
        return LensConfig(width=self.width, height=self.height, fx=float(k[0, 0]), fy=float(k[1, 1]),
                          cx=float(k[0, 2]), cy=float(k[1, 2]), distortion=[float(d) for d in self.distortion],
                          rms_px=self.rms_px)  # fmt: skip


def find_board(image: np.ndarray, board: Board) -> np.ndarray | None:
    """The board's inner corners (N x 1 x 2, sub-pixel) in the image, or None if it is not all in view."""
    gray = grey(image)
    flags = cv2.CALIB_CB_ADAPTIVE_THRESH | cv2.CALIB_CB_NORMALIZE_IMAGE
    found, corners = cv2.findChessboardCorners(gray, (board.columns, board.rows), flags=flags)
    if not found:
        return None
    return cv2.cornerSubPix(gray, corners, (5, 5), (-1, -1), _SUBPIX)


def calibrate_lens(images: list[tuple[str, np.ndarray]], board: Board) -> LensCalibration:
    if board.columns < 3 or board.rows < 3 or board.columns == board.rows:
        # A square grid of corners has no orientation: its corner order could flip between views.
        raise LensError(f"board of {board.columns}x{board.rows} inner corners: use at least 3x3 and different counts")
    sizes = {image.shape[:2] for _, image in images}
    if len(sizes) != 1:
        raise LensError(f"images differ in size ({', '.join(f'{w}x{h}' for h, w in sorted(sizes))}); "
                        "calibrate one camera mode at a time")  # fmt: skip
    (height, width), = sizes
    object_points, image_points, used, rejected = [], [], [], []
    for name, image in images:
        corners = find_board(image, board)
        if corners is None:
            rejected.append(name)
            continue
        object_points.append(board.points())
        image_points.append(corners)
        used.append(name)
    if len(used) < MIN_VIEWS:
        raise LensError(
            f"the {board.columns}x{board.rows} board was found in {len(used)} of {len(images)} images; need "
            f"{MIN_VIEWS} or more: keep the whole board in view, at several positions and tilts"
        )
    rms, matrix, distortion, _, _ = cv2.calibrateCamera(object_points, image_points, (width, height), None, None)
    return LensCalibration(width, height, matrix, distortion.ravel()[:5], float(rms), tuple(used), tuple(rejected))
