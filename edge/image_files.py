"""Images from files and bytes, decoded only once their header says they are a sane size.

A PNG or JPEG header can claim 100000 x 100000 pixels (30 GB decoded) in a few bytes, and OpenCV
would try. So the header is read first (Pillow reads only the header on open), and an image over
`MAX_PIXELS`, or in a format Pillow does not know, is refused with a message before any pixel is
decoded.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

# 8K video is 33 MP; no camera, document portrait or dataset image of this product comes near.
MAX_PIXELS = 50_000_000


class ImageFileError(ValueError):
    """An image that is not read: unreadable, not an image, or too large. The message says which."""


def _check_header(source: Path | io.BytesIO, what: str) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source) as image:
                width, height = image.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageFileError(f"{what}: its header claims an image too large to decode") from None
    except FileNotFoundError:
        raise ImageFileError(f"{what}: no such file") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ImageFileError(f"{what}: not a readable image") from None
    if width * height > MAX_PIXELS:
        limit = MAX_PIXELS // 1_000_000
        raise ImageFileError(f"{what}: {width} x {height} pixels, over the {limit} MP an image may have")


def read_image(path: Path, flags: int = cv2.IMREAD_COLOR) -> np.ndarray:
    """The image file decoded by OpenCV (`flags` as for cv2.imread), after its header was checked."""
    _check_header(path, str(path))
    image = cv2.imread(str(path), flags)
    if image is None:
        raise ImageFileError(f"{path}: not a readable image")
    return image


def decode_image(data: bytes, what: str, flags: int = cv2.IMREAD_COLOR) -> np.ndarray:
    """Encoded image bytes decoded by OpenCV, after their header was checked; `what` names them in errors."""
    _check_header(io.BytesIO(data), what)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if image is None:
        raise ImageFileError(f"{what}: not a decodable image ({len(data)} bytes)")
    return image
