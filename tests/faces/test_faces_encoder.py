"""The ONNX face encoder against dlib's own network, on 200 real faces.

models/face_encoder.onnx is dlib's ResNet rebuilt from its .dat file (models/export_face_encoder.py).
The faces are the two public-domain portraits of the face tests, each spoilt 100 ways the way a lane
camera spoils a face (light, noise, compression, a tilt, distance), and found, aligned and cut by the
product's own still pipeline: 200 different chips of real faces.
"""

from __future__ import annotations

import hashlib
import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from edge.config import FacesConfig
from edge.faces.dlib_models import model_file
from edge.faces.encoding import DlibFaceEncoder, OnnxFaceEncoder, face_encoder
from edge.faces.fusion import NoUsableFace
from edge.faces.stills import main_face, still_observer
from edge.model_files import MODELS_DIR, manifest_entry
from tests.support import faces_images as img

pytestmark = pytest.mark.slow  # loads and runs the face models: seconds per test

THRESHOLD = FacesConfig().threshold


def _spoilt(base: np.ndarray, centre: tuple[float, float]) -> list[np.ndarray]:
    """100 versions of a portrait: 5 lights x 5 tilts x 4 of (noise, JPEG, blur, distance)."""
    versions = []
    for (factor, offset), degrees in itertools.product([(1.0, 0), (0.8, 0), (1.15, -10), (0.9, 20), (0.7, 30)],
                                                       [-8, -4, 0, 4, 8]):
        lit = img.rotate(img.gain(base, factor, offset), degrees, centre)
        versions += [img.noise(lit, 6, seed=degrees + 50), img.jpeg(lit, 40), img.blur(lit, 0.8),
                     img.scaled(lit, 0.8)]
    return versions


@pytest.fixture(scope="module")
def chips() -> tuple[list[np.ndarray], list[int]]:
    """Chips of real faces and who each one is (0: the astronaut, 1: Grace Hopper)."""
    observer = still_observer(FacesConfig(min_sharpness=0))
    found, who = [], []
    hopper = img.hopper()  # her face is near the middle of the picture
    for person, (base, centre) in enumerate([(img.astronaut(), img.ASTRONAUT_FACE_CENTRE),
                                             (hopper, (hopper.shape[1] / 2, hopper.shape[0] / 2))]):
        for version in _spoilt(base, centre):
            try:
                found.append(main_face(version, observer).chip)
                who.append(person)
            except NoUsableFace:
                continue
    return found, who


def test_onnx_descriptors_are_dlib_s_to_within_1e_3_and_decide_alike(chips):
    faces, who = chips
    assert len(faces) >= 200 and set(who) == {0, 1}
    onnx = OnnxFaceEncoder(mirror=False).encode(faces)
    dlib = DlibFaceEncoder(mirror=False, jitters=0).encode(faces)
    assert np.abs(onnx - dlib).max() <= 1e-3
    # Every 1:1 decision at the shipped threshold is the same, for every pair of the 200.
    assert np.array_equal(onnx @ onnx.T >= THRESHOLD, dlib @ dlib.T >= THRESHOLD)
    # And they are decisions worth comparing: the two people are told apart.
    same = np.equal.outer(who, who)
    assert (onnx @ onnx.T)[~same].max() < THRESHOLD < np.median((onnx @ onnx.T)[same])


def test_mirrored_encodings_agree_and_a_wrong_chip_is_named(chips):
    faces, _ = chips
    onnx = OnnxFaceEncoder(mirror=True).encode(faces[:4])
    dlib = DlibFaceEncoder(mirror=True, jitters=0).encode(faces[:4])
    assert np.abs(onnx - dlib).max() <= 1e-3
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="150x150 RGB uint8"):
        OnnxFaceEncoder(mirror=False).encode([faces[0][:100]])


def test_the_config_picks_the_encoder_and_keeps_jitter_to_dlib():
    assert isinstance(face_encoder(FacesConfig()), OnnxFaceEncoder)
    assert isinstance(face_encoder(FacesConfig(encoder="dlib", jitters=2)), DlibFaceEncoder)
    with pytest.raises(ValidationError, match='jitters need encoder = "dlib"'):
        FacesConfig(jitters=2)


def _export(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(MODELS_DIR / "export_face_encoder.py"), *args], capture_output=True,
                          text=True, timeout=300)


def test_the_export_rebuilds_the_committed_model_byte_for_byte(tmp_path):
    run = _export("--output", str(tmp_path / "face_encoder.onnx"))
    assert run.returncode == 0, run.stderr
    rebuilt = hashlib.sha256((tmp_path / "face_encoder.onnx").read_bytes()).hexdigest()
    assert rebuilt == manifest_entry("face_encoder").sha256


def test_the_export_refuses_a_damaged_model_file_naming_where(tmp_path):
    dat = tmp_path / "cut.dat"
    dat.write_bytes(Path(model_file("dlib_face_recognition_resnet_model_v1.dat")).read_bytes()[:1_000_000])
    run = _export("--dat", str(dat), "--output", str(tmp_path / "out.onnx"))
    assert run.returncode != 0 and "Traceback" not in run.stderr
    assert "not dlib's face recognition ResNet as expected" in run.stderr and "byte" in run.stderr
    assert not (tmp_path / "out.onnx").exists()
