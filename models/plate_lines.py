"""Synthetic plate lines for training the recogniser: `plate_line(rng)` -> (64 px high grey line, text).

A line is made the way the product makes one from a camera frame: a plate is drawn flat (its
registration in one of many fonts, condensed or widened, thin or bold, with small print above
and below, stickers, bolts, an emblem or hyphen between groups, a border, a bumper around it),
seen through a random homography at a random resolution, blurred, noisy and JPEG-compressed;
then the glyph boxes of the registration, as the row search would find them, become a
`TextLine`, slightly misjudged, and `edge.plates.lines.cut_line` cuts it out. So the network
learns what the pipeline will show it, including the clutter at a line's ends.

Fonts come from Debian packages (training only; nothing here runs in the product). Seeded: the
same generator state gives the same lines.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from edge.config.plate_regions import BUILTIN_REGIONS, DIGITS, LETTERS
from edge.plates.lines import TextLine, cut_line
from edge.plates.ocr import LINE_HEIGHT

# Registration fonts: tall, plain sans faces like plate fonts, and some that are not.
# Debian packages: fonts-dejavu-core fonts-dejavu-extra fonts-liberation fonts-urw-base35
# fonts-bebas-neue fonts-opendin fonts-roboto-unhinted fonts-freefont-ttf fonts-league-spartan fonts-b612
PLATE_FONTS = (
    "truetype/dejavu/DejaVuSans-Bold.ttf",
    "truetype/dejavu/DejaVuSansCondensed-Bold.ttf",
    "truetype/dejavu/DejaVuSansCondensed.ttf",
    "truetype/dejavu/DejaVuSansMono-Bold.ttf",
    "truetype/liberation/LiberationSans-Bold.ttf",
    "truetype/liberation/LiberationSansNarrow-Bold.ttf",
    "truetype/liberation/LiberationSansNarrow-Regular.ttf",
    "truetype/liberation/LiberationMono-Bold.ttf",
    "opentype/urw-base35/NimbusSansNarrow-Bold.otf",
    "opentype/urw-base35/NimbusSansNarrow-Regular.otf",
    "opentype/urw-base35/NimbusSans-Bold.otf",
    "opentype/urw-base35/URWGothic-Demi.otf",
    "opentype/urw-base35/NimbusMonoPS-Bold.otf",
    "opentype/bebas-neue/BebasNeue-Regular.otf",
    "opentype/bebas-neue/BebasNeue-Bold.otf",
    "opentype/bebas-neue/BebasNeue-Book.otf",
    "truetype/opendin/OSP-DIN.ttf",
    "truetype/roboto/unhinted/RobotoCondensed-Bold.ttf",
    "truetype/roboto/unhinted/RobotoCondensed-Regular.ttf",
    "truetype/roboto/unhinted/RobotoCondensed-Medium.ttf",
    "truetype/freefont/FreeSansBold.ttf",
    "opentype/league-spartan/LeagueSpartan-SemiBold.otf",
    "opentype/b612/B612-Bold.otf",
)
# Small print: state names, slogans, dealer frames.
PRINT_FONTS = (
    "truetype/dejavu/DejaVuSans-Bold.ttf",
    "truetype/dejavu/DejaVuSerif-BoldItalic.ttf",
    "truetype/dejavu/DejaVuSerif-Italic.ttf",
    "truetype/liberation/LiberationSerif-Bold.ttf",
    "truetype/liberation/LiberationSans-Regular.ttf",
    "opentype/urw-base35/Z003-MediumItalic.otf",
    "opentype/urw-base35/C059-Bold.otf",
)
FONT_ROOT = Path("/usr/share/fonts")
WORDS = ("CALIFORNIA", "Texas", "NEW YORK", "Illinois", "FLORIDA", "GARDEN STATE", "Land of Lincoln",
         "EMPIRE STATE", "SUNSHINE STATE", "Famous Potatoes", "GRAND CANYON STATE", "DEALER", "visit us",
         "Explore", "BRASIL", "MERCOSUL", "Live Free or Die", "2024", "The Lone Star State", "OHIO",
         "Great Lakes", "PURE MICHIGAN", "Virginia is for lovers", "MARYLAND", "AUTO SALES", "Treasure")
_MASTER = 64  # registration glyph height when drawn flat, px


class MissingFontsError(RuntimeError):
    pass


def check_fonts() -> None:
    missing = [f for f in PLATE_FONTS + PRINT_FONTS if not (FONT_ROOT / f).is_file()]
    if missing:
        raise MissingFontsError(f"training fonts missing (install the Debian packages named in {__file__}): "
                                + ", ".join(missing))


@lru_cache(maxsize=256)
def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_ROOT / name), size)


@lru_cache(maxsize=4096)
def _glyph(font: str, char: str) -> np.ndarray:
    """The glyph's ink at a large size, cropped to its ink."""
    face = _font(font, 160)
    left, top, right, bottom = face.getbbox(char)
    image = Image.new("L", (right - left + 8, bottom - top + 8), 0)
    ImageDraw.Draw(image).text((4 - left, 4 - top), char, font=face, fill=255)
    ink = np.asarray(image)
    rows, cols = np.flatnonzero(ink.max(axis=1) > 40), np.flatnonzero(ink.max(axis=0) > 40)
    return ink[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1].copy()


def random_text(rng: np.random.Generator) -> str:
    """A plate registration: a region's format, or any letters and digits (personalised plates)."""
    if rng.random() < 0.5:
        region = list(BUILTIN_REGIONS.values())[int(rng.integers(len(BUILTIN_REGIONS)))]
        patterns = [p for part in region.patterns for p in part.split("/")]
        if patterns:
            pattern = patterns[int(rng.integers(len(patterns)))]
            return "".join(DIGITS[rng.integers(10)] if c == "D" else region.letters[rng.integers(len(region.letters))]
                           if c == "L" else (LETTERS + DIGITS)[rng.integers(36)] for c in pattern)
    length = int(rng.integers(3, 9))
    return "".join(DIGITS[rng.integers(10)] if rng.random() < 0.5 else LETTERS[rng.integers(26)]
                   for _ in range(length))


def _colour(rng: np.random.Generator, light: bool) -> tuple[int, int, int]:
    if light:
        base = rng.uniform(190, 255)
        return tuple(int(np.clip(base - rng.uniform(0, 70) * (rng.random() < 0.4), 0, 255)) for _ in range(3))
    base = rng.uniform(0, 90)
    return tuple(int(np.clip(base + rng.uniform(0, 120) * (rng.random() < 0.5), 0, 255)) for _ in range(3))


def _registration(text: str, rng: np.random.Generator) -> tuple[np.ndarray, list[tuple[int, int, int, int]], float]:
    """Coverage mask of the registration (H = _MASTER), its glyph boxes, and the emblem's x (or -1)."""
    font = PLATE_FONTS[int(rng.integers(len(PLATE_FONTS)))]
    reference = _glyph(font, "0")
    aspect = rng.uniform(0.38, 0.72)  # width / height of a full-width glyph
    sx = aspect * _MASTER / reference.shape[1]
    gap = rng.uniform(0.05, 0.3) * _MASTER
    # Where groups break: nothing, a space, a hyphen, or an emblem.
    breaks = {int(i) for i in rng.choice(np.arange(1, len(text)), size=min(len(text) - 1, int(rng.integers(0, 3))),
                                         replace=False)} if len(text) > 2 else set()
    pieces = []
    x = 0.0
    boxes = []
    emblem = -1.0
    for i, char in enumerate(text):
        if i in breaks:
            kind = rng.random()
            width = rng.uniform(0.25, 0.9) * _MASTER
            pieces.append(("hyphen" if kind < 0.3 else "emblem" if kind < 0.45 else "space", x, width))
            if kind >= 0.3 and kind < 0.45:
                emblem = x + width / 2
            x += width
        ink = _glyph(font, char)
        fit = min(1.0, reference.shape[0] / ink.shape[0])
        h = max(4, round(ink.shape[0] * fit * _MASTER / reference.shape[0]))
        w = max(3, round(ink.shape[1] * fit * sx))
        glyph = cv2.resize(ink, (w, h), interpolation=cv2.INTER_AREA)
        pieces.append((glyph, x, (_MASTER - h) / 2))
        boxes.append((int(x), int((_MASTER - h) / 2), w, h))
        x += w + gap
    width = int(np.ceil(x - gap)) + 2
    mask = np.zeros((_MASTER, width), np.uint8)
    for piece in pieces:
        if isinstance(piece[0], np.ndarray):
            glyph, gx, gy = piece
            gx, gy = int(gx), int(gy)
            region = mask[gy: gy + glyph.shape[0], gx: gx + glyph.shape[1]]
            np.maximum(region, glyph[: region.shape[0], : region.shape[1]], out=region)
        elif piece[0] == "hyphen":
            _, hx, hw = piece
            cv2.rectangle(mask, (int(hx + 0.25 * hw), int(0.45 * _MASTER)), (int(hx + 0.75 * hw), int(0.55 * _MASTER)),
                          255, -1)
    # Bolder or thinner strokes than the font's.
    weight = int(rng.integers(-2, 4))
    if weight:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (abs(weight) + 1, abs(weight) + 1))
        mask = cv2.dilate(mask, kernel) if weight > 0 else cv2.erode(mask, kernel)
    return mask, boxes, emblem


def _small_print(canvas: Image.Image, box: tuple[float, float, float, float], colour: tuple[int, int, int],
                 rng: np.random.Generator, words: tuple[str, ...]) -> None:
    x0, y0, x1, y1 = box
    if x1 - x0 < 10 or y1 - y0 < 4:
        return
    words = words[int(rng.integers(len(words)))]
    face = _font(PRINT_FONTS[int(rng.integers(len(PRINT_FONTS)))], max(6, int(y1 - y0)))
    left, top, right, _ = face.getbbox(words)
    x = x0 + rng.uniform(0, max(1.0, (x1 - x0) - (right - left)))
    ImageDraw.Draw(canvas).text((x - left, y0 - top), words, font=face, fill=colour)


def flat_plate(text: str, rng: np.random.Generator, words: tuple[str, ...] = WORDS
               ) -> tuple[np.ndarray, list[tuple[int, int, int, int]], tuple[int, int, int, int]]:
    """The flat plate with its surroundings (BGR), the registration's glyph boxes in it, and the
    plate's own box (x, y, width, height); small print is drawn from `words`."""
    mask, boxes, emblem = _registration(text, rng)
    h = _MASTER
    left, right = rng.uniform(0.3, 1.6, 2) * h
    top, bottom = rng.uniform(0.35, 1.1) * h, rng.uniform(0.25, 0.9) * h
    plate_w, plate_h = int(mask.shape[1] + left + right), int(h + top + bottom)
    surround = int(0.8 * h)
    width, height = plate_w + 2 * surround, plate_h + 2 * surround
    dark_text = rng.random() < 0.85
    paper = _colour(rng, light=dark_text)
    ink = _colour(rng, light=not dark_text)
    image = Image.new("RGB", (width, height), _colour(rng, light=rng.random() < 0.5))
    draw = ImageDraw.Draw(image)
    px0, py0 = surround, surround
    draw.rectangle((px0 - 6, py0 - 6, px0 + plate_w + 6, py0 + plate_h + 6), fill=_colour(rng, light=False))
    draw.rounded_rectangle((px0, py0, px0 + plate_w, py0 + plate_h), radius=int(0.2 * h), fill=paper)
    plate = np.asarray(image).copy()
    if rng.random() < 0.4:  # a gradient or scenic art behind the registration
        _scenic_art(plate, (px0, py0, plate_w, plate_h), rng)
    image = Image.fromarray(plate)
    draw = ImageDraw.Draw(image)
    tx, ty = px0 + left, py0 + top
    if rng.random() < 0.8:
        size = rng.uniform(0.2, 0.5) * h
        gap = rng.uniform(0.05, 0.4) * h
        _small_print(image, (px0 + 0.1 * plate_w, ty - gap - size, px0 + 0.9 * plate_w, ty - gap),
                     _colour(rng, light=not dark_text) if rng.random() < 0.5 else tuple(int(c) for c in
                                                                                        rng.integers(0, 256, 3)), rng,
                     words)
    if rng.random() < 0.7:
        size = rng.uniform(0.15, 0.4) * h
        gap = rng.uniform(0.05, 0.3) * h
        _small_print(image, (px0 + 0.15 * plate_w, ty + h + gap, px0 + 0.85 * plate_w, ty + h + gap + size),
                     ink, rng, words)
    _stickers_and_bolts(draw, (px0, py0, plate_w, plate_h), h, rng)
    if emblem >= 0:
        _emblem(draw, (tx + emblem, ty + h / 2), rng.uniform(0.25, 0.45) * h, rng)
    if rng.random() < 0.7:
        thickness = max(1, int(rng.uniform(0.02, 0.08) * h))
        draw.rounded_rectangle((px0 + 2, py0 + 2, px0 + plate_w - 2, py0 + plate_h - 2), radius=int(0.2 * h),
                               outline=ink, width=thickness)
    plate = np.asarray(image).copy()
    face = plate[int(ty): int(ty) + h, int(tx): int(tx) + mask.shape[1]]
    alpha = (mask[: face.shape[0], : face.shape[1]].astype(np.float32) / 255)[..., None]
    face[:] = (face * (1 - alpha) + np.array(ink, np.float32) * alpha).astype(np.uint8)
    glyphs = [(int(tx) + x, int(ty) + y, w, gh) for x, y, w, gh in boxes]
    return plate[:, :, ::-1].copy(), glyphs, (px0, py0, plate_w, plate_h)


def _scenic_art(plate: np.ndarray, box: tuple[int, int, int, int], rng: np.random.Generator) -> None:
    """Blurred ellipses of colour over the plate's face (in place): gradients and scenic plates."""
    px0, py0, plate_w, plate_h = box
    art = np.zeros((plate_h, plate_w, 3), np.float32)
    for _ in range(int(rng.integers(1, 6))):
        centre = (int(rng.uniform(0, plate_w)), int(rng.uniform(0, plate_h)))
        axes = (int(rng.uniform(0.1, 0.8) * plate_w), int(rng.uniform(0.1, 0.6) * plate_h))
        cv2.ellipse(art, centre, axes, float(rng.uniform(0, 180)), 0, 360,
                    tuple(float(v) for v in rng.uniform(-60, 60, 3)), -1)
    art = cv2.GaussianBlur(art, (0, 0), rng.uniform(1, 8))
    face = plate[py0: py0 + plate_h, px0: px0 + plate_w].astype(np.float32)
    plate[py0: py0 + plate_h, px0: px0 + plate_w] = np.clip(face + art * rng.uniform(0.3, 1.0), 0, 255)


def _stickers_and_bolts(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], h: int,
                        rng: np.random.Generator) -> None:
    """Stickers and bolts near the line's ends, where they crowd the first and last characters."""
    px0, py0, plate_w, plate_h = box
    for side in (0, 1):
        if rng.random() < 0.35:
            sw, sh = rng.uniform(0.3, 0.9) * h, rng.uniform(0.25, 0.7) * h
            sx = px0 + rng.uniform(0.02, 0.15) * plate_w if side == 0 else px0 + plate_w * rng.uniform(0.85, 0.98) - sw
            sy = py0 + rng.uniform(0.05, 0.7) * plate_h
            draw.rectangle((sx, sy, sx + sw, sy + sh), fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
        if rng.random() < 0.4:
            r = rng.uniform(0.05, 0.12) * h
            bx = px0 + plate_w * (0.2 if side == 0 else 0.8)
            by = py0 + (rng.uniform(0.05, 0.25) if rng.random() < 0.5 else rng.uniform(0.75, 0.95)) * plate_h
            draw.ellipse((bx - r, by - r, bx + r, by + r), fill=_colour(rng, light=rng.random() < 0.5))


def _emblem(draw: ImageDraw.ImageDraw, centre: tuple[float, float], r: float, rng: np.random.Generator) -> None:
    """A disc or a star in the registration's gap (a state emblem, a Mercosul flag)."""
    ex, ey = centre
    colour = tuple(int(c) for c in rng.integers(0, 256, 3))
    if rng.random() < 0.5:
        draw.ellipse((ex - r, ey - r, ex + r, ey + r), fill=colour)
    else:
        angles = np.linspace(0, 2 * np.pi, 11)[:-1] - np.pi / 2
        radii = np.where(np.arange(10) % 2 == 0, r, 0.45 * r)
        draw.polygon([(ex + q * np.cos(a), ey + q * np.sin(a)) for q, a in zip(radii, angles, strict=True)],
                     fill=colour)


def _view(size: tuple[int, int], rng: np.random.Generator, scale: float) -> np.ndarray:
    """A homography: the plate turned (yaw, pitch), tilted (roll), sheared and scaled."""
    w, h = size
    yaw, pitch = np.radians(rng.uniform(-30, 30)), np.radians(rng.uniform(-15, 15))
    roll = np.radians(np.clip(rng.normal(0, 6), -15, 15))
    corners = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    distance = 4.0 * w
    points = []
    for x, y in corners:
        x1 = x * np.cos(yaw)
        z1 = x * np.sin(yaw)
        y1 = y * np.cos(pitch)
        z1 += y * np.sin(pitch)
        xr = x1 * np.cos(roll) - y1 * np.sin(roll)
        yr = x1 * np.sin(roll) + y1 * np.cos(roll)
        points.append((xr * distance / (distance + z1), yr * distance / (distance + z1)))
    target = np.array(points) * scale
    target += rng.uniform(-0.02, 0.02, target.shape) * scale * h
    target -= target.min(axis=0)
    return cv2.getPerspectiveTransform(corners.astype(np.float32) + np.array([w / 2, h / 2], np.float32),
                                       target.astype(np.float32))


def _camera(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    image = cv2.convertScaleAbs(image, alpha=rng.uniform(0.6, 1.3), beta=rng.uniform(-30, 30))
    if rng.random() < 0.7:
        image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.3, 1.4))
    if rng.random() < 0.15:
        n = int(rng.integers(2, 6))
        kernel = np.zeros((n, n), np.float32)
        kernel[n // 2, :] = 1.0 / n
        image = cv2.filter2D(image, -1, kernel)
    noisy = image.astype(np.float32) + rng.normal(0, rng.uniform(0, 10), image.shape)
    image = np.clip(noisy, 0, 255).astype(np.uint8)
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(25, 96))])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return cv2.imdecode(buffer, cv2.IMREAD_GRAYSCALE)


def _text_line(glyphs: list[tuple[int, int, int, int]], homography: np.ndarray, dark_on_light: bool,
               rng: np.random.Generator) -> TextLine:
    """The registration's row as the row search would report it, a little misjudged."""
    boxes = []
    for x, y, w, h in glyphs:
        corners = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float32)[None]
        warped = cv2.perspectiveTransform(corners, homography)[0]
        x0, y0 = warped.min(axis=0)
        x1, y1 = warped.max(axis=0)
        boxes.append((int(x0), int(y0), max(1, int(x1 - x0)), max(1, int(y1 - y0))))
    boxes.sort(key=lambda b: b[0])
    array = np.array(boxes, np.float64)
    cx, cy = array[:, 0] + array[:, 2] / 2, array[:, 1] + array[:, 3] / 2
    slope, intercept = np.polyfit(cx, cy, 1) if len(boxes) > 1 else (0.0, float(cy[0]))
    height = float(np.median(array[:, 3]))
    # The row search's glyph boxes of a tilted row are taller than the glyphs; the fitted line wobbles.
    slope += rng.normal(0, 0.015)
    intercept += rng.normal(0, 0.05) * height
    height *= rng.uniform(0.85, 1.1)
    return TextLine(tuple(boxes), height, float(slope), float(intercept), dark_on_light)


def plate_line(rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """One training line (grey, LINE_HEIGHT px high) and its text."""
    text = random_text(rng)
    plate, glyphs, _ = flat_plate(text, rng)
    # Glyph height in the camera image: from a far plate (10 px) to a close one (70 px).
    scale = float(np.exp(rng.uniform(np.log(10), np.log(70)))) / _MASTER
    homography = _view((plate.shape[1], plate.shape[0]), rng, scale)
    corners = np.array([[0, 0], [plate.shape[1], 0], [plate.shape[1], plate.shape[0]], [0, plate.shape[0]]],
                       np.float32)[None]
    extent = cv2.perspectiveTransform(corners, homography)[0].max(axis=0)
    size = (int(np.ceil(extent[0])) + 1, int(np.ceil(extent[1])) + 1)
    # Draw big, then shrink: no aliasing when the plate is small.
    shrink = min(1.0, 2.0 * scale)
    small = cv2.resize(plate, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
    to_small = np.diag([shrink, shrink, 1.0])
    view = homography @ np.linalg.inv(to_small)
    image = _camera(cv2.warpPerspective(small, view, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE),
                    rng)
    line = _text_line(glyphs, homography, True, rng)
    crop = cut_line(image, line, LINE_HEIGHT, stretch=float(rng.uniform(1.1, 1.5)),
                    margin_x=float(rng.uniform(0.1, 0.8)), margin_y=float(rng.uniform(0.05, 0.3)))
    return crop, text
