"""Plate datasets in the project's contract format, for benchmarks.

- frames: images, each with `NAME.txt` = one tab-separated line `image-file x y w h PLATE`;
- crops: images + `labels.csv` rows `file,region,PLATE`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

_PLATE_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


class PlateDatasetError(ValueError):
    """A dataset folder or label that does not follow the contract; the message names it."""


@dataclass(frozen=True)
class LabelledFrame:
    image: Path
    box: tuple[int, int, int, int]  # x, y, w, h of the plate
    plate: str


@dataclass(frozen=True)
class LabelledCrop:
    image: Path
    region: str
    plate: str


def _check_plate(plate: str, where: str) -> str:
    if not plate or set(plate) - _PLATE_CHARS:
        raise PlateDatasetError(f"{where}: plate {plate!r} must be upper-case A-Z0-9 without separators")
    return plate


def is_crops_folder(folder: Path) -> bool:
    return (folder / "labels.csv").is_file()


def load_frames(folder: Path) -> list[LabelledFrame]:
    frames = []
    for label in sorted(folder.glob("*.txt")):
        fields = label.read_text(encoding="utf-8").strip().split("\t")
        if len(fields) != 6:
            raise PlateDatasetError(
                f"{label}: expected 'image x y w h PLATE' separated by tabs, got {len(fields)} fields")
        name, x, y, w, h, plate = fields
        try:
            box = (int(x), int(y), int(w), int(h))
        except ValueError:
            raise PlateDatasetError(
                f"{label}: the plate box must be four integers, got {x!r} {y!r} {w!r} {h!r}") from None
        image = folder / name
        if not image.is_file():
            raise PlateDatasetError(f"{label}: image {name!r} does not exist")
        frames.append(LabelledFrame(image, box, _check_plate(plate, str(label))))
    if not frames:
        raise PlateDatasetError(f"{folder}: no labelled frames (NAME.txt) and no labels.csv")
    return frames


def load_crops(folder: Path) -> list[LabelledCrop]:
    crops = []
    labels = folder / "labels.csv"
    with labels.open(encoding="utf-8", newline="") as stream:
        for number, row in enumerate(csv.reader(stream), start=1):
            if not row:
                continue
            if len(row) != 3:
                raise PlateDatasetError(f"{labels}:{number}: expected 'file,region,PLATE', got {row!r}")
            name, region, plate = (field.strip() for field in row)
            image = folder / name
            if not image.is_file():
                raise PlateDatasetError(f"{labels}:{number}: image {name!r} does not exist")
            crops.append(LabelledCrop(image, region.lower(), _check_plate(plate, f"{labels}:{number}")))
    if not crops:
        raise PlateDatasetError(f"{labels}: no rows")
    return crops
