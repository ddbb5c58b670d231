"""Shutter advice: the longest exposure that keeps a moving vehicle's plate sharp.

During an exposure of t seconds a vehicle at v m/s moves v*t metres; at a scale of s pixels per
metre (at the plate) that smears it over v*t*s pixels. Keeping the smear within b pixels needs
t <= b / (v * s). This assumes motion across the image, the worst case: a vehicle coming straight
at the camera smears less, so the advice errs on the sharp side.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ShutterAdvice:
    speed_kmh: float
    px_per_m: float
    max_blur_px: float
    max_exposure_s: float

    def describe(self) -> str:
        return (
            f"at {self.speed_kmh:g} km/h and {self.px_per_m:.0f} px/m at the plate, expose at most "
            f"1/{1 / self.max_exposure_s:.0f} s ({self.max_exposure_s * 1000:.2f} ms) "
            f"for at most {self.max_blur_px:g} px of motion blur"
        )


def shutter_advice(speed_kmh: float, px_per_m: float, max_blur_px: float = 1.0) -> ShutterAdvice:
    for name, value in (("speed_kmh", speed_kmh), ("px_per_m", px_per_m), ("max_blur_px", max_blur_px)):
        if not value > 0:
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    speed_m_s = speed_kmh / 3.6
    return ShutterAdvice(speed_kmh, px_per_m, max_blur_px, max_blur_px / (speed_m_s * px_per_m))


def px_per_m_from_characters(char_height_px: float, char_height_mm: float) -> float:
    """Image scale at the plate, from a measured character height and the characters' real height
    (75 mm on EU plates, about 70 mm on US plates)."""
    if not (char_height_px > 0 and char_height_mm > 0):
        raise ValueError("character heights must be positive")
    return char_height_px / (char_height_mm / 1000.0)
