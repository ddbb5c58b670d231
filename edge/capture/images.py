"""Turning whatever a camera delivers into the one image form the pipeline accepts: BGR uint8 HxWx3."""

from __future__ import annotations

import cv2
import numpy as np

from edge.capture.model import CorruptFrame
from edge.image_files import ImageFileError, decode_image

_JPEG_START = b"\xff\xd8"
_JPEG_END = b"\xff\xd9"


def to_bgr(image: np.ndarray | None, url: str) -> np.ndarray:
    """`image` as BGR uint8 HxWx3; raises CorruptFrame for a missing or empty image."""
    if image is None or image.size == 0:
        raise CorruptFrame(url, "empty image")
    if image.dtype != np.uint8:
        # 16-bit sources (some industrial cameras, PNGs) scale down; the pipeline works in 8 bits.
        image = cv2.convertScaleAbs(image, alpha=255.0 / max(float(image.max()), 1.0))
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    raise CorruptFrame(url, f"unexpected image shape {image.shape}")


def decode_jpeg(data: bytes, url: str) -> np.ndarray:
    """Decode one JPEG; raises CorruptFrame for anything that is not a whole, decodable JPEG.

    libjpeg decodes a truncated JPEG into a partly grey image with only a warning, so a frame cut
    short in transit is caught by its missing end marker instead.
    """
    if not data.startswith(_JPEG_START):
        raise CorruptFrame(url, f"not a JPEG ({len(data)} bytes, starts {data[:4].hex() or 'empty'})")
    if not data.rstrip(b"\r\n").endswith(_JPEG_END):
        raise CorruptFrame(url, f"truncated JPEG ({len(data)} bytes, no end marker)")
    try:
        image = decode_image(data, "JPEG")
    except ImageFileError as exc:
        raise CorruptFrame(url, f"{exc} ({len(data)} bytes)") from None
    return to_bgr(image, url)
