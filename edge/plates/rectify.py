"""The rectify stage: the plate image a recogniser reads, cut around a detector's candidate.

The cut is the axis-aligned box around the candidate's corners, widened by a margin on each side
(a detector's box may be a little tight) and kept inside the image. It is not turned level: the
plate recogniser was trained on such boxes of turned and tilted plates (models/plate_views.py),
and the line recogniser levels each row of glyphs itself (edge/plates/lines.py).
"""

from __future__ import annotations

import numpy as np

from edge.plates.stages import PlateCandidate, PlateImage

# Margins around a detector's box, as fractions of its width and of its height.
MARGIN = (0.06, 0.12)


def cut_plate(gray: np.ndarray, candidate: PlateCandidate, margin: tuple[float, float] = MARGIN) -> PlateImage | None:
    """The candidate's plate image in `gray`, or None when the box holds no pixels inside the image."""
    corners = np.array(candidate.quad, dtype=np.float64)
    x0, y0 = corners.min(axis=0)
    x1, y1 = corners.max(axis=0)
    mx, my = margin[0] * (x1 - x0), margin[1] * (y1 - y0)
    height, width = gray.shape[:2]
    left, top = max(0, int(np.floor(x0 - mx))), max(0, int(np.floor(y0 - my)))
    right, bottom = min(width, int(np.ceil(x1 + mx))), min(height, int(np.ceil(y1 + my)))
    if right - left < 4 or bottom - top < 4:
        return None
    return PlateImage(gray[top:bottom, left:right], (float(left), float(top)))
