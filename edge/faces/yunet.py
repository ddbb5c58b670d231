"""YuNet: a small CNN face detector (libfacedetection, Shiqi Yu et al.), run by OpenCV's FaceDetectorYN.

It is the lane's default detector because it is fast on a whole frame and finds turned, dim and
small faces that HOG misses: a 1280x720 face-camera frame scaled to a 640-pixel long side costs
a few milliseconds on one core (`edge bench face-frames`), where HOG at 0.7 costs about 50.

Its boxes are not dlib's: they reach up to the hairline, and dlib's landmark predictor was trained
on HOG's boxes (square, brows to chin); chips cut from landmarks fitted in YuNet's boxes matched
worse (deepface's dev set: FNMR 2.9% against HOG's 0.7%). So YuNet finds the faces and HOG frames
them: HOG looks in a small window around each face YuNet found (a few milliseconds), and its box
is the one the predictor gets. A face HOG cannot see there (turned, dim) keeps a box derived from
YuNet's: on 300 faces (the dev LFW images and synthetic lane frames) where both found the same
face, HOG's box was 1.12 times as wide as YuNet's and its centre 0.04 of a height lower (medians;
the 0.03 of a width it sat to the left is left out, as it broke the pose's mirror symmetry).
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

from edge.faces.detection import (
    Detection,
    DlibFaceDetector,
    area,
    as_tuple,
    check_frame,
    frame_box,
    near_window,
    overlap,
    shifted,
)
from edge.faces.types import Box
from edge.model_files import MANIFEST, manifest_entry, verified_bytes

# The whole frame is scaled to this long side first: a face camera frames the driver large, and
# YuNet finds faces from about 10 px of its input (about 20 px of a 1280x720 frame).
FRAME_LONG_SIDE = 640
# Near the last face, the window is scaled so that the face is this wide: well inside YuNet's range,
# and the window (about twice the face) costs a millisecond or two.
_TRACKED_FACE_PX = 64
_SCORE_THRESHOLD = 0.6  # OpenCV Zoo's default for this model
_NMS_THRESHOLD = 0.3
_TOP_K = 50
# YuNet box -> dlib-style box (see the module docstring).
_DLIB_SIDE = 1.12
_DLIB_SHIFT_Y = 0.04


def _dlib_style_box(row: np.ndarray, scale: float, shape: tuple[int, ...]) -> Box:
    """YuNet's box (the first four values of its row: x, y, width, height) as dlib's HOG would frame the face."""
    x, y, w, h = (float(v) for v in row[:4])
    side = _DLIB_SIDE * w
    cx, cy = x + w / 2, y + h / 2 + _DLIB_SHIFT_Y * h
    return frame_box(cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2, scale, shape)


class YuNetFaceDetector:
    """Faces found by YuNet and framed by HOG; with `expect_face`, dlib's CNN looks once more when
    YuNet found none."""

    def __init__(self, long_side: int | None, dlib: DlibFaceDetector):
        self._long_side = long_side  # None: the image as it is (stills, already bounded)
        self._dlib = dlib
        model = np.frombuffer(verified_bytes(manifest_entry("face_detector", MANIFEST)), np.uint8)
        # OpenCV 5's new graph engine warns on every create that it ignores the (default) target;
        # that says nothing to an operator, so it is kept out of the log.
        level = cv2.utils.logging.getLogLevel()
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
        try:
            self._net = cv2.FaceDetectorYN.create(
                "onnx", model, np.empty(0, np.uint8), (320, 320), _SCORE_THRESHOLD, _NMS_THRESHOLD, _TOP_K
            )
        finally:
            cv2.utils.logging.setLogLevel(level)
        # The input size is state of the detector: one caller at a time.
        self._lock = threading.Lock()

    def detect(self, rgb: np.ndarray, *, expect_face: bool = False, near: Box | None = None) -> list[Detection]:
        check_frame(rgb)
        if near is not None:
            # Where the face just was, HOG frames it directly; YuNet looks there when HOG cannot.
            found = self._dlib.near(rgb, near) or self._near(rgb, near)
            if found:
                return sorted(found, key=area, reverse=True)
        scale = 1.0 if self._long_side is None else min(1.0, self._long_side / max(rgb.shape[:2]))
        # Faces HOG confirmed come first, largest first: a face both detectors see is a surer face
        # than a larger one only YuNet saw (a poster behind a portrait's subject).
        framed = sorted((self._framed(rgb, face) for face in self._yunet(rgb, scale)),
                        key=lambda pair: (pair[1], area(pair[0])), reverse=True)
        if framed:
            return [face for face, _ in framed]
        return self._dlib.detect(rgb, expect_face=True) if expect_face else []

    def _framed(self, rgb: np.ndarray, face: Detection) -> tuple[Detection, bool]:
        """The face with HOG's box when HOG sees it around YuNet's (see the module docstring), and
        whether it did."""
        framings = [(overlap(as_tuple(d.box), as_tuple(face.box)), d) for d in self._dlib.near(rgb, face.box)]
        best = max(framings, key=lambda pair: pair[0], default=None)
        if best is None or best[0] <= 0.3:
            return face, False
        return Detection(best[1].box, face.detector, face.confidence), True

    def _near(self, rgb: np.ndarray, box: Box) -> list[Detection]:
        window = near_window(rgb.shape, box)
        if window is None:
            return []
        x0, y0, x1, y1 = window
        return shifted(self._yunet(rgb[y0:y1, x0:x1], min(1.0, _TRACKED_FACE_PX / max(box.width, 1))), x0, y0)

    def _yunet(self, rgb: np.ndarray, scale: float) -> list[Detection]:
        height, width = rgb.shape[:2]
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        # YuNet was trained on BGR images; converting after scaling touches fewer pixels.
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) if scale != 1.0 else rgb
        bgr = cv2.cvtColor(small, cv2.COLOR_RGB2BGR)
        with self._lock:
            self._net.setInputSize(size)
            _, faces = self._net.detect(bgr)
        if faces is None:
            return []
        sx, sy = size[0] / width, size[1] / height
        return [Detection(_dlib_style_box(row, (sx + sy) / 2, rgb.shape), "yunet", float(row[14])) for row in faces]
