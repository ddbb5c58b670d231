"""What a real camera does to a picture: blur, sensor noise, low light, glare, JPEG.

Scene frames must stay cheap, so the per-frame noise is cut from a field made once and the
expensive steps (blur, JPEG) run on a region of the frame, not the whole of it.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

_NOISE_MARGIN = 64


def gaussian_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    if sigma < 0.3:
        return img
    if sigma <= 3.0:
        return cv2.GaussianBlur(img, (0, 0), sigma)
    # Stack blur approximates a wide Gaussian at a cost that does not grow with its width.
    k = 2 * round(2.5 * sigma) + 1
    return cv2.stackBlur(img, (k, k))


def motion_blur(img: np.ndarray, length_px: float, angle_deg: float) -> np.ndarray:
    n = round(length_px)
    if n < 2:
        return img
    line = np.zeros((n, n), np.float32)
    line[n // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D(((n - 1) / 2, (n - 1) / 2), angle_deg, 1.0)
    kernel = cv2.warpAffine(line, rot, (n, n))
    return cv2.filter2D(img, -1, kernel / kernel.sum())


def jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else None
    if decoded is None:
        raise RuntimeError("JPEG encoding failed")
    return decoded


def add_noise(img: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Fresh Gaussian sensor noise (for crops and datasets, where cost does not matter)."""
    noisy = img.astype(np.float32) + rng.normal(0.0, sigma, img.shape).astype(np.float32)
    return np.clip(noisy, 0, 255).astype(np.uint8)


@lru_cache(maxsize=8)
def _noise_field(sigma: float, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """A fixed noise field larger than a frame, split into its positive and negative parts."""
    rng = np.random.default_rng(int(sigma * 1000))
    field = rng.normal(0.0, sigma, (height + _NOISE_MARGIN, width + _NOISE_MARGIN, 3))
    return (np.clip(field, 0, 255).astype(np.uint8), np.clip(-field, 0, 255).astype(np.uint8))


def add_field_noise(frame: np.ndarray, sigma: float, rng: np.random.Generator) -> None:
    """Sensor noise in place, from a window of a cached field at an offset drawn from `rng`.

    Each frame gets a different window, so the noise moves like real noise, at the cost of
    two saturating adds instead of drawing a million random numbers.
    """
    h, w = frame.shape[:2]
    pos, neg = _noise_field(round(sigma, 1), h, w)
    dy, dx = (int(v) for v in rng.integers(0, _NOISE_MARGIN, 2))
    cv2.add(frame, pos[dy: dy + h, dx: dx + w], dst=frame)
    cv2.subtract(frame, neg[dy: dy + h, dx: dx + w], dst=frame)


@lru_cache(maxsize=4)
def _glare_blob(size: int) -> np.ndarray:
    r = np.linspace(-1.0, 1.0, size)
    d2 = r[None, :] ** 2 + r[:, None] ** 2
    core = np.exp(-d2 / 0.004)
    halo = 0.55 * np.exp(-d2 / 0.08)
    # A horizontal streak, as lens flare spreads bright lamps.
    streak = 0.35 * np.exp(-(r[:, None] ** 2) / 0.001) * np.exp(-(r[None, :] ** 2) / 0.35)
    blob = np.clip(core + halo + streak, 0, 1)
    tint = np.array([0.93, 0.98, 1.0])  # BGR: slightly warm
    return (blob[..., None] * tint * 255).astype(np.uint8)


def add_glare(frame: np.ndarray, centre: tuple[float, float], radius: float, strength: float = 1.0) -> None:
    """Headlight glare in place: a bright core with a halo and a streak, added with saturation."""
    size = max(8, int(radius * 2))
    blob = cv2.resize(_glare_blob(256), (size, size), interpolation=cv2.INTER_AREA)
    if strength != 1.0:
        blob = cv2.convertScaleAbs(blob, alpha=strength)
    x0, y0 = int(centre[0] - size / 2), int(centre[1] - size / 2)
    h, w = frame.shape[:2]
    fx0, fy0, fx1, fy1 = max(x0, 0), max(y0, 0), min(x0 + size, w), min(y0 + size, h)
    if fx1 <= fx0 or fy1 <= fy0:
        return
    roi = frame[fy0:fy1, fx0:fx1]
    cv2.add(roi, blob[fy0 - y0: fy1 - y0, fx0 - x0: fx1 - x0], dst=roi)


def night_grade(img: np.ndarray, gain: float = 0.3) -> np.ndarray:
    """Low light: darker, a little blue, shadows crushed the way a small sensor crushes them."""
    x = np.arange(256, dtype=np.float32) / 255.0
    curve = np.power(x, 1.35) * gain
    lut = np.stack([curve * 1.1, curve * 0.95, curve * 0.85], axis=1)
    lut = np.clip(lut * 255, 0, 255).astype(np.uint8).reshape(256, 1, 3)
    return cv2.LUT(img, lut)


_MUD_BGR = np.array([40, 62, 84], np.float32)  # dried road mud


def mud(plate: np.ndarray) -> np.ndarray:
    """A plate caked in mud: its characters smeared and covered past reading (a training scenario)."""
    smeared = gaussian_blur(plate, max(plate.shape[:2]) / 30).astype(np.float32)
    return np.clip(smeared * 0.3 + _MUD_BGR * 0.7, 0, 255).astype(np.uint8)
