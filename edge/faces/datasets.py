"""The face dataset folders of the design's contracts: `pairs.tsv` and `identities.csv`.

pairs.tsv: header `img1 img2 same_identity`, tab-separated, paths relative to the folder.
identities.csv: header `file,identity`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path


class FaceDatasetError(Exception):
    """A dataset folder that does not follow the contract; the message names file and line."""


@dataclass(frozen=True)
class Pair:
    first: str
    second: str
    same: bool


def read_pairs(folder: Path) -> list[Pair]:
    path = folder / "pairs.tsv"
    if not path.is_file():
        raise FaceDatasetError(f"{path}: no such file (a pairs folder needs pairs.tsv)")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter="\t")
        header = next(reader, None)
        if header != ["img1", "img2", "same_identity"]:
            raise FaceDatasetError(f"{path}: line 1 must be the header img1, img2, same_identity (got {header})")
        pairs = []
        for line, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != 3 or row[2] not in {"0", "1"}:
                raise FaceDatasetError(f"{path}: line {line}: expected img1, img2 and 0 or 1, got {row}")
            pairs.append(Pair(row[0], row[1], row[2] == "1"))
    return pairs


def read_identities(folder: Path) -> dict[str, str]:
    """image path (relative to the folder) -> identity, in file order."""
    path = folder / "identities.csv"
    if not path.is_file():
        raise FaceDatasetError(f"{path}: no such file (an identities folder needs identities.csv)")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header != ["file", "identity"]:
            raise FaceDatasetError(f"{path}: line 1 must be the header file,identity (got {header})")
        identities: dict[str, str] = {}
        for line, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != 2 or not row[0] or not row[1]:
                raise FaceDatasetError(f"{path}: line {line}: expected file,identity, got {row}")
            identities[row[0]] = row[1]
    return identities


def pair_identities(pairs: list[Pair]) -> dict[str, str]:
    """Identities for the images of a pairs file that has no identities.csv.

    Images joined by a same-identity pair share an identity; so do images in the same sub-folder,
    the layout of LFW-style sets (one folder per person). Anything else counts as a different
    person, which is what `--impostors all` needs."""
    parent: dict[str, str] = {}

    def root(name: str) -> str:
        while parent.setdefault(name, name) != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for pair in pairs:
        for image in (pair.first, pair.second):
            folder = str(Path(image).parent)
            root(image)
            if folder != ".":
                parent[root(image)] = root("folder:" + folder)
        if pair.same:
            parent[root(pair.first)] = root(pair.second)
    images = {image for pair in pairs for image in (pair.first, pair.second)}
    return {image: root(image) for image in sorted(images)}
