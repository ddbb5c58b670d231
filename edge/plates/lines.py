"""Find lines of plate characters in a grey image, and cut one out straightened.

A plate's registration is a row of glyphs of one height, evenly spaced, dark on light or light on
dark. Finding such rows directly works the same on a whole frame (plate 60 px wide) and on a
plate crop (400 px wide), ignores the small state names, slogans and stickers around them
(different height, or too few in a row), and gives the tilt of the row for free. It is also
cheap: one adaptive threshold and one connected-components pass per polarity and scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np

# A glyph box: x, y, width, height in pixels of the image it was found in.
GlyphBox = tuple[int, int, int, int]


@dataclass(frozen=True)
class TextLine:
    """A row of glyphs, in the coordinates of the image it was found in."""

    glyphs: tuple[GlyphBox, ...]  # sorted left to right
    height: float  # median glyph height
    slope: float  # dy/dx of the glyph centres (tilt)
    intercept: float  # y of the centre line at x = 0
    dark_on_light: bool

    @property
    def left(self) -> float:
        return float(self.glyphs[0][0])

    @property
    def right(self) -> float:
        last = self.glyphs[-1]
        return float(last[0] + last[2])

    @property
    def score(self) -> float:
        """How plate-like the row is: more glyphs (up to a plate's length) of a steady height."""
        heights = np.array([g[3] for g in self.glyphs], dtype=np.float32)
        steadiness = 1.0 - min(0.5, float(heights.std() / max(1.0, heights.mean())))
        return min(len(self.glyphs), 8) * steadiness

    @cached_property
    def bounds(self) -> tuple[float, float, float, float]:
        """Axis-aligned box (x0, y0, x1, y1) around the glyph band."""
        quad = self.quad(0.0, 0.0)
        return float(quad[:, 0].min()), float(quad[:, 1].min()), float(quad[:, 0].max()), float(quad[:, 1].max())

    def quad(self, margin_x: float = 0.3, margin_y: float = 0.3) -> np.ndarray:
        """Corners (tl, tr, br, bl) of the line's band, widened by margins in glyph heights."""
        angle = np.arctan(self.slope)
        along = np.array([np.cos(angle), np.sin(angle)])
        across = np.array([-np.sin(angle), np.cos(angle)])
        half = self.height * (0.5 + margin_y)
        x0 = self.left - margin_x * self.height
        x1 = self.right + margin_x * self.height
        p0 = np.array([x0, self.slope * x0 + self.intercept])
        length = (x1 - x0) / np.cos(angle)
        p1 = p0 + along * length
        return np.array([p0 - across * half, p1 - across * half, p1 + across * half, p0 + across * half],
                        dtype=np.float32)

    def scaled(self, factor: float, offset: tuple[float, float] = (0.0, 0.0)) -> TextLine:
        """The same line in an image scaled by `factor` and shifted by `offset` (x, y)."""
        ox, oy = offset
        glyphs = tuple(
            (round(x * factor + ox), round(y * factor + oy), round(w * factor), round(h * factor))
            for x, y, w, h in self.glyphs
        )
        return TextLine(glyphs, self.height * factor, self.slope,
                        self.intercept * factor + oy - self.slope * ox, self.dark_on_light)


@dataclass(frozen=True)
class LineSearch:
    """Limits of the glyph search, in pixels of the searched image."""

    min_glyph_height: int = 9
    max_glyph_height: int = 60
    min_glyphs: int = 3
    # Neighbouring glyphs: horizontal gap and height/centre differences, in glyph heights.
    max_gap: float = 1.3
    max_height_change: float = 0.25
    max_centre_shift: float = 0.35
    # Rows on one centre line this far apart (in glyph heights) are one row split by an emblem.
    max_join_gap: float = 3.0


def glyph_boxes(gray: np.ndarray, search: LineSearch, dark_on_light: bool) -> np.ndarray:
    """Boxes (N x 4: x, y, w, h) of connected shapes sized and shaped like plate characters."""
    image = gray if dark_on_light else cv2.bitwise_not(gray)
    # The neighbourhood spans about a glyph so that ink is compared with the plate around it.
    block = max(11, (search.max_glyph_height // 2) | 1)
    binary = cv2.adaptiveThreshold(image, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 8)
    _, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    x, y, w, h, area = (stats[1:, i] for i in range(5))
    fill = area / np.maximum(1, w * h)
    keep = (
        (h >= search.min_glyph_height) & (h <= search.max_glyph_height)
        & (w <= 1.1 * h) & (w * 12 >= h)
        & (fill >= 0.15) & (fill <= 0.95)
    )  # fmt: skip
    boxes = np.stack([x, y, w, h], axis=1)[keep]
    return boxes[np.argsort(boxes[:, 0], kind="stable")]


def _chain(boxes: np.ndarray, search: LineSearch, min_glyphs: int) -> list[list[int]]:
    """Group boxes into rows: each box links to its nearest fitting neighbour on the right."""
    n = len(boxes)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    x, y, w, h = (boxes[:, i].astype(np.float32) for i in range(4))
    cy = y + h / 2
    right = x + w
    # Boxes are sorted by x: only those starting before the widest allowed gap can be neighbours.
    reach = np.searchsorted(x, right + search.max_gap * h * (1 + search.max_height_change) + 1, side="right")
    for i in range(n):
        size = h[i]
        window = slice(i + 1, int(reach[i]))
        gap = x[window] - right[i]
        tall = np.maximum(h[window], size)
        fits = (
            (gap > -0.15 * size) & (gap < search.max_gap * tall)
            & (np.abs(h[window] - size) <= search.max_height_change * tall)
            & (np.abs(cy[window] - cy[i]) <= search.max_centre_shift * tall)
        )  # fmt: skip
        candidates = np.flatnonzero(fits)
        if candidates.size:
            j = i + 1 + int(candidates[np.argmin(gap[candidates])])
            parent[find(j)] = find(i)
    rows: dict[int, list[int]] = {}
    for i in range(n):
        rows.setdefault(find(i), []).append(i)
    return [r for r in rows.values() if len(r) >= min_glyphs]


def _fit(boxes: np.ndarray, dark_on_light: bool) -> TextLine:
    cx = boxes[:, 0] + boxes[:, 2] / 2
    cy = boxes[:, 1] + boxes[:, 3] / 2
    # Least-squares line through the centres (closed form: this runs for every candidate row).
    dx = cx - cx.mean()
    spread = float(dx @ dx)
    slope = float(dx @ (cy - cy.mean())) / spread if spread > 0 else 0.0
    intercept = float(cy.mean()) - slope * float(cx.mean())
    glyphs = tuple((int(b[0]), int(b[1]), int(b[2]), int(b[3])) for b in boxes)
    return TextLine(glyphs, float(np.median(boxes[:, 3])), float(slope), float(intercept), dark_on_light)


def _join_collinear(rows: list[list[int]], boxes: np.ndarray, search: LineSearch) -> list[list[int]]:
    """Join rows that continue each other across a wide gap (a logo or emblem between groups).

    The continuation is checked against the earlier row's own centre line, so tilted plates
    (whose groups sit higher or lower the further they are apart) still join.
    """
    rows = sorted(rows, key=lambda r: boxes[r[0], 0])
    joined: list[list[int]] = []
    # Centre line of each joined row (right end, height, slope, intercept), refitted when it grows.
    right, height, slope, intercept = (np.zeros(len(rows)) for _ in range(4))
    for row in rows:
        size = float(np.median(boxes[row, 3]))
        first = boxes[row[0]]
        x_mid = first[0] + first[2] / 2
        y_mid = first[1] + first[3] / 2
        n = len(joined)
        tall = np.maximum(height[:n], size)
        gap = first[0] - right[:n]
        fits = np.flatnonzero(
            (gap >= 0) & (gap <= search.max_join_gap * tall)
            & (np.abs(height[:n] - size) <= search.max_height_change * tall)
            & (np.abs(y_mid - (slope[:n] * x_mid + intercept[:n])) <= search.max_centre_shift * tall)
        )  # fmt: skip
        if fits.size:
            k = int(fits[0])
            joined[k].extend(row)
        else:
            k = n
            joined.append(list(row))
        line = _fit(boxes[joined[k]], True)
        right[k], height[k], slope[k], intercept[k] = line.right, line.height, line.slope, line.intercept
    return joined


def find_lines(gray: np.ndarray, search: LineSearch) -> list[TextLine]:
    """Rows of plate-like glyphs of both polarities, best first."""
    lines: list[TextLine] = []
    for dark_on_light in (True, False):
        boxes = glyph_boxes(gray, search, dark_on_light)
        rows = _join_collinear(_chain(boxes, search, min_glyphs=2), boxes, search)
        lines.extend(_fit(boxes[row], dark_on_light) for row in rows if len(row) >= search.min_glyphs)
    return sorted(lines, key=lambda line: line.score, reverse=True)


# A registration has at least this many characters; fewer big shapes in a row (lamps, bolts, a
# logo) do not make the lettering beside them small print.
_MIN_REGISTRATION = 4


def level_band(width: float, centre_y: float, height: float) -> TextLine:
    """A level line of glyph height `height` across an image `width` px wide: where to read when
    the row search found no row (its two end "glyphs" are one pixel wide markers of the span)."""
    top = round(centre_y - height / 2)
    glyphs = ((0, top, 1, round(height)), (max(1, round(width) - 1), top, 1, round(height)))
    return TextLine(glyphs, float(height), 0.0, float(centre_y), True)


def _secondary_to(small: TextLine, big: TextLine) -> bool:
    """Whether `small` is lettering beside `big`'s characters: a state name, slogan or dealer line."""
    if big.height < 1.4 * small.height or len(big.glyphs) < _MIN_REGISTRATION:
        return False
    sx0, sy0, sx1, sy1 = small.bounds
    bx0, by0, bx1, by1 = big.bounds
    overlap = min(sx1, bx1) - max(sx0, bx0)
    vertical_gap = max(sy0 - by1, by0 - sy1)
    return overlap > 0.3 * (sx1 - sx0) and vertical_gap < 1.5 * big.height


def main_lines(lines: list[TextLine]) -> list[TextLine]:
    """The lines, those that look like small print around a bigger line last (order kept otherwise).

    Small print is demoted rather than dropped: what looked like a bigger registration beside it
    may be a car's lettering, and then the small line is the plate.
    """
    secondary = [any(_secondary_to(line, other) for other in lines) for line in lines]
    return [line for line, second in zip(lines, secondary, strict=True) if not second] + [
        line for line, second in zip(lines, secondary, strict=True) if second]


def line_below(line: TextLine, lines: list[TextLine]) -> TextLine | None:
    """The second line of a two-line plate under `line`: same glyph size, stacked, overlapping."""
    x0, _, x1, y1 = line.bounds
    for other in lines:
        ox0, oy0, ox1, _ = other.bounds
        overlap = min(x1, ox1) - max(x0, ox0)
        if (other is not line and abs(other.height - line.height) <= 0.3 * max(other.height, line.height)
                and overlap > 0.5 * min(x1 - x0, ox1 - ox0) and -0.2 * line.height <= oy0 - y1 <= line.height):
            return other
    return None


def _band_transform(line: TextLine, height: int, margin_x: float, margin_y: float,
                    stretch: float = 1.0) -> tuple[np.ndarray, int]:
    """Affine map from the image to the line's straightened band `height` px high, and its width."""
    quad = line.quad(margin_x, margin_y)
    band_height = float(np.linalg.norm(quad[3] - quad[0]))
    band_length = float(np.linalg.norm(quad[1] - quad[0]))
    width = max(8, round(band_length * height / band_height * stretch))
    target = np.array([[0, 0], [width, 0], [width, height]], dtype=np.float32)
    return cv2.getAffineTransform(quad[:3], target), width


def extend_ends(gray: np.ndarray, line: TextLine, reach: float = 2.0, max_steps: int = 2) -> TextLine:
    """The line with glyphs added at either end that the row search missed.

    A character at a plate's edge often touches the plate frame or a picture and so was not a
    glyph on its own. In a band cut tightly around the row it stands alone again: take ink
    shapes there as full-height glyphs when they sit within a glyph's gap of the row's ends.
    """
    height = 48
    transform, width = _band_transform(line, height, reach, 0.02)
    band = cv2.warpAffine(gray, transform, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    threshold = cv2.THRESH_BINARY_INV if line.dark_on_light else cv2.THRESH_BINARY
    _, binary = cv2.threshold(band, 0, 255, threshold | cv2.THRESH_OTSU)
    _, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    scale = width / (line.right - line.left + 2 * reach * line.height)
    left = reach * line.height * scale
    right = width - left
    pitch = (right - left) / max(1, len(line.glyphs))
    # Glyph widths of the row, in band pixels: an added shape must not be wider than the widest.
    widest = max(g[2] for g in line.glyphs) * scale * float(np.cos(np.arctan(line.slope)))
    shapes = [(x, w) for x, _, w, h, _ in stats[1:]
              if h >= 0.75 * height and 0.1 * height <= w <= min(1.1 * height, 1.25 * widest)]
    added: list[tuple[float, float]] = []
    for _ in range(max_steps):
        grew = False
        for x, w in shapes:
            if right - 0.2 * pitch <= x <= right + 0.8 * pitch and x + w > right:
                added.append((x, w))
                right, grew = x + w, True
            elif left - 0.8 * pitch <= x + w <= left + 0.2 * pitch and x < left:
                added.append((x, w))
                left, grew = x, True
        if not grew:
            break
    if not added:
        return line
    inverse = cv2.invertAffineTransform(transform)
    glyphs = list(line.glyphs)
    for x, w in added:
        corners = np.array([[x, 0, 1], [x + w, 0, 1], [x + w, height, 1], [x, height, 1]], dtype=np.float64)
        points = corners @ inverse.T
        x0, y0 = points.min(axis=0)
        x1, y1 = points.max(axis=0)
        glyphs.append((int(x0), int(y0), max(1, int(x1 - x0)), max(1, int(y1 - y0))))
    glyphs.sort(key=lambda g: g[0])
    return TextLine(tuple(glyphs), line.height, line.slope, line.intercept, line.dark_on_light)


def cut_line(gray: np.ndarray, line: TextLine, height: int, stretch: float,
             margin_x: float = 0.15, margin_y: float = 0.15) -> np.ndarray:
    """The line's band, rotated level and scaled to `height` px (widened by `stretch`)."""
    transform, width = _band_transform(line, height, margin_x, margin_y, stretch)
    shrinking = transform[0, 0] ** 2 + transform[1, 0] ** 2 < 1
    return cv2.warpAffine(gray, transform, (width, height),
                          flags=cv2.INTER_LINEAR if shrinking else cv2.INTER_CUBIC,
                          borderMode=cv2.BORDER_REPLICATE)
