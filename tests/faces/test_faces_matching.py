"""Encoding, fusion and 1:1 decisions on two public-domain people, one of them seen through many spoilt frames."""

from __future__ import annotations

import numpy as np
import pytest

from edge.config import FacesConfig
from edge.faces import quality
from edge.faces.encoding import face_encoder
from edge.faces.fusion import BestFrames, NoUsableFace, best_observations, build_template, fuse
from edge.faces.stills import main_face, still_observer, still_template
from edge.faces.verification import verify, verify_traveller
from tests.support import faces_images as img

CONFIG = FacesConfig()


@pytest.fixture(scope="module")
def observer():
    return still_observer(CONFIG)


@pytest.fixture(scope="module")
def encoder():
    return face_encoder(FacesConfig())


@pytest.fixture(scope="module")
def astronaut_frames(observer):
    """Frames of one traveller as a lane camera spoils them, plus two the gates must refuse."""
    base = img.astronaut()
    frames = [
        img.noise(base, 10, seed=1),
        img.jpeg(base, 35),
        img.gain(base, 0.75),
        img.rotate(base, 6, img.ASTRONAUT_FACE_CENTRE),
        img.blur(base, 1.0),
        img.blur(base, 3.0),  # refused: blurred
        img.gain(base, 0.2),  # refused: too dark
    ]
    return [main_face(frame, observer) for frame in frames]


@pytest.fixture(scope="module")
def reference(observer, encoder):
    """The astronaut's 'document portrait': the clean image."""
    return still_template(img.astronaut(), observer, encoder, gated=False)


@pytest.fixture(scope="module")
def other_person(observer, encoder):
    return still_template(img.hopper(), observer, encoder, gated=False)


def test_descriptors_are_unit_length_and_mirroring_is_symmetric(observer, encoder):
    face = main_face(img.astronaut(), observer)
    plain = face_encoder(FacesConfig(mirror=False))
    [mirrored_view] = plain.encode([np.ascontiguousarray(face.chip[:, ::-1])])
    [view] = plain.encode([face.chip])
    [both] = encoder.encode([face.chip])
    assert np.linalg.norm(both) == pytest.approx(1.0, abs=1e-5)
    # The mirrored encoding is the normalised mean of the two views, whichever way round.
    expected = (view + mirrored_view) / np.linalg.norm(view + mirrored_view)
    assert np.allclose(both, expected, atol=1e-5)


def test_same_person_matches_and_another_person_does_not(reference, other_person, observer, encoder):
    live = build_template([main_face(img.jpeg(img.astronaut(), 40), observer)], encoder, best_frames=1)
    same = verify(live, reference, CONFIG.threshold, "document")
    other = verify(other_person, reference, CONFIG.threshold, "document")
    assert same.match and same.score >= CONFIG.threshold
    assert not other.match and other.score < CONFIG.threshold
    assert same.score > other.score
    assert same.threshold == CONFIG.threshold and same.reference == "document"


def test_best_frames_are_the_accepted_ones_of_highest_quality(astronaut_frames):
    accepted = [f for f in astronaut_frames if f.quality.accepted]
    refused = [f for f in astronaut_frames if not f.quality.accepted]
    assert {p for f in refused for p in f.quality.problems} >= {quality.HOLD_STILL, quality.TOO_DARK}
    chosen = best_observations(astronaut_frames, 3)
    assert len(chosen) == 3
    assert all(f.quality.accepted for f in chosen)
    scores = [f.quality.score for f in chosen]
    assert scores == sorted(scores, reverse=True)
    assert min(scores) >= max(f.quality.score for f in accepted if f not in chosen)


def test_fused_template_is_closer_to_the_person_than_its_frames_on_average(astronaut_frames, encoder, reference):
    chosen = best_observations(astronaut_frames, 5)
    singles = [float(v @ reference.vector) for v in encoder.encode([f.chip for f in chosen])]
    fused = build_template(astronaut_frames, encoder, best_frames=5)
    assert fused.frames == 5
    assert np.linalg.norm(fused.vector) == pytest.approx(1.0, abs=1e-5)
    fused_score = float(fused.vector @ reference.vector)
    # Averaging unit vectors can only raise the mean cosine (the mean is shorter than 1).
    assert fused_score >= np.mean(singles)
    assert fused_score >= CONFIG.threshold


def test_fused_impostor_stays_below_threshold(astronaut_frames, encoder, other_person):
    fused = build_template(astronaut_frames, encoder, best_frames=3)
    assert not verify(fused, other_person, CONFIG.threshold, "enrolled").match


def test_no_usable_face_says_why_most_frequent_reason_first(astronaut_frames):
    refused = [f for f in astronaut_frames if not f.quality.accepted]
    dark = [f for f in refused if quality.TOO_DARK in f.quality.problems]
    with pytest.raises(NoUsableFace) as error:
        best_observations(refused + dark, 3)
    assert error.value.reasons[0] == quality.TOO_DARK
    assert quality.HOLD_STILL in error.value.reasons
    with pytest.raises(NoUsableFace, match="no face found"):
        best_observations([], 3)


def test_verification_prefers_the_document_portrait_over_the_enrolled_record(reference, other_person):
    live = reference
    from_document = verify_traveller(live, CONFIG.threshold, document_portrait=other_person, enrolled=reference)
    assert from_document.reference == "document" and not from_document.match
    from_record = verify_traveller(live, CONFIG.threshold, document_portrait=None, enrolled=reference)
    assert from_record.reference == "enrolled" and from_record.match
    with pytest.raises(ValueError, match="nothing to verify against"):
        verify_traveller(live, CONFIG.threshold, document_portrait=None, enrolled=None)


def test_enrolment_refuses_a_poor_photo_with_the_reason(observer, encoder):
    with pytest.raises(NoUsableFace) as error:
        still_template(img.blur(img.astronaut(), 3.0), observer, encoder, gated=True)
    assert quality.HOLD_STILL in error.value.reasons
    with pytest.raises(NoUsableFace, match="no face found"):
        still_template(np.full((300, 300, 3), 128, np.uint8), observer, encoder, gated=True)


def test_fuse_rejects_nothing_to_fuse():
    with pytest.raises(ValueError, match="zero descriptors"):
        fuse(np.zeros((0, 128), np.float32))


def test_best_frames_keeps_the_top_few_as_frames_stream_in(astronaut_frames):
    best = BestFrames(2)
    for face in astronaut_frames:
        best.offer(face)
    assert best.seen == len(astronaut_frames)
    assert best.observations == best_observations(astronaut_frames, 2)
    # The stream ended on the dark frame: the kiosk is told why it was not used.
    assert best.last_problems == astronaut_frames[-1].quality.problems
    best.offer(best.observations[0])
    assert best.last_problems == ()
