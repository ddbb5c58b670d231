"""Plate pictures of known text for the plate tests, drawn with OpenCV's built-in vector font.

Deliberately plain and self-made (no photographs, no font files): a light plate with a border,
a small header and slogan that must not end up in the read, and the registration in large
letters, placed in a frame at a given size, position and tilt.
"""

from __future__ import annotations

import cv2
import numpy as np

FRAME_SIZE = (1280, 720)


def draw_plate(text: str, char_height: int = 60, header: str = "SUNSHINE STATE",
               footer: str = "LAND OF PLATES", dark_on_light: bool = True) -> np.ndarray:
    """A plate, 1 px = 1 px of the final picture at scale 1 (grey, uint8)."""
    font = cv2.FONT_HERSHEY_SIMPLEX
    scale = char_height / 22.0
    thickness = max(2, round(char_height / 8))
    (width, _), _ = cv2.getTextSize(text, font, scale, thickness)
    plate_w = int(width + 1.2 * char_height)
    plate_h = int(char_height * 2.0)
    paper, ink = (235, 30) if dark_on_light else (30, 235)
    plate = np.full((plate_h, plate_w), paper, np.uint8)
    cv2.rectangle(plate, (2, 2), (plate_w - 3, plate_h - 3), ink, max(2, thickness // 2))
    small = scale * 0.28
    for words, y in ((header, int(0.3 * char_height)), (footer, int(1.85 * char_height))):
        (w, _), _ = cv2.getTextSize(words, font, small, 1)
        cv2.putText(plate, words, ((plate_w - w) // 2, y), font, small, ink, 1, cv2.LINE_AA)
    x = (plate_w - width) // 2
    cv2.putText(plate, text, (x, int(1.5 * char_height)), font, scale, ink, thickness, cv2.LINE_AA)
    return plate


def draw_two_line_plate(top: str, bottom: str, char_height: int = 50) -> np.ndarray:
    """A square-ish plate with two lines of equal-size characters (grey, uint8)."""
    font = cv2.FONT_HERSHEY_SIMPLEX
    scale = char_height / 22.0
    thickness = max(2, round(char_height / 8))
    width = max(cv2.getTextSize(t, font, scale, thickness)[0][0] for t in (top, bottom))
    plate_w, plate_h = int(width + 1.0 * char_height), int(char_height * 3.2)
    plate = np.full((plate_h, plate_w), 235, np.uint8)
    cv2.rectangle(plate, (2, 2), (plate_w - 3, plate_h - 3), 30, max(2, thickness // 2))
    for text, baseline in ((top, 1.35), (bottom, 2.75)):
        w = cv2.getTextSize(text, font, scale, thickness)[0][0]
        cv2.putText(plate, text, ((plate_w - w) // 2, int(baseline * char_height)), font, scale, 30, thickness,
                    cv2.LINE_AA)
    return plate


def background(rng: np.random.Generator, size: tuple[int, int] = FRAME_SIZE) -> np.ndarray:
    """A road-like frame: a grey gradient with noise and a darker car body."""
    w, h = size
    frame = np.tile(np.linspace(90, 150, h, dtype=np.float32)[:, None], (1, w))
    frame += rng.normal(0, 6, (h, w)).astype(np.float32)
    cv2.rectangle(frame, (w // 4, h // 4), (3 * w // 4, 7 * h // 8), 60, -1)
    return np.clip(frame, 0, 255).astype(np.uint8)


def place(frame: np.ndarray, plate: np.ndarray, centre: tuple[float, float], width: float,
          tilt_deg: float = 0.0) -> np.ndarray:
    """`frame` with `plate` scaled to `width` px, rotated by `tilt_deg`, centred at `centre` (BGR)."""
    scale = width / plate.shape[1]
    matrix = cv2.getRotationMatrix2D((plate.shape[1] / 2, plate.shape[0] / 2), tilt_deg, scale)
    matrix[:, 2] += np.array(centre) - np.array([plate.shape[1] / 2, plate.shape[0] / 2])
    mask = cv2.warpAffine(np.full(plate.shape, 255, np.uint8), matrix, frame.shape[1::-1])
    warped = cv2.warpAffine(plate, matrix, frame.shape[1::-1], flags=cv2.INTER_AREA)
    out = np.where(mask > 127, warped, frame)
    return cv2.cvtColor(out, cv2.COLOR_GRAY2BGR)


def crop_of(plate: np.ndarray, margin: float = 0.08) -> np.ndarray:
    """A plate crop as a detector would cut it: a little of the bumper around it (BGR)."""
    pad_y, pad_x = int(plate.shape[0] * margin), int(plate.shape[1] * margin)
    return cv2.cvtColor(cv2.copyMakeBorder(plate, pad_y, pad_y, pad_x, pad_x, cv2.BORDER_CONSTANT, value=70),
                        cv2.COLOR_GRAY2BGR)
