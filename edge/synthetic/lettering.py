"""Lettering that is not a plate: phone and fleet numbers, trade names and web addresses.

Vans and trucks carry painted text near their plates, often in characters as big as the
plate's. A plate localiser must learn that a row of characters alone is not a plate, so
`add_lettering` paints such text into a frame, away from the plate, as negatives.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image, ImageDraw

from edge.synthetic.fonts import ink_box, load_font

_FONTS = ("DejaVuSans-Bold.ttf", "DejaVuSansCondensed-Bold.ttf", "DejaVuSans.ttf", "DejaVuSerif-Bold.ttf",
          "DejaVuSansMono-Bold.ttf", "DejaVuSerifCondensed-Bold.ttf", "DejaVuSans-BoldOblique.ttf")
_WORDS = ("PLUMBING", "Heating & Cooling", "ELECTRIC", "Movers", "LANDSCAPING", "Fleet", "UNIT", "Bakery",
          "EXPRESS", "Roofing", "Rentals", "CITY OF", "SERVICE", "Delivery", "Auto Glass", "TAXI", "Lawn Care",
          "SCHOOL BUS", "Logistics", "Transportes", "Pizza", "Painting", "Construction", "FIRE DEPT")
_DIGITS = "0123456789"


def random_lettering(rng: np.random.Generator) -> str:
    """Text a vehicle might carry: a phone number, a fleet number, a name or a web address."""
    kind = rng.random()

    def digits(n: int) -> str:
        return "".join(_DIGITS[int(d)] for d in rng.integers(0, 10, n))

    if kind < 0.35:
        return rng.choice([f"{digits(3)}-{digits(3)}-{digits(4)}", f"({digits(3)}) {digits(3)}-{digits(4)}",
                           f"{digits(3)}.{digits(3)}.{digits(4)}", f"{digits(4)} {digits(4)}"])
    if kind < 0.6:
        return rng.choice([f"No. {digits(int(rng.integers(2, 5)))}", f"#{digits(int(rng.integers(2, 5)))}",
                           f"UNIT {digits(int(rng.integers(2, 4)))}", digits(int(rng.integers(3, 7)))])
    if kind < 0.85:
        return str(rng.choice(_WORDS))
    return f"www.{str(rng.choice(_WORDS)).split()[0].lower()}.com"


def _text_patch(text: str, height_px: int, font: str) -> np.ndarray:
    """The text's ink (uint8 coverage) with characters about `height_px` high."""
    face = load_font(font, max(6, round(height_px * 1.35)))
    left, top, right, bottom = ink_box(face, text)
    image = Image.new("L", (right - left + 4, bottom - top + 4), 0)
    ImageDraw.Draw(image).text((2 - left, 2 - top), text, font=face, fill=255)
    return np.asarray(image)


def _overlaps(box: tuple[int, int, int, int], avoid: tuple[int, int, int, int]) -> bool:
    x, y, w, h = box
    ax, ay, aw, ah = avoid
    return x < ax + aw and ax < x + w and y < ay + ah and ay < y + h


def add_lettering(frame: np.ndarray, rng: np.random.Generator, avoid: tuple[int, int, int, int],
                  glyph_px: tuple[float, float], count: int) -> list[tuple[int, int, int, int]]:
    """Paint `count` pieces of lettering into `frame` (BGR, in place), none over the `avoid` box
    (x, y, w, h), with characters `glyph_px` (low, high) high; returns the painted boxes.

    Lettering lands near the avoided box more often than far from it: on a vehicle, beside
    its plate, is where it misleads a localiser.
    """
    height, width = frame.shape[:2]
    ax, ay, aw, ah = avoid
    painted: list[tuple[int, int, int, int]] = []
    for _ in range(count):
        glyph = float(rng.uniform(*glyph_px))
        ink = _text_patch(random_lettering(rng), round(glyph), _FONTS[int(rng.integers(len(_FONTS)))])
        # A little shear and squeeze: painted on a panel seen at an angle.
        shear = float(rng.uniform(-0.15, 0.15))
        squeeze = float(rng.uniform(0.75, 1.1))
        ph, pw = ink.shape
        out_w = max(4, round(pw * squeeze + abs(shear) * ph))
        matrix = np.array([[squeeze, shear, max(0.0, -shear) * ph], [0, 1, 0]], np.float32)
        ink = cv2.warpAffine(ink, matrix, (out_w, ph), flags=cv2.INTER_LINEAR)
        ph, pw = ink.shape
        if pw >= width or ph >= height:
            continue
        for _try in range(10):
            if rng.random() < 0.7:
                # Near the plate: within a few plate widths of it.
                x = int(ax + aw / 2 + rng.uniform(-3, 3) * max(aw, pw) - pw / 2)
                y = int(ay + ah / 2 + rng.uniform(-6, 3) * ah - ph / 2)
            else:
                x, y = int(rng.integers(0, width - pw)), int(rng.integers(0, height - ph))
            x, y = int(np.clip(x, 0, width - pw)), int(np.clip(y, 0, height - ph))
            if not _overlaps((x, y, pw, ph), avoid):
                break
        else:
            continue
        region = frame[y:y + ph, x:x + pw].astype(np.float32)
        # Ink that contrasts with what is under it, sometimes coloured.
        light_under = float(region.mean()) > 110
        base = rng.uniform(0, 70) if light_under else rng.uniform(190, 255)
        colour = np.clip(base + rng.uniform(-40, 40, 3) * (rng.random() < 0.5), 0, 255).astype(np.float32)
        alpha = cv2.GaussianBlur(ink, (0, 0), float(rng.uniform(0.3, 1.0))).astype(np.float32)[..., None] / 255.0
        frame[y:y + ph, x:x + pw] = (region * (1 - alpha) + colour * alpha).astype(np.uint8)
        painted.append((x, y, pw, ph))
    return painted
