"""Build the plate models' training sets from the public repositories named in models/manifest.toml.

Every source is a GitHub repository pinned to one commit, with its licence, in the manifest's
`[training_sources.*]` tables. This script never downloads anything: it reads each source from a
git directory already on the machine (a clone, or the bare snapshot a developer's fetch tool
brings), exports the pinned commit's files with `git archive` (so the data is exactly the commit
recorded, or the script stops), and turns them into:

    models/build/plates/
      sources/NAME/...          the exported files
      crops.pkl                 real plate crops with text: list of RealCrop (below)
      frames.pkl                real frames with plate boxes: list of BoxedFrame
      negatives.txt             paths of images that hold no plate
      calibration/              real validation crops and held-out synthetic ones in the dataset
                                contract (labels.csv), for `edge alpr calibrate` and `edge bench alpr`

Splits are fixed by the data, never at random: a plate text (BR crops, many frames of one car)
or a source's own train/val split decides. No image of the evaluation source (the OpenALPR
benchmark set) is read, here or anywhere in models/.

Run (the folder holds `owner+name/repo` snapshots, or plain clones named `name`):

    .venv/bin/python models/plate_data.py --sources /path/to/git/dirs
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import re
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge.synthetic import write_plate_crops

MODELS = Path(__file__).resolve().parent
BUILD = MODELS / "build" / "plates"
# A hidden character in a label (UC3M-LP masks two characters of each plate).
HIDDEN = "?"
_PLATE_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
# A Brazilian registration in a file name: LLLDDDD, or Mercosul's LLLDLDD.
_BRAZIL_TEXT = re.compile(r"(?<![A-Z])[A-Z]{3}[0-9][A-Z0-9][0-9]{2}(?![0-9])")


@dataclass(frozen=True)
class Source:
    name: str
    repo: str
    commit: str
    licence: str
    paths: tuple[str, ...]


@dataclass(frozen=True)
class RealCrop:
    """A real plate crop: grey pixels, its text (HIDDEN where masked), where it comes from."""

    image: np.ndarray
    text: str
    region: str
    source: str
    split: str  # "train" or "val"
    two_line: bool = False


@dataclass(frozen=True)
class BoxedFrame:
    """A real frame (a file under sources/) and its plates' boxes, x0 y0 x1 y1 in pixels."""

    path: str
    boxes: tuple[tuple[float, float, float, float], ...]
    source: str
    split: str


def load_sources(manifest: Path = MODELS / "manifest.toml") -> dict[str, Source]:
    tables = tomllib.loads(manifest.read_text(encoding="utf-8")).get("training_sources", {})
    return {name: Source(name, t["repo"], t["commit"], t["licence"], tuple(t["paths"])) for name, t in tables.items()}


def _git_dir(root: Path, repo: str) -> Path:
    owner, name = repo.split("/")
    for candidate in (root / f"{owner}+{name}" / "repo" / ".git", root / f"{owner}+{name}" / "repo",
                      root / name / ".git", root / name):
        if (candidate / "objects").is_dir():
            return candidate
    raise SystemExit(f"plate_data: no git directory for {repo} under {root} "
                     f"(clone https://github.com/{repo} there, or fetch it)")


def export(source: Source, root: Path, into: Path) -> Path:
    """The source's pinned files under `into/NAME` (exported once; `git archive` checks the commit)."""
    target = into / source.name
    done = target / ".commit"
    if done.is_file() and done.read_text().strip() == source.commit:
        return target
    git = _git_dir(root, source.repo)
    target.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "--git-dir", str(git), "archive", source.commit, *source.paths],
                             capture_output=True, check=False)
    if archive.returncode != 0:
        raise SystemExit(f"plate_data: {source.repo} has no commit {source.commit} with {source.paths}: "
                         f"{archive.stderr.decode(errors='replace').strip()}")
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    done.write_text(source.commit + "\n")
    return target


def _grey(path: Path) -> np.ndarray | None:
    return cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)


def _split_by_text(text: str, val_share: float = 0.1) -> str:
    """Validation for a fixed tenth of plate texts: every crop of one plate lands on one side."""
    bucket = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "val" if bucket < val_share else "train"


def brazil_crops(folder: Path) -> list[RealCrop]:
    """train-detector/br: the plate's text is in most file names ('10_DWG1072.jpg',
    '##########_CC_011241_AXK3125.JPG_0000_0428_...jpg'); the others are left out."""
    crops = []
    for path in sorted((folder / "br").iterdir()):
        found = _BRAZIL_TEXT.search(path.name)
        image = _grey(path) if found else None
        if found is None or image is None:
            continue
        text = found.group(0)
        crops.append(RealCrop(image, text, "br", "openalpr/train-detector", _split_by_text(text)))
    return crops


def spanish_crops(folder: Path) -> list[RealCrop]:
    """UC3M-LP OCR crops: '00890_AD-84-4LV-.jpg' = frame, type (A one line, B two lines, ...), text
    with '-' for each of the two masked characters. The per-character boxes must agree with it."""
    crops = []
    for split in ("train", "val"):
        for path in sorted((folder / "OCR" / "images" / split).glob("*.jpg")):
            _, _, label = path.stem.partition("_")
            kind, _, text = label.partition("-")
            visible = text.replace("-", "")
            if text.count("-") != 2 or set(visible) - _PLATE_CHARS or len(text) not in (7, 8):
                continue
            boxes = np.loadtxt(folder / "OCR" / "labels" / split / f"{path.stem}.txt", ndmin=2)
            names = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
            two_line = kind.startswith("B")
            if not two_line:
                # One row: the boxes' classes, left to right, spell the visible characters.
                spelled = "".join(names[int(c)] for c in boxes[np.argsort(boxes[:, 1]), 0])
                if spelled != visible:
                    continue
            image = _grey(path)
            if image is None:
                continue
            crops.append(RealCrop(image, text.replace("-", HIDDEN), "es", "UC3M-LP", split, two_line))
    return crops


def spanish_frames(folder: Path, root: Path) -> list[BoxedFrame]:
    frames = []
    for split in ("train", "val"):
        for path in sorted((folder / "LP" / "images" / split).glob("*.jpg")):
            image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            if image is None:
                continue
            h, w = image.shape
            rows = np.loadtxt(folder / "LP" / "labels" / split / f"{path.stem}.txt", ndmin=2)
            boxes = tuple((float((cx - bw / 2) * w), float((cy - bh / 2) * h), float((cx + bw / 2) * w),
                           float((cy + bh / 2) * h)) for _, cx, cy, bw, bh in rows)
            frames.append(BoxedFrame(str(path.relative_to(root)), boxes, "UC3M-LP", split))
    return frames


def romanian_frames(folder: Path, root: Path) -> list[BoxedFrame]:
    frames = []
    for split, name in (("train", "train"), ("val", "valid")):
        for xml in sorted((folder / "dataset" / name / "annots").glob("*.xml")):
            tree = ElementTree.parse(xml).getroot()
            image = folder / "dataset" / name / "images" / tree.findtext("filename", "")
            if not image.is_file():
                continue
            boxes = tuple(tuple(float(o.findtext(f"bndbox/{k}", "0")) for k in ("xmin", "ymin", "xmax", "ymax"))
                          for o in tree.iter("object"))
            frames.append(BoxedFrame(str(image.relative_to(root)), boxes, "RobertLucian/license-plate-dataset",
                                     split))
    return frames


def write_calibration_crops(crops: list[RealCrop], folder: Path, synthetic: int = 600, seed: int = 7100) -> int:
    """The set `edge alpr calibrate` sets the sure-read threshold on, in the dataset contract
    (`file,region,PLATE`): the fully labelled real validation crops, and synthetic crops of every
    region the synthetic crossing draws (a seed no training uses), so that plates unlike the real
    ones (US, EU) weigh in too."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, crop in enumerate(c for c in crops if c.split == "val" and HIDDEN not in c.text):
        name = f"{crop.region}-{i:05d}.png"
        cv2.imwrite(str(folder / name), crop.image)
        rows.append(f"{name},{crop.region},{crop.text}\n")
    write_plate_crops(folder / "synthetic", synthetic, seed)
    rows += [f"synthetic/{row}\n" for row in (folder / "synthetic" / "labels.csv").read_text().split()]
    (folder / "labels.csv").write_text("".join(rows), encoding="utf-8")
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=Path, required=True, help="folder holding the sources' git directories")
    parser.add_argument("--out", type=Path, default=BUILD)
    args = parser.parse_args(argv)
    sources = load_sources()
    exported = {name: export(source, args.sources, args.out / "sources") for name, source in sources.items()}
    detector = exported["train_detector"]
    uc3m = exported["uc3m_lp"] / "practica4" / "datasets" / "UC3M-LP-yolo"
    crops = brazil_crops(detector) + spanish_crops(uc3m)
    frames = spanish_frames(uc3m, args.out) + romanian_frames(exported["romanian_plates"], args.out)
    negatives = sorted(str(p.relative_to(args.out)) for p in (detector / "raw-neg").iterdir())
    with (args.out / "crops.pkl").open("wb") as stream:
        pickle.dump(crops, stream)
    with (args.out / "frames.pkl").open("wb") as stream:
        pickle.dump(frames, stream)
    (args.out / "negatives.txt").write_text("\n".join(negatives) + "\n", encoding="utf-8")
    val = write_calibration_crops(crops, args.out / "calibration")
    for source in ("openalpr/train-detector", "UC3M-LP"):
        mine = [c for c in crops if c.source == source]
        print(f"crops {source}: {len(mine)} ({sum(c.split == 'val' for c in mine)} validation)")
    print(f"frames: {len(frames)} with {sum(len(f.boxes) for f in frames)} plates "
          f"({sum(f.split == 'val' for f in frames)} validation); negatives: {len(negatives)}; "
          f"calibration crops: {val}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
