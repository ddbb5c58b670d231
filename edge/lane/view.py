"""What the kiosk sees of a lane: its JSON view, the crossing's pictures and boxes, and camera previews.

Nothing here decides anything. The runtime hands over what happened (a plate crop, a portrait, the
traveller's best face) and this side keeps it in the form the kiosk draws: small JPEGs, boxes in
preview pixels, and plain JSON.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field

import cv2
import numpy as np

from edge.capture import CameraReader, CameraStatus
from edge.faces.types import FaceObservation
from edge.image_files import ImageFileError, decode_image
from edge.lane.crossing import Crossing
from edge.lane.machine import LaneSnapshot
from edge.plates.reads import PlateRead
from edge.watchlist.lookup import WatchlistHit

CAMERA_ROLES = ("plate", "face")
CROSSING_IMAGES = ("plate", "portrait", "face")  # plate crop, document portrait, best live face
_PREVIEW_WIDTH = 640  # the kiosk shows cameras as tiles; full 720p would cost CPU and bandwidth for nothing
_PREVIEW_QUALITY = 70
_CROP_WIDTH = 400  # plate crops and portraits beside the decision


@dataclass(frozen=True)
class Preview:
    seq: int
    jpeg: bytes


@dataclass(frozen=True)
class LaneView:
    """What the kiosk shows of a lane: state, cameras, devices and the current crossing."""

    lane_id: str
    name: str
    snapshot: LaneSnapshot
    cameras: dict[str, CameraStatus]
    devices: list[dict] = field(default_factory=list)
    barrier: dict | None = None
    crossing: dict | None = None
    training: bool = False  # a training lane: every screen marks it so

    def to_json(self) -> dict:
        return asdict(self)


def encode_jpeg(image: np.ndarray, width: int = _PREVIEW_WIDTH) -> bytes:
    if image.shape[1] > width:
        height = round(image.shape[0] * width / image.shape[1])
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, _PREVIEW_QUALITY])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return jpeg.tobytes()


def preview_scale(image: np.ndarray) -> float:
    """Frame pixels -> preview pixels, as encode_jpeg scales (the kiosk draws boxes on the preview)."""
    return min(1.0, _PREVIEW_WIDTH / image.shape[1])


def _reencode(image_bytes: bytes | None) -> bytes | None:
    """A reader's portrait as JPEG whatever it came as (browsers do not all show JPEG 2000)."""
    if not image_bytes:
        return None
    try:
        return encode_jpeg(decode_image(image_bytes, "the reader's portrait"), width=_CROP_WIDTH)
    except ImageFileError:
        return None  # the crossing goes on without the picture; the face step reports its own problem


class CrossingMedia:
    """The current crossing's pictures and boxes, as the kiosk shows them beside the decision.

    Touched only under the lane's lock. The best face's chip is encoded only when someone looks."""

    def __init__(self) -> None:
        self._images: dict[str, bytes] = {}  # CROSSING_IMAGES, as JPEG
        self._face: FaceObservation | None = None
        self._boxes: dict[str, object] = {}  # plate quad and face box, in preview pixels

    def forget(self) -> None:
        self._images, self._face, self._boxes = {}, None, {}

    def plate(self, plate: PlateRead, scale: float) -> None:
        self._images["plate"] = encode_jpeg(plate.best_crop, width=_CROP_WIDTH)
        self._boxes["plate"] = [[x * scale, y * scale] for x, y in plate.quad]

    def portrait(self, image_bytes: bytes | None) -> None:
        portrait = _reencode(image_bytes)
        if portrait is not None:
            self._images["portrait"] = portrait
        else:
            self._images.pop("portrait", None)

    def follow_face(self, best: FaceObservation | None, scale: float) -> bool:
        """Follow the traveller's best face; True when it changed."""
        if best is None or best is self._face:
            return False
        self._face = best
        self._images.pop("face", None)
        box = best.box
        self._boxes["face"] = {"left": box.left * scale, "top": box.top * scale,
                               "width": box.width * scale, "height": box.height * scale}
        return True

    def image(self, kind: str) -> bytes | None:
        if kind == "face" and self._face is not None and "face" not in self._images:
            self._images["face"] = encode_jpeg(cv2.cvtColor(self._face.chip, cv2.COLOR_RGB2BGR))
        return self._images.get(kind)

    def crossing_json(self, crossing: Crossing) -> dict:
        e = crossing.evidence
        verification = e.face_verification
        return {
            "crossing_id": crossing.crossing_id,
            "opened_at": crossing.opened_at,
            "plate": _plate_json(e.plate) if e.plate else None,
            "document": e.document.to_json() if e.document else None,
            "document_rescan": e.document_rescan,
            "face": asdict(verification) if verification else None,
            "face_candidates": [asdict(candidate) for candidate in e.face_candidates],
            "hits": [_hit_json(hit) for hit in e.hits],
            "decision": crossing.decision.to_json() if crossing.decision else None,
            "action": crossing.action.to_json() if crossing.action else None,
            "barrier_opened": crossing.barrier_opened,
            "restored": crossing.restored,
            "boxes": dict(self._boxes),
            "images": {kind: kind in self._images or (kind == "face" and self._face is not None)
                       for kind in CROSSING_IMAGES},
        }


class Previews:
    """The newest frame of each camera as a small JPEG, encoded once per frame however many viewers."""

    def __init__(self, cameras: dict[str, CameraReader]):
        self._cameras = cameras
        self._lock = threading.Lock()
        self._cache: dict[str, Preview] = {}

    def get(self, role: str) -> Preview | None:
        frame = self._cameras[role].latest()
        if frame is None:
            return None
        with self._lock:
            cached = self._cache.get(role)
        if cached is not None and cached.seq == frame.seq:
            return cached
        preview = Preview(frame.seq, encode_jpeg(frame.image))
        with self._lock:
            self._cache[role] = preview
        return preview


def _hit_json(hit: WatchlistHit) -> dict:
    return {
        "list": hit.list_id, "reason": hit.record.reason, "action": hit.action.value, "match": hit.match.value,
        "advisory": hit.advisory, "record": hit.record.id, "source": hit.record.source,
    }


def _plate_json(plate: PlateRead) -> dict:
    return {
        "text": plate.text, "region": plate.region, "confidence": plate.confidence,
        "char_confidences": list(plate.char_confidences), "frames": plate.frames,
        "first_seen": plate.first_seen, "last_seen": plate.last_seen,
        "runner_ups": [{"text": r.text, "share": r.share} for r in plate.runner_ups],
    }
