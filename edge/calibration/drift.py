"""Has the camera drifted from its calibration? Today's view against the baseline recorded then.

A baseline is taken from a handful of whole frames spread over a few minutes: the median focus
score, brightness and clipping, and a small grey copy of each frame. Today's frames give the same.
A lane holds a vehicle most of the time, so no single frame (nor a per-pixel median) shows the
empty scene; instead every baseline frame is compared with every frame of today, and the best
matching pair speaks for the camera (two frames with few or similar vehicles in view). The report:

    focus        today's focus score over the baseline's, each relative to its frame's contrast so that
                 a darker day is not taken for a blurred lens (a lens knocked out of focus, condensation)
    exposure     change of mean grey level and of the clipped share (iris, lighting, sun)
    similarity   correlation of the edges of the best pair once aligned: dirt, a spider's web,
                 something in front of the lens, a camera facing elsewhere
    movement     the shift within the best pair (phase correlation): a camera knocked or turned;
                 only judged when the scene is still recognised (a shift between unlike views
                 means nothing)

and an alarm for each past its limit in `[calibration.drift]`. Compare at the light the baseline
was taken in (day with day): exposure drifts at dusk by design.
"""

from __future__ import annotations

import io
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge.atomic_file import replace_file
from edge.calibration.measures import exposure, focus_score
from edge.config import DriftLimits
from edge.plates.pipeline import grey

THUMB_WIDTH = 320  # wide enough to measure a shift of a few frame pixels, small enough to store


class DriftError(Exception):
    """The baseline or today's frames cannot be used; the message says which and why."""


@dataclass(frozen=True, eq=False)
class ViewSignature:
    width: int  # frame size the signature was taken at
    height: int
    focus: float  # medians over the frames; focus relative to contrast (see the module docstring)
    brightness: float
    clipped: float
    thumbs: np.ndarray  # uint8 (frames, h, THUMB_WIDTH): each frame, small and grey
    taken_at: float  # time.time()


def signature(frames: list[np.ndarray]) -> ViewSignature:
    if not frames:
        raise DriftError("no frames to measure")
    sizes = {frame.shape[:2] for frame in frames}
    if len(sizes) != 1:
        raise DriftError(f"frames differ in size: {sorted(sizes)}")
    (height, width), = sizes
    size = (THUMB_WIDTH, max(8, round(height * THUMB_WIDTH / width)))
    thumbs, focus, brightness, clipped = [], [], [], []
    for frame in frames:
        thumbs.append(cv2.resize(grey(frame), size, interpolation=cv2.INTER_AREA))
        focus.append(focus_score(frame) / max(float(thumbs[-1].var()), 1.0))
        measured = exposure(frame)
        brightness.append(measured.mean)
        clipped.append(measured.clipped)
    return ViewSignature(width, height, float(np.median(focus)), float(np.median(brightness)),
                         float(np.median(clipped)), np.stack(thumbs), time.time())  # fmt: skip


def save_baseline(path: Path, baseline: ViewSignature) -> None:
    meta = {
        "width": baseline.width, "height": baseline.height, "focus": baseline.focus,
        "brightness": baseline.brightness, "clipped": baseline.clipped, "taken_at": baseline.taken_at,
    }  # fmt: skip
    buffer = io.BytesIO()
    np.savez_compressed(buffer, thumbs=baseline.thumbs, meta=np.array(json.dumps(meta)))
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_file(path, buffer.getvalue())


def load_baseline(path: Path) -> ViewSignature:
    if not path.is_file():
        raise DriftError(f"no baseline at {path}; record one with --save-baseline while the camera is set up right")
    try:
        with np.load(path, allow_pickle=False) as stored:
            meta = json.loads(str(stored["meta"]))
            thumbs = stored["thumbs"]
        if thumbs.ndim != 3 or thumbs.dtype != np.uint8 or len(thumbs) == 0:
            raise ValueError(f"thumbnails of shape {thumbs.shape} and type {thumbs.dtype}")
        return ViewSignature(int(meta["width"]), int(meta["height"]), float(meta["focus"]),
                             float(meta["brightness"]), float(meta["clipped"]), thumbs,
                             float(meta["taken_at"]))  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DriftError(f"baseline {path} is unreadable ({exc}); record a new one with --save-baseline") from None


@dataclass(frozen=True)
class DriftReport:
    focus_ratio: float
    brightness_change: float
    clipped_increase: float
    shift_px: tuple[float, float]  # (dx, dy) in frame pixels, today relative to the baseline
    similarity: float  # -1..1, 1 = the same scene structure
    alarms: tuple[str, ...]


def _edges(image: np.ndarray) -> np.ndarray:
    smooth = cv2.GaussianBlur(image, (0, 0), 1.0)
    return cv2.magnitude(cv2.Sobel(smooth, cv2.CV_32F, 1, 0), cv2.Sobel(smooth, cv2.CV_32F, 0, 1))


def _shift_and_similarity(base: np.ndarray, today: np.ndarray) -> tuple[tuple[float, float], float]:
    """Shift of `today` against `base` (thumbnail pixels), and how alike their edges are once aligned."""
    base, today = base.astype(np.float32), today.astype(np.float32)
    window = cv2.createHanningWindow(base.shape[::-1], cv2.CV_32F)
    (dx, dy), _ = cv2.phaseCorrelate(base, today, window)
    margin = math.ceil(max(abs(dx), abs(dy))) + 2
    if 2 * margin >= min(base.shape):
        return (dx, dy), 0.0
    aligned = cv2.warpAffine(today, np.array([[1, 0, -dx], [0, 1, -dy]], np.float32), base.shape[::-1],
                             flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    a = _edges(base)[margin:-margin, margin:-margin].ravel()
    b = _edges(aligned)[margin:-margin, margin:-margin].ravel()
    if a.std() == 0 or b.std() == 0:
        # A featureless view (a covered lens) has no structure to correlate: nothing like the baseline.
        return (dx, dy), 0.0
    return (dx, dy), float(np.corrcoef(a, b)[0, 1])


def compare(baseline: ViewSignature, today: ViewSignature, limits: DriftLimits) -> DriftReport:
    if (today.width, today.height) != (baseline.width, baseline.height):
        raise DriftError(
            f"today's frames are {today.width}x{today.height}, the baseline's {baseline.width}x{baseline.height}: "
            "the camera's mode changed; check the camera, then record a new baseline"
        )
    focus_ratio = today.focus / baseline.focus if baseline.focus > 0 else 1.0
    brightness_change = today.brightness - baseline.brightness
    clipped_increase = today.clipped - baseline.clipped
    (dx, dy), similarity = max(
        (_shift_and_similarity(base, now) for base in baseline.thumbs for now in today.thumbs),
        key=lambda found: found[1],
    )
    scale = baseline.width / THUMB_WIDTH
    shift = (dx * scale, dy * scale)
    alarms = []
    if focus_ratio < limits.min_focus_ratio:
        alarms.append(f"focus dropped to {focus_ratio:.0%} of the baseline (limit {limits.min_focus_ratio:.0%})")
    if abs(brightness_change) > limits.max_brightness_change:
        alarms.append(f"brightness changed by {brightness_change:+.0f} grey levels "
                      f"(limit ±{limits.max_brightness_change:g})")  # fmt: skip
    if clipped_increase > limits.max_clipped_increase:
        alarms.append(f"{clipped_increase:.1%} more of the view is clipped to black or white "
                      f"(limit {limits.max_clipped_increase:.1%})")  # fmt: skip
    if similarity >= limits.min_similarity and math.hypot(*shift) > limits.max_shift_px:
        alarms.append(f"the view moved by {shift[0]:+.0f},{shift[1]:+.0f} px (limit {limits.max_shift_px:g} px): "
                      "camera knocked or turned")  # fmt: skip
    if similarity < limits.min_similarity:
        alarms.append(f"the scene looks different (similarity {similarity:.2f}, limit {limits.min_similarity:g}): "
                      "lens dirty or covered, or the camera faces elsewhere")  # fmt: skip
    return DriftReport(focus_ratio, brightness_change, clipped_increase, shift, similarity, tuple(alarms))
