"""Finding faces in a frame: the `FaceDetector` interface, and dlib's detectors behind it.

`DlibFaceDetector` runs dlib's HOG detector at a configured scale, the CNN as fallback. (YuNet,
the default for frames, is in yunet.py; detectors.py picks the one config names.)

HOG scans an 80x80 window, so at scale s and u upsampling steps it finds faces from about
80 / (s * 2**u) frame pixels. Scaling the frame down is what makes a 1280x720 frame affordable
(about 17 ms at 0.5 against 70 ms at 1.0 on this machine class); the lane's face camera is framed
so that faces are large. The CNN (max-margin object detector) also finds turned, dim and partly
hidden faces, at 20-50 times the cost, so it runs only when asked to: when HOG found nothing in
a frame that should hold a face.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from edge.config import FacesConfig
from edge.faces import dlib_models
from edge.faces.types import Box

STILL_FALLBACK_SIDE = 512
# Around a tracked face, the crop is scaled so that the face is about this wide: just above HOG's
# 80-pixel window, so the crop is small (100 px cost 13 ms against 8 for the tracked step).
_TRACKED_FACE_PX = 88
# How far around the previous box the tracked search looks, in box widths and heights on each side:
# half a face found every face of the synthetic lane 0.2 s after the last (`edge bench face-frames`).
_TRACKED_MARGIN = 0.5


@dataclass(frozen=True)
class Detection:
    box: Box  # frame pixels
    detector: str  # "yunet", "hog" or "cnn"
    confidence: float  # the detector's own score; comparable only within one detector


class FaceDetector(Protocol):
    def detect(self, rgb: np.ndarray, *, expect_face: bool = False, near: Box | None = None) -> list[Detection]:
        """Faces in an RGB frame, largest first.

        `expect_face`: someone should be there, so an empty result is worth a slower, stronger look.
        `near`: where a face was in the previous frame; a traveller moves little between frames,
        so the detector looks there first and scans the whole frame only if nothing is found."""
        ...


def _scaled(rgb: np.ndarray, scale: float) -> np.ndarray:
    if scale == 1.0:
        return rgb
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=interpolation)


def frame_box(left: float, top: float, right: float, bottom: float, scale: float, shape: tuple[int, ...]) -> Box:
    """A box found in the frame scaled by `scale`, in the frame's own pixels, inside the frame."""
    h, w = shape[:2]
    x0 = int(np.clip(round(left / scale), 0, w - 1))
    y0 = int(np.clip(round(top / scale), 0, h - 1))
    x1 = int(np.clip(round(right / scale), x0 + 1, w))
    y1 = int(np.clip(round(bottom / scale), y0 + 1, h))
    return Box(x0, y0, x1 - x0, y1 - y0)


def area(detection: Detection) -> int:
    return detection.box.width * detection.box.height


def overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def as_tuple(box: Box) -> tuple[int, int, int, int]:
    return box.left, box.top, box.width, box.height


def near_window(shape: tuple[int, ...], box: Box) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1): the previous box with _TRACKED_MARGIN around it, inside the frame;
    None when too little of it is left to hold a face."""
    h, w = shape[:2]
    dx, dy = round(_TRACKED_MARGIN * box.width), round(_TRACKED_MARGIN * box.height)
    x0, y0 = max(0, box.left - dx), max(0, box.top - dy)
    x1, y1 = min(w, box.left + box.width + dx), min(h, box.top + box.height + dy)
    if x1 - x0 < 16 or y1 - y0 < 16:
        return None
    return x0, y0, x1, y1


def shifted(found: list[Detection], dx: int, dy: int) -> list[Detection]:
    """Detections made in a window, in the pixels of the frame the window was cut from."""
    return [
        Detection(Box(d.box.left + dx, d.box.top + dy, d.box.width, d.box.height), d.detector, d.confidence)
        for d in found
    ]


def check_frame(rgb: np.ndarray) -> None:
    """dlib wants 8-bit RGB (or grey); anything else is a caller's mistake worth naming."""
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8:
        raise ValueError(f"a face frame must be a uint8 numpy array, got {getattr(rgb, 'dtype', type(rgb))}")
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"a face frame must be RGB with shape (height, width, 3), got {rgb.shape}")
    if min(rgb.shape[:2]) < 16:
        raise ValueError(f"a face frame of {rgb.shape[1]}x{rgb.shape[0]} pixels is too small to hold a face")


class DlibFaceDetector:
    def __init__(
        self,
        scale: float,
        upsample: int,
        fallback_scale: float,
        fallback_upsample: int,
        *,
        fallback_side: int | None = None,
    ):
        self._scale = scale
        self._upsample = upsample
        self._fallback_scale = fallback_scale
        self._fallback_upsample = fallback_upsample
        # CNN cost grows with pixels (about 1.6 s for 512x512 on an idle core of this machine class),
        # so for images of any size the fallback can instead run at a fixed long side.
        self._fallback_side = fallback_side

    @classmethod
    def for_frames(cls, config: FacesConfig) -> DlibFaceDetector:
        """For the lane's face camera: the scale and upsampling that config chose for its face sizes."""
        return cls(config.detect_scale, config.detect_upsample, config.fallback_scale, config.fallback_upsample)

    @classmethod
    def for_stills(cls) -> DlibFaceDetector:
        """For a portrait, an enrolment photo or a benchmark image: a face may be small in the
        picture, and there is one picture rather than a stream, so HOG upsamples once (faces from
        about 40 px) and the fallback CNN sees the picture at a 512-pixel long side."""
        return cls(1.0, 1, 1.0, 0, fallback_side=STILL_FALLBACK_SIDE)

    def detect(self, rgb: np.ndarray, *, expect_face: bool = False, near: Box | None = None) -> list[Detection]:
        """With `expect_face`, an empty HOG result runs the CNN. Near the previous face, HOG sees
        the face scaled to just above its window."""
        check_frame(rgb)
        found = self.near(rgb, near) if near is not None else []
        if not found:
            found = self._hog(rgb, self._scale)
        if not found and expect_face:
            found = self._cnn(rgb)
        return sorted(found, key=area, reverse=True)

    def near(self, rgb: np.ndarray, box: Box) -> list[Detection]:
        """HOG's faces in the window around `box` (see near_window), the face scaled to just above HOG's window."""
        window = near_window(rgb.shape, box)
        if window is None:
            return []
        x0, y0, x1, y1 = window
        scale = min(1.0, _TRACKED_FACE_PX / max(box.width, 1))
        return shifted(self._hog(rgb[y0:y1, x0:x1], scale), x0, y0)

    def _hog(self, rgb: np.ndarray, scale: float) -> list[Detection]:
        small = np.ascontiguousarray(_scaled(rgb, scale))
        rects, scores, _ = dlib_models.hog_detector().run(small, self._upsample, 0.0)
        return [
            Detection(frame_box(r.left(), r.top(), r.right(), r.bottom(), scale, rgb.shape), "hog", float(s))
            for r, s in zip(rects, scores, strict=True)
        ]

    def _cnn(self, rgb: np.ndarray) -> list[Detection]:
        scale = self._fallback_scale if self._fallback_side is None else self._fallback_side / max(rgb.shape[:2])
        small = np.ascontiguousarray(_scaled(rgb, scale))
        with dlib_models.NETWORK_LOCK:
            found = dlib_models.cnn_detector()(small, self._fallback_upsample)
        return [
            Detection(
                frame_box(d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom(), scale, rgb.shape),
                "cnn",
                float(d.confidence),
            )
            for d in found
        ]
