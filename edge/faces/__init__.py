"""Face matching at the lane: detection, quality gates, encoding, fusion, 1:1 verification, 1:N search.

The stages, each behind a small interface:

    frame ─► FaceDetector ─► landmarks ─► quality gates ─► FaceObservation (accepted or rejected, with why)
    accepted observations ─► best few by quality ─► FaceEncoder (chip, mirror) ─► fuse ─► FaceTemplate
    FaceTemplate ─► verify (1:1 against the document portrait) ─► VerificationResult
    FaceTemplate ─► FaceIndex.search (1:N against the watchlist) ─► SearchCandidate, best first

Scores are cosine similarities of unit-length dlib descriptors (higher is more alike); the
decision threshold is one calibrated number in config (`[faces] threshold`).
"""
