"""Where calibration images come from: image files, folders of them, or a few frames of a camera."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np

from edge.capture import CaptureError, open_source
from edge.capture.folder import IMAGE_SUFFIXES
from edge.capture.images import to_bgr
from edge.image_files import ImageFileError, read_image


class FramesError(Exception):
    """No usable image: the message names the file or camera and what is wrong."""


def read_images(paths: list[Path]) -> list[tuple[str, np.ndarray]]:
    """(name, BGR image) for every image file given, and every image inside the folders given."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not inside:
                raise FramesError(f"{path}: no images in this folder (looked for {' '.join(sorted(IMAGE_SUFFIXES))})")
            files += inside
        elif path.is_file():
            files.append(path)
        else:
            raise FramesError(f"{path}: no such file or folder")
    images = []
    for file in files:
        try:
            image = read_image(file, cv2.IMREAD_UNCHANGED)
        except ImageFileError as exc:
            raise FramesError(str(exc)) from None
        images.append((file.name, to_bgr(image, str(file))))
    return images


def grab_frames(url: str, count: int, every_s: float = 0.0, timeout_s: float = 30.0) -> list[tuple[str, np.ndarray]]:
    """`count` frames of the camera at `url`, at least `every_s` seconds apart."""
    if count < 1:
        raise FramesError(f"asked for {count} frames; at least one is needed")
    deadline = time.monotonic() + timeout_s + count * every_s
    try:
        source = open_source(url)
    except CaptureError as exc:
        raise FramesError(str(exc)) from None
    frames: list[tuple[str, np.ndarray]] = []
    last = -every_s
    try:
        while len(frames) < count:
            if time.monotonic() > deadline:
                raise FramesError(f"camera {url}: {len(frames)} of {count} frames within {timeout_s:.0f} s")
            try:
                image = source.read()
            except CaptureError as exc:
                raise FramesError(str(exc)) from None
            now = time.monotonic()
            if image is not None and now - last >= every_s:
                frames.append((f"frame {len(frames) + 1}", image))
                last = now
    finally:
        source.close()
    return frames
