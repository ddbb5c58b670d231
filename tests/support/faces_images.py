"""Public-domain faces for the face tests, and the ways a lane camera spoils them.

astronaut: scikit-image's `data.astronaut()` (Eileen Collins, NASA photograph, public domain).
hopper: matplotlib's sample `grace_hopper.jpg` (US Navy photograph, public domain).
These are two different people; every other test face is one of them, rendered worse.
"""

from __future__ import annotations

from functools import cache

import cv2
import numpy as np


@cache
def _astronaut() -> np.ndarray:
    from skimage import data

    return data.astronaut()


@cache
def _hopper() -> np.ndarray:
    from matplotlib import cbook

    bgr = cv2.imread(str(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def astronaut() -> np.ndarray:
    """RGB 512x512, face about 90 px wide, eyes about 43 px apart."""
    return _astronaut().copy()


def hopper() -> np.ndarray:
    """RGB 512x600, face about 190 px wide."""
    return _hopper().copy()


def gain(rgb: np.ndarray, factor: float, offset: float = 0.0) -> np.ndarray:
    return np.clip(rgb.astype(np.float32) * factor + offset, 0, 255).astype(np.uint8)


def blur(rgb: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(rgb, (0, 0), sigma)


def noise(rgb: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(rgb + rng.normal(0, sigma, rgb.shape), 0, 255).astype(np.uint8)


def jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", rgb, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


def rotate(rgb: np.ndarray, degrees: float, centre: tuple[float, float]) -> np.ndarray:
    matrix = cv2.getRotationMatrix2D(centre, degrees, 1.0)
    return cv2.warpAffine(rgb, matrix, (rgb.shape[1], rgb.shape[0]), borderMode=cv2.BORDER_REFLECT)


def scaled(rgb: np.ndarray, factor: float) -> np.ndarray:
    return cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)


ASTRONAUT_FACE_CENTRE = (220.0, 125.0)
