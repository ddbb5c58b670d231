"""Synthetic plates for the plate reader: flat plates in their surroundings, with text and corners.

Three kinds, so that no one renderer's habits become the network's:
- `generic_plate`: any registration in one of ~25 fonts, condensed or wide, thin or bold, with
  state names and slogans as small print, stickers, bolts, emblems and borders (plate_lines.py);
- `region_plate`: a region's real layout as the synthetic crossing draws it (US states, EU
  plates with their band, Mercosul, two-line plates), on a bumper or a real background;
- `tile_plate`: real character tiles cut from real plates (openalpr/train-ocr, `gb/` and `br/`)
  set in a row on a plate, so real glyph shapes and their printing defects are seen too.

Each gives a `FlatPlate`: the picture (grey) and the plate's four corners in it. The camera
(perspective, distance, blur, light, JPEG) is applied afterwards by plate_views.py, the same way
for synthetic and real plates. Seeded: the same generator state gives the same plate.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from plate_lines import WORDS, flat_plate, random_text

from edge.config.plate_regions import BUILTIN_REGIONS, DIGITS, LETTERS
from edge.synthetic.plates import PlateSpec, draw_plate
from edge.synthetic.regions import REGIONS, random_plate_text

US_STATES = (
    "ALABAMA", "Alaska", "ARIZONA", "ARKANSAS", "California", "COLORADO", "Connecticut", "DELAWARE", "Florida",
    "GEORGIA", "HAWAII", "IDAHO", "Illinois", "INDIANA", "IOWA", "KANSAS", "KENTUCKY", "Louisiana", "MAINE",
    "MARYLAND", "Massachusetts", "MICHIGAN", "MINNESOTA", "Mississippi", "MISSOURI", "MONTANA", "NEBRASKA",
    "NEVADA", "New Hampshire", "NEW JERSEY", "NEW MEXICO", "NEW YORK", "North Carolina", "NORTH DAKOTA", "OHIO",
    "OKLAHOMA", "OREGON", "Pennsylvania", "RHODE ISLAND", "South Carolina", "SOUTH DAKOTA", "Tennessee", "TEXAS",
    "UTAH", "VERMONT", "Virginia", "WASHINGTON", "West Virginia", "WISCONSIN", "WYOMING",
)
SLOGANS = (
    "Heart of Dixie", "The Last Frontier", "Grand Canyon State", "The Natural State", "Colorful Colorado",
    "Constitution State", "The First State", "Sunshine State", "Peach State", "Aloha State", "Famous Potatoes",
    "Land of Lincoln", "Crossroads of America", "Fields of Opportunity", "Bluegrass State", "Sportsman's Paradise",
    "Vacationland", "Spirit of America", "Pure Michigan", "10,000 Lakes", "Show-Me State", "Big Sky Country",
    "The Good Life", "Silver State", "Live Free or Die", "Garden State", "Land of Enchantment", "Empire State",
    "First in Flight", "Peace Garden State", "Birthplace of Aviation", "Native America", "visitPA.com",
    "Ocean State", "Great Faces Great Places", "Volunteer State", "The Lone Star State", "Greatest Snow on Earth",
    "Green Mountains", "Virginia is for Lovers", "Evergreen State", "Wild Wonderful", "America's Dairyland",
    "Like No Place on Earth", "DEALER", "COUNTY", "JAN", "DEC", "2025", "TRUCK", "TRAILER", "APPORTIONED",
)
_SMALL_PRINT = WORDS + US_STATES + SLOGANS
# Texts of the regions with patterns, plus personalised and unknown formats (plate_lines.random_text).
_PATTERN_REGIONS = [r for r in BUILTIN_REGIONS.values() if r.patterns]


@dataclass(frozen=True)
class FlatPlate:
    image: np.ndarray  # grey uint8: the plate and what surrounds it
    quad: np.ndarray  # 4 x 2 float32: the plate's corners, tl tr br bl
    text: str  # A-Z0-9


def _rect(x: float, y: float, w: float, h: float) -> np.ndarray:
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float32)


def _grey(bgr: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)


def plate_text(rng: np.random.Generator) -> str:
    """A registration: a region's pattern (one line of it) or any letters and digits."""
    if rng.random() < 0.6:
        return random_text(rng)
    region = _PATTERN_REGIONS[int(rng.integers(len(_PATTERN_REGIONS)))]
    pattern = region.patterns[int(rng.integers(len(region.patterns)))].replace("/", "")
    return "".join(DIGITS[rng.integers(10)] if c == "D" else region.letters[rng.integers(len(region.letters))]
                   if c == "L" else (LETTERS + DIGITS)[rng.integers(36)] for c in pattern)


def generic_plate(rng: np.random.Generator) -> FlatPlate:
    text = plate_text(rng)
    image, _, (x, y, w, h) = flat_plate(text, rng, _SMALL_PRINT)
    return FlatPlate(_grey(image), _rect(x, y, w, h), text)


class Backgrounds:
    """What lies around a plate: painted bumpers, or patches of real images without plates."""

    def __init__(self, paths: list[Path]) -> None:
        self._paths = paths
        self._cache: dict[int, np.ndarray] = {}

    def around(self, plate: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """The plate (grey) set into a background twice its size; its corners there."""
        ph, pw = plate.shape
        height, width = 2 * ph, 2 * pw
        if self._paths and rng.random() < 0.5:
            image = self._image(int(rng.integers(len(self._paths))))
            scale = max(width / image.shape[1], height / image.shape[0]) * rng.uniform(1.0, 2.0)
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            y0 = int(rng.integers(0, image.shape[0] - height + 1))
            x0 = int(rng.integers(0, image.shape[1] - width + 1))
            canvas = image[y0:y0 + height, x0:x0 + width].copy()
        else:
            canvas = np.full((height, width), rng.uniform(20, 235), np.float32)
            canvas += rng.normal(0, rng.uniform(1, 8), canvas.shape)
            canvas = np.clip(canvas, 0, 255).astype(np.uint8)
        x, y = pw // 2, ph // 2
        if rng.random() < 0.6:  # a plate holder or frame around the plate
            pad = max(1, int(rng.uniform(0.02, 0.08) * ph))
            cv2.rectangle(canvas, (x - pad, y - pad), (x + pw + pad, y + ph + pad), int(rng.uniform(0, 255)), -1)
        canvas[y:y + ph, x:x + pw] = plate
        return canvas, _rect(x, y, pw, ph)

    def _image(self, index: int) -> np.ndarray:
        if index not in self._cache:
            image = cv2.imread(str(self._paths[index]), cv2.IMREAD_GRAYSCALE)
            self._cache[index] = image if image is not None else np.full((64, 64), 128, np.uint8)
        return self._cache[index]


def region_plate(rng: np.random.Generator, backgrounds: Backgrounds) -> FlatPlate:
    code = list(REGIONS)[int(rng.integers(len(REGIONS)))]
    region = REGIONS[code]
    text = random_plate_text(region, rng)
    spec = PlateSpec(text, code, two_line=region.has_two_line and rng.random() < 0.25,
                     with_header=rng.random() < 0.85)
    plate = _grey(draw_plate(spec, px_per_mm=float(rng.uniform(0.5, 1.0))))
    image, quad = backgrounds.around(plate, rng)
    return FlatPlate(image, quad, text)


class Tiles:
    """Real character tiles by character: a folder of `C-*.jpg` files (C = the character)."""

    def __init__(self, folders: list[Path]) -> None:
        self.by_char: dict[str, list[Path]] = defaultdict(list)
        for folder in folders:
            for path in sorted(folder.glob("*.jpg")):
                char = path.name.split("-")[0].upper()
                if len(char) == 1 and char in DIGITS + LETTERS:
                    self.by_char[char].append(path)
        self._cache: dict[Path, np.ndarray] = {}

    def glyph(self, char: str, rng: np.random.Generator) -> np.ndarray | None:
        """Ink (255) on nothing (0), cropped to the ink, or None when no tile has that character."""
        paths = self.by_char.get(char)
        if not paths:
            return None
        path = paths[int(rng.integers(len(paths)))]
        if path not in self._cache:
            tile = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            ink = 255 - tile if tile is not None else np.zeros((1, 1), np.uint8)
            rows, cols = np.flatnonzero(ink.max(axis=1) > 100), np.flatnonzero(ink.max(axis=0) > 100)
            self._cache[path] = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1] if rows.size and cols.size else ink
        return self._cache[path]


def tile_plate(rng: np.random.Generator, tiles: Tiles, backgrounds: Backgrounds) -> FlatPlate:
    text = "".join(c for c in plate_text(rng) if tiles.by_char.get(c)) or "AB12"
    height = 64
    gap = int(rng.uniform(0.05, 0.25) * height)
    glyphs = []
    for char in text:
        ink = tiles.glyph(char, rng)
        assert ink is not None  # the text holds only characters with tiles
        width = max(2, round(ink.shape[1] * height / ink.shape[0] * rng.uniform(0.85, 1.15)))
        glyphs.append(cv2.resize(ink, (width, height), interpolation=cv2.INTER_AREA))
    breaks = set(rng.choice(np.arange(1, len(text)), size=min(2, len(text) - 1), replace=False).tolist()) \
        if len(text) > 2 and rng.random() < 0.6 else set()
    pieces, x = [], 0
    for i, glyph in enumerate(glyphs):
        x += int(rng.uniform(0.3, 0.7) * height) if i in breaks else 0
        pieces.append((x, glyph))
        x += glyph.shape[1] + gap
    mask = np.zeros((height, x - gap), np.uint8)
    for gx, glyph in pieces:
        mask[:, gx:gx + glyph.shape[1]] = np.maximum(mask[:, gx:gx + glyph.shape[1]], glyph)
    left, right = (int(rng.uniform(0.15, 0.8) * height) for _ in range(2))
    top, bottom = (int(rng.uniform(0.12, 0.6) * height) for _ in range(2))
    band = int(0.55 * height) if rng.random() < 0.3 else 0  # an EU band on the left
    paper, ink = (rng.uniform(170, 250), rng.uniform(0, 70)) if rng.random() < 0.85 else \
        (rng.uniform(0, 70), rng.uniform(170, 250))
    plate = np.full((height + top + bottom, band + left + mask.shape[1] + right), paper, np.float32)
    if band:
        plate[:, :band] = rng.uniform(20, 90)
    alpha = mask.astype(np.float32) / 255
    face = plate[top:top + height, band + left:band + left + mask.shape[1]]
    face[:] = face * (1 - alpha) + ink * alpha
    if rng.random() < 0.7:
        cv2.rectangle(plate, (1, 1), (plate.shape[1] - 2, plate.shape[0] - 2), float(ink),
                      max(1, int(0.04 * height)))
    image, quad = backgrounds.around(plate.astype(np.uint8), rng)
    return FlatPlate(image, quad, text)
