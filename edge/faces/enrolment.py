"""Enrolment: photos in, templates with their quality stored, poor photos refused with the reason."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from edge.faces.datasets import read_identities
from edge.faces.encoding import FaceEncoder
from edge.faces.enrolled_store import EnrolledStore
from edge.faces.fusion import NoUsableFace
from edge.faces.observe import FaceObserver
from edge.faces.stills import ImageError, read_rgb, still_template

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


@dataclass(frozen=True)
class EnrolmentOutcome:
    image: Path
    person_id: str
    template_id: str | None  # None: refused
    quality: float | None
    reason: str | None  # why it was refused


def folder_images(folder: Path) -> list[tuple[Path, str]]:
    """(image, person) for a folder: from identities.csv if it has one, else one sub-folder per person."""
    if (folder / "identities.csv").is_file():
        return [(folder / name, identity) for name, identity in read_identities(folder).items()]
    found = [
        (image, image.parent.name)
        for image in sorted(folder.rglob("*"))
        if image.suffix.lower() in IMAGE_SUFFIXES and image.parent != folder
    ]
    if not found:
        raise ValueError(f"{folder}: no identities.csv and no images in per-person sub-folders")
    return found


def enrol(
    images: Iterable[tuple[Path, str]], store: EnrolledStore, observer: FaceObserver, encoder: FaceEncoder
) -> list[EnrolmentOutcome]:
    """Enrol each (image, person); a refused image is reported and the others go on."""
    outcomes = []
    for image, person_id in images:
        try:
            template = still_template(read_rgb(image), observer, encoder, gated=True)
        except (ImageError, NoUsableFace) as exc:
            outcomes.append(EnrolmentOutcome(image, person_id, None, None, str(exc)))
            continue
        template_id = store.add(person_id, template, source=str(image))
        outcomes.append(EnrolmentOutcome(image, person_id, template_id, template.quality, None))
    return outcomes
