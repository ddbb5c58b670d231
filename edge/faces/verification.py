"""1:1: is the live face the person of the document (or of the enrolled record)?

The result carries the score and the threshold it was held against, so the kiosk shows the
officer the evidence, not only a yes or no.
"""

from __future__ import annotations

import numpy as np

from edge.faces.types import FaceTemplate, VerificationResult


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two unit-length descriptors, -1..1."""
    return float(np.dot(a, b))


def verify(live: FaceTemplate, reference: FaceTemplate, threshold: float, reference_kind: str) -> VerificationResult:
    score = similarity(live.vector, reference.vector)
    return VerificationResult(score=score, threshold=threshold, match=score >= threshold, reference=reference_kind)


def verify_traveller(
    live: FaceTemplate,
    threshold: float,
    *,
    document_portrait: FaceTemplate | None,
    enrolled: FaceTemplate | None,
) -> VerificationResult:
    """Against the portrait the reader sent if there is one (it is the document in hand), else the enrolled record."""
    if document_portrait is not None:
        return verify(live, document_portrait, threshold, "document")
    if enrolled is not None:
        return verify(live, enrolled, threshold, "enrolled")
    raise ValueError("nothing to verify against: the reader sent no portrait and no record is enrolled")
