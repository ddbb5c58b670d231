"""The face steps of a lane: face-camera frames in, 1:1 and 1:N results for the current crossing out.

Frames are observed (detection + quality gates) and the best few kept; once enough good faces
are in, they are fused into one template, verified against the document portrait (when the
reader sent one) and searched in the watchlist's enrolled faces (one gallery for every lane,
edge/faces/watchlist_gallery.py).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import cv2
import numpy as np

from edge.config import FacesConfig, LaneConfig
from edge.faces.detectors import frame_detector
from edge.faces.encoding import face_encoder
from edge.faces.fusion import BestFrames, NoUsableFace, build_template, fuse
from edge.faces.observe import FaceObserver
from edge.faces.stills import ImageError, decode_rgb, main_face, still_observer
from edge.faces.types import Box, FaceObservation, FaceTemplate, SearchCandidate, VerificationResult
from edge.faces.verification import verify
from edge.faces.watchlist_gallery import WatchlistGallery
from edge.watchlist.runtime import WatchlistRuntime

log = logging.getLogger(__name__)

# Faces fused before the first result: enough to out-vote one bad frame, few enough to answer
# while the driver is still at the window.
_FIRST_RESULT_AFTER = 3
_FALLBACK_EVERY = 10


class LaneFaces:
    """One lane's traveller: reset per crossing."""

    def __init__(self, config: FacesConfig, gallery: WatchlistGallery | None):
        self._config = config
        self._gallery = gallery
        self._observer = FaceObserver(config, frame_detector(config))
        self._stills = still_observer(config)
        self._encoder = face_encoder(config)
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._best = BestFrames(self._config.best_frames)
            self._fused_count = 0
            self._live: FaceTemplate | None = None
            self._portrait: FaceTemplate | None = None
            self._verification: VerificationResult | None = None
            self._candidates: tuple[SearchCandidate, ...] = ()
            self._near: Box | None = None  # the face's box in the previous frame
            self._empty = 0  # frames in a row without a face

    @property
    def problems(self) -> tuple[str, ...]:
        """Why the latest face was refused, in words the kiosk can show ("move closer")."""
        return self._best.last_problems

    def set_portrait(self, portrait: bytes | None) -> None:
        template = None
        if portrait:
            try:
                face = main_face(decode_rgb(portrait), self._stills)
                # The document's photo is what it is: the live gates (pose, eyes) cannot ask it to
                # move, so it is encoded whatever its quality; the score shows how well it matches.
                vector = fuse(self._encoder.encode([face.chip]))
                template = FaceTemplate(vector=vector, quality=face.quality.score, frames=1)
            except (ImageError, NoUsableFace) as exc:
                log.warning("document portrait unusable: %s", exc)
        with self._lock:
            self._portrait = template
            self._verify()

    def offer(self, image: np.ndarray, at: float) -> bool:
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        # Look first where the face was; the slow CNN fallback only on every _FALLBACK_EVERY-th
        # empty frame (it costs over a second here, and the next frames are as good a chance).
        faces = self._observer.observe(rgb, expect_face=self._empty % _FALLBACK_EVERY == _FALLBACK_EVERY - 1,
                                       frame_time=at, near=self._near)
        if not faces:
            self._empty += 1
            self._near = None
            return False
        self._empty = 0
        self._near = faces[0].box
        with self._lock:
            self._best.offer(faces[0])
            kept = self._best.observations
            # Re-fuse only when the kept set grew: encoding costs ~150 ms a face here (mirrored, no BLAS).
            if len(kept) < _FIRST_RESULT_AFTER or len(kept) == self._fused_count == self._config.best_frames:
                return False
            self._fused_count = len(kept)
            self._live = build_template(kept, self._encoder, self._config.best_frames)
            gallery = self._gallery.current() if self._gallery is not None else None
            self._candidates = tuple(
                gallery.search(self._live.vector, self._config.top_k, self._config.threshold) if gallery else ()
            )
            self._verify()
            return True

    def _verify(self) -> None:
        if self._live is not None and self._portrait is not None:
            self._verification = verify(self._live, self._portrait, self._config.threshold, "document")

    def results(self) -> tuple[VerificationResult | None, tuple[SearchCandidate, ...]]:
        with self._lock:
            return self._verification, self._candidates

    def best_face(self) -> FaceObservation | None:
        """The traveller's best face so far (the kiosk shows its chip and draws its box)."""
        with self._lock:
            kept = self._best.observations
            return kept[0] if kept else None


class LaneFacesFactory:
    """Builds each lane's face steps around one shared gallery (saved under `gallery_folder`)."""

    def __init__(self, config: FacesConfig, watchlist: WatchlistRuntime | None, gallery_folder: Path | None = None):
        self._config = config
        self._gallery = WatchlistGallery(config, watchlist.store, gallery_folder) if watchlist is not None else None

    def __call__(self, _lane: LaneConfig) -> LaneFaces:
        return LaneFaces(self._config, self._gallery)

    def close(self) -> None:
        if self._gallery is not None:
            self._gallery.close()
