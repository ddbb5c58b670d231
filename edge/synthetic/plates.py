"""Licence plates drawn flat and clean, to scale: `draw_plate(PlateSpec, px_per_mm)`.

The scene warps the drawn plate onto a car; `crops.render_plate` puts it in front of a camera.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from edge.synthetic.fonts import LABEL_FONT, SCRIPT_FONT, glyph_run_mask, load_font
from edge.synthetic.regions import RGB, PlateLayout, SyntheticRegion, printed_form, region_format

_DRAWING = threading.Lock()
# German plates: the gap between district and letters holds the two seals.
_SEAL_GAP_MM = 46


@dataclass(frozen=True)
class PlateSpec:
    """Everything that decides how one plate looks."""

    text: str  # A-Z0-9, no separators
    region: str
    two_line: bool = False
    with_header: bool = True  # US plates: state name and slogan

    @property
    def format(self) -> SyntheticRegion:
        return region_format(self.region)

    @property
    def layout(self) -> PlateLayout:
        fmt = self.format
        if self.two_line and fmt.two_line_layout is not None:
            return fmt.two_line_layout
        return fmt.layout

    @property
    def size_m(self) -> tuple[float, float]:
        return self.layout.width_mm / 1000, self.layout.height_mm / 1000


def random_plate_spec(text: str, region: str, rng: np.random.Generator) -> PlateSpec:
    fmt = region_format(region)
    two_line = fmt.has_two_line and rng.random() < 0.2
    return PlateSpec(text, region, two_line=two_line, with_header=rng.random() < 0.85)


def _fit_text(draw: ImageDraw.ImageDraw, text: str, font_name: str, box: tuple[int, int, int, int], fill: RGB) -> None:
    """Write `text` centred in `box`, as large as fits."""
    x0, y0, x1, y1 = box
    probe = load_font(font_name, 100)
    left, top, right, bottom = probe.getbbox(text)
    scale = min((x1 - x0) / max(1, right - left), (y1 - y0) / max(1, bottom - top))
    font = load_font(font_name, max(6, int(100 * scale)))
    left, top, right, bottom = font.getbbox(text)
    x = x0 + ((x1 - x0) - (right - left)) / 2 - left
    y = y0 + ((y1 - y0) - (bottom - top)) / 2 - top
    draw.text((x, y), text, font=font, fill=fill)


def _eu_stars(draw: ImageDraw.ImageDraw, cx: float, cy: float, radius: float) -> None:
    r_star = max(1.0, radius * 0.16)
    for k in range(12):
        a = 2 * np.pi * k / 12
        x, y = cx + radius * np.cos(a), cy + radius * np.sin(a)
        draw.ellipse((x - r_star, y - r_star, x + r_star, y + r_star), fill=(255, 204, 0))


_SEPARATORS = (" ", "-")


def _tokenise(printed: str) -> list[str]:
    """'AB-123 CD' -> ['AB', '-', '123', ' ', 'CD']."""
    out: list[str] = []
    for c in printed:
        if c in _SEPARATORS or not out or out[-1] in _SEPARATORS:
            out.append(c)
        else:
            out[-1] += c
    return out


def _lines(tokens: list[str], two_line: bool, first_groups: int) -> list[list[str]]:
    """The tokens on each line: all on one, or the first `first_groups` groups above the rest."""
    if not two_line:
        return [tokens]
    seen = 0
    for i, token in enumerate(tokens):
        seen += token not in _SEPARATORS
        if seen == first_groups:
            rest = tokens[i + 1:]
            while rest and rest[0] in _SEPARATORS:
                rest = rest[1:]
            return [tokens[: i + 1], rest]
    return [tokens]


def _band_note(text: str) -> str:
    """The small number in a French or Italian right band (department, year): any stable two digits."""
    return f"{10 + sum(map(ord, text)) % 85:02d}"


def _draw_seals(draw: ImageDraw.ImageDraw, cx: float, cy: float, char_h: float, text: str) -> None:
    r = char_h * 0.2
    inspection_colours = ((230, 120, 30), (40, 120, 200), (240, 210, 40), (200, 90, 150), (60, 160, 80))
    colour = inspection_colours[sum(map(ord, text)) % len(inspection_colours)]
    draw.ellipse((cx - r, cy - 1.05 * r - r, cx + r, cy - 1.05 * r + r), fill=colour, outline=(40, 40, 40))
    draw.ellipse((cx - r, cy + 1.05 * r - r, cx + r, cy + 1.05 * r + r), fill=(225, 225, 225),
                 outline=(90, 90, 90))
    draw.ellipse((cx - r * 0.4, cy + 1.05 * r - r * 0.4, cx + r * 0.4, cy + 1.05 * r + r * 0.4),
                 fill=(200, 40, 40))


def _vertical_gradient(img: Image.Image, top: RGB, bottom: RGB, start: float) -> None:
    w, h = img.size
    t = np.clip((np.arange(h) / max(1, h - 1) - start) / (1 - start), 0, 1)[:, None, None]
    rows = (np.array(top)[None, None, :] * (1 - t) + np.array(bottom)[None, None, :] * t).astype(np.uint8)
    img.paste(Image.fromarray(np.repeat(rows, w, axis=1)))


def draw_plate(spec: PlateSpec, px_per_mm: float = 1.0) -> np.ndarray:
    """The plate face, flat and clean, as a BGR image at `px_per_mm` resolution."""
    # Pillow's FreeType fonts are shared (cached) objects; draw with one thread at a time.
    with _DRAWING:
        return _draw_plate(spec, px_per_mm)


def _draw_plate(spec: PlateSpec, px_per_mm: float) -> np.ndarray:
    fmt, lay = spec.format, spec.layout
    st = fmt.style

    def mm(v: float) -> int:
        return round(v * px_per_mm)

    width, height = mm(lay.width_mm), mm(lay.height_mm)
    img = Image.new("RGB", (width, height), st.background)
    if st.gradient_to is not None:
        _vertical_gradient(img, st.background, st.gradient_to, 0.35)
    draw = ImageDraw.Draw(img)
    x0, x1 = mm(7), width - mm(7)
    if st.left_band is not None:
        band = mm(40)
        draw.rectangle((0, 0, band, height), fill=st.left_band)
        _eu_stars(draw, band / 2, min(height * 0.33, mm(33)), min(band * 0.3, height * 0.2))
        _fit_text(draw, st.band_code, LABEL_FONT, (mm(5), int(height * 0.58), band - mm(5), int(height * 0.9)),
                  (255, 255, 255))
        x0 = band + mm(6)
    if st.right_band is not None:
        band = mm(40)
        draw.rectangle((width - band, 0, width, height), fill=st.right_band)
        _fit_text(draw, _band_note(spec.text), LABEL_FONT,
                  (width - band + mm(8), int(height * 0.55), width - mm(8), int(height * 0.88)), (255, 255, 255))
        x1 = width - band - mm(6)
    if st.top_strip is not None:
        strip = int(height * (0.2 if spec.two_line else 0.22))
        draw.rectangle((0, 0, width, strip), fill=st.top_strip)
        _fit_text(draw, st.top_strip_text, LABEL_FONT,
                  (int(width * 0.3), int(strip * 0.18), int(width * 0.7), int(strip * 0.85)), (255, 255, 255))
        # The flag on the right of the strip, the Mercosur emblem on the left.
        fx0, fy0, fx1, fy1 = int(width * 0.82), int(strip * 0.2), int(width * 0.95), int(strip * 0.8)
        draw.rectangle((fx0, fy0, fx1, fy1), fill=(0, 150, 60))
        fcx, fcy = (fx0 + fx1) / 2, (fy0 + fy1) / 2
        draw.polygon([(fx0 + 2, fcy), (fcx, fy0 + 1), (fx1 - 2, fcy), (fcx, fy1 - 1)], fill=(250, 210, 0))
        r = strip * 0.3
        draw.ellipse((width * 0.1 - r, strip / 2 - r, width * 0.1 + r, strip / 2 + r), outline=(255, 255, 255),
                     width=max(1, mm(1.5)))
    if st.header and spec.with_header:
        font = SCRIPT_FONT if st.header[1:].islower() else LABEL_FONT
        _fit_text(draw, st.header, font, (int(width * 0.14), int(height * 0.04), int(width * 0.86),
                                          int(height * 0.22)), st.header_color)
        # Registration stickers in the top corners.
        sticker = (30, 130, 220) if sum(map(ord, spec.text)) % 2 else (230, 60, 60)
        draw.rectangle((mm(10), mm(8), mm(38), mm(26)), fill=sticker)
        draw.rectangle((width - mm(38), mm(8), width - mm(10), mm(26)), fill=(240, 240, 240), outline=sticker)
    if st.footer and spec.with_header:
        _fit_text(draw, st.footer, LABEL_FONT, (int(width * 0.2), int(height * 0.85), int(width * 0.8),
                                                int(height * 0.96)), st.footer_color)
    if st.border is not None:
        draw.rounded_rectangle((mm(1.5), mm(1.5), width - 1 - mm(1.5), height - 1 - mm(1.5)), radius=mm(6),
                               outline=st.border, width=max(1, mm(2.2)))
    _draw_characters(img, draw, spec, (x0, x1), px_per_mm)
    return np.asarray(img)[:, :, ::-1].copy()


def _draw_characters(img: Image.Image, draw: ImageDraw.ImageDraw, spec: PlateSpec, span: tuple[int, int],
                     px_per_mm: float) -> None:
    fmt, lay = spec.format, spec.layout
    char_h = round(lay.char_height_mm * px_per_mm)
    lines = _lines(_tokenise(printed_form(spec.text, fmt)), spec.two_line, fmt.two_line_first_groups)
    for row, tokens in enumerate(lines):
        seal_gap = fmt.style.seals and row == 0 and " " in tokens

        def gap_mm(token: str, index: int, seal_gap: bool = seal_gap, tokens: list[str] = tokens) -> float:
            if token == "-":
                return max(lay.group_gap_mm, 0.4 * lay.char_height_mm)
            first_space = seal_gap and token == " " and tokens.index(" ") == index
            return _SEAL_GAP_MM if first_space else lay.group_gap_mm

        natural_mm = sum(
            gap_mm(t, i) if t in _SEPARATORS else len(t) * lay.char_height_mm * lay.char_aspect
            + (len(t) - 1) * lay.char_gap_mm
            for i, t in enumerate(tokens)
        )
        # Long plates (eight German characters) squeeze to fit, as real plate fonts do.
        squeeze = min(1.0, (span[1] - span[0]) / (natural_mm * px_per_mm))
        x = span[0] + ((span[1] - span[0]) - natural_mm * px_per_mm * squeeze) / 2
        cy = (lay.text_center + row * lay.char_height_mm * 1.18 / lay.height_mm) * img.height
        y = round(cy - char_h / 2)
        for i, token in enumerate(tokens):
            if token in _SEPARATORS:
                gap = gap_mm(token, i) * px_per_mm * squeeze
                if token == "-":
                    bar_w, bar_h = gap * 0.6, char_h * 0.09
                    draw.rectangle((x + (gap - bar_w) / 2, cy - bar_h / 2, x + (gap + bar_w) / 2, cy + bar_h / 2),
                                   fill=fmt.style.text)
                elif gap_mm(token, i) == _SEAL_GAP_MM:
                    _draw_seals(draw, x + gap / 2, cy, char_h, spec.text)
                x += gap
                continue
            cell = max(1, round(lay.char_height_mm * lay.char_aspect * px_per_mm * squeeze))
            gap_px = round(lay.char_gap_mm * px_per_mm * squeeze)
            mask = glyph_run_mask(token, char_h, cell, gap_px)
            img.paste(fmt.style.text, (round(x), y), Image.fromarray(mask))
            x += mask.shape[1]
