"""A folder of still images played as a camera: sorted by name, looping, paced at a frame rate."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge.capture.images import to_bgr
from edge.capture.model import CaptureError, CorruptFrame
from edge.capture.pacing import Pacer
from edge.image_files import ImageFileError, read_image

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".ppm", ".pgm"})


class ImageFolderSource:
    def __init__(self, folder: Path, *, url: str, fps: float) -> None:
        self._url = url
        # Non-images (label .txt files beside dataset frames, for one) are not frames.
        self._files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not self._files:
            suffixes = " ".join(sorted(IMAGE_SUFFIXES))
            raise CaptureError(url, f"no images in folder {folder} (looked for {suffixes})")
        self._next = 0
        self.fps = fps
        self._pacer = Pacer(fps)

    def read(self) -> np.ndarray:
        self._pacer.wait()
        path = self._files[self._next]
        self._next = (self._next + 1) % len(self._files)
        if not path.exists():
            # The folder changed under us: reopening lists it again.
            raise CaptureError(self._url, f"image {path.name} disappeared from the folder")
        try:
            image = read_image(path)
        except ImageFileError as exc:
            raise CorruptFrame(self._url, f"cannot decode image {path.name}: {exc}") from None
        return to_bgr(image, self._url)

    def close(self) -> None:
        """Nothing is held open between reads."""
