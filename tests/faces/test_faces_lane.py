"""Faces at lane scale: the synthetic lane's face camera (the astronaut at a car window, 1280x720)."""

from __future__ import annotations

import pytest

from edge.bench.face_frames import lane_face_frames
from edge.config import FacesConfig
from edge.faces.detection import DlibFaceDetector, as_tuple, overlap
from edge.faces.detectors import frame_detector
from edge.faces.encoding import face_encoder
from edge.faces.fusion import build_template
from edge.faces.observe import FaceObserver
from edge.faces.stills import still_observer, still_template
from edge.faces.types import Box
from edge.faces.verification import verify
from edge.faces.yunet import YuNetFaceDetector
from tests.support import faces_images as img

CONFIG = FacesConfig()


@pytest.fixture(scope="module")
def observations():
    """Every face found in eight frames of the synthetic lane, with the true box of each frame."""
    observer = FaceObserver(CONFIG, frame_detector(CONFIG))
    return [
        (truth, observer.observe(rgb, frame_time=float(n)))
        for n, (truth, rgb) in enumerate(lane_face_frames(8, seed=1))
    ]


def test_configured_scale_finds_the_driver_in_every_frame(observations):
    assert len(observations) == 8
    for truth, faces in observations:
        assert faces, f"no face found where the scene put one at {truth}"
        assert overlap(as_tuple(faces[0].box), truth) > 0.3
        assert faces[0].detector == "yunet"


def test_driver_matches_the_document_portrait_after_fusion(observations):
    encoder = face_encoder(CONFIG)
    live = build_template([faces[0] for _, faces in observations], encoder, CONFIG.best_frames)
    assert live.frames == CONFIG.best_frames
    portrait = still_template(img.astronaut(), still_observer(CONFIG), encoder, gated=False)
    someone_else = still_template(img.hopper(), still_observer(CONFIG), encoder, gated=False)
    assert verify(live, portrait, CONFIG.threshold, "document").match
    assert not verify(live, someone_else, CONFIG.threshold, "document").match


def coarse(detector: str):
    """A detector that cannot see the driver in a whole-frame scan."""
    # Scaled to a fifth, the driver's face is far below HOG's 80-pixel window.
    hog = DlibFaceDetector(0.2, 0, 0.5, 0)
    # Scaled to a 48-pixel long side, the driver's face is 4 pixels wide.
    return hog if detector == "hog" else YuNetFaceDetector(48, dlib=hog)


@pytest.mark.parametrize("detector", ["hog", "yunet"])
def test_looking_near_the_previous_face_finds_it_where_a_whole_frame_scan_cannot(detector):
    (truth, first), (truth_next, second) = lane_face_frames(2, seed=1, step_s=0.2)
    scanner = coarse(detector)
    assert scanner.detect(second) == []
    hint = Box(*(round(v) for v in truth))
    tracked = scanner.detect(second, near=hint)
    assert tracked and overlap(as_tuple(tracked[0].box), truth_next) > 0.3
    # A hint where no face is falls back to the whole-frame scan.
    configured = frame_detector(FacesConfig(detector=detector))
    far_away = Box(0 if hint.left > 400 else 900, 500, 100, 100)
    rescanned = configured.detect(second, near=far_away)
    assert rescanned and overlap(as_tuple(rescanned[0].box), truth_next) > 0.3
    assert configured.detect(first)

