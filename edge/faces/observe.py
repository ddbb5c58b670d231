"""A frame in, the faces in it out: detection, landmarks, chip and quality gates, no encoding."""

from __future__ import annotations

import numpy as np

from edge.config import FacesConfig
from edge.faces.detection import FaceDetector
from edge.faces.landmarks import face_chip, find_landmarks
from edge.faces.quality import assess_quality
from edge.faces.types import Box, FaceObservation


class FaceObserver:
    def __init__(self, config: FacesConfig, detector: FaceDetector):
        self._config = config
        self._detector = detector

    def observe(
        self, rgb: np.ndarray, *, expect_face: bool = False, frame_time: float | None = None, near: Box | None = None
    ) -> list[FaceObservation]:
        """Every face in the frame, largest first, each with its quality verdict.

        `expect_face`: the lane knows someone is there (or the image is a portrait), so an empty
        result from the fast detector is worth the slow one. `near`: the face's box in the previous
        frame, where detection looks first."""
        observations = []
        for detection in self._detector.detect(rgb, expect_face=expect_face, near=near):
            landmarks = find_landmarks(rgb, detection.box)
            chip = face_chip(rgb, detection.box, landmarks)
            observations.append(
                FaceObservation(
                    box=detection.box,
                    detector=detection.detector,
                    landmarks=landmarks,
                    quality=assess_quality(landmarks, chip, self._config),
                    chip=chip,
                    frame_time=frame_time,
                )
            )
        return observations
