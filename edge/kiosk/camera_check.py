"""The technician page's camera numbers, measured on a lane camera's newest frame.

The same measures as `edge calibrate focus|exposure|plate|face` (edge/calibration/), so the
number on the page is the number the command prints. Boxes come back in preview pixels (the
640-px image the page draws on) and the frame's own size comes with them, so a rectangle drawn
on the preview can be turned back into frame pixels.
"""

from __future__ import annotations

import threading

import numpy as np

from edge.calibration.measures import exposure, focus_score
from edge.calibration.sizes import face_size, plate_size
from edge.config import CalibrationConfig, FacesConfig, LaneConfig
from edge.faces.detectors import frame_detector
from edge.faces.observe import FaceObserver
from edge.lane.view import preview_scale
from edge.plates.pipeline import PlateReader


class CameraCheck:
    """Readers are built once per lane and shared by every technician page (one at a time)."""

    def __init__(self, calibration: CalibrationConfig, faces: FacesConfig):
        self._calibration = calibration
        self._faces = faces
        self._lock = threading.Lock()  # the readers keep per-call state; pages take turns
        self._plate_readers: dict[str, PlateReader] = {}
        self._observer: FaceObserver | None = None

    def measure(self, lane: LaneConfig, role: str, image: np.ndarray) -> dict:
        camera = lane.cameras.plate if role == "plate" else lane.cameras.face
        scale = preview_scale(image)
        height, width = image.shape[:2]
        seen = exposure(image, camera.roi)
        result: dict = {
            "lane": lane.id, "camera": role, "frame": {"width": width, "height": height}, "scale": scale,
            "roi": camera.roi.model_dump() if camera.roi is not None else None,
            "focus": focus_score(image, camera.roi),
            "exposure": {"mean": seen.mean, "dark_clipped": seen.dark_clipped, "bright_clipped": seen.bright_clipped,
                         "histogram": list(seen.histogram), "problems": list(seen.problems)},
        }
        with self._lock:
            if role == "plate":
                result["plate"] = self._plate(lane, image, scale)
            else:
                result["face"] = self._face(image, scale)
        return result

    def _plate(self, lane: LaneConfig, image: np.ndarray, scale: float) -> dict | None:
        reader = self._plate_readers.get(lane.id)
        if reader is None:
            reader = self._plate_readers[lane.id] = PlateReader.from_config(lane.plates, lane.cameras.plate.roi)
        size = plate_size(image, reader, self._calibration.min_plate_char_px)
        if size is None:
            return None
        return {"char_height_px": size.char_height_px, "minimum_px": size.minimum_px, "ok": size.ok,
                "text": size.text, "quad": [[x * scale, y * scale] for x, y in size.quad]}

    def _face(self, image: np.ndarray, scale: float) -> dict | None:
        if self._observer is None:
            self._observer = FaceObserver(self._faces, frame_detector(self._faces))
        size = face_size(image, self._observer, self._calibration.min_inter_eye_px)
        if size is None:
            return None
        box = size.box
        return {"inter_eye_px": size.inter_eye_px, "minimum_px": size.minimum_px, "ok": size.ok,
                "problems": list(size.problems),
                "box": {"left": box.left * scale, "top": box.top * scale, "width": box.width * scale,
                        "height": box.height * scale}}
