"""Plate datasets in the team's contract formats (edge/plates/dataset.py), written from rendered plates.

- frames: `NAME.jpg` + `NAME.txt` holding one tab-separated line `NAME.jpg x y w h PLATE`;
- crops: `NAME.jpg` files + `labels.csv` rows `file,region,PLATE` (no header, like the team's data).

Frames come from the same renderer as the live scene, with a fresh camera rig every few images
and wider pose ranges (camera roll up to 12 degrees, car yaw up to 15), so a detector trained on
them sees more than one lane's view.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge.synthetic.crops import render_plate
from edge.synthetic.lettering import add_lettering
from edge.synthetic.regions import REGIONS, random_plate_text, region_format
from edge.synthetic.timeline import Moment, SlotPlan
from edge.synthetic.views import plate_quad, render_plate_view
from edge.synthetic.visits import build_assets, random_rig, random_visit, vehicle_pose
from edge.synthetic.world import background

# Frames rendered under one camera rig before the next (the background costs ~0.3 s to cast).
_FRAMES_PER_RIG = 8
_NIGHT_SHARE = 0.3
_PLACEMENT_TRIES = 20
# Plate widths in the team's real frames run from about 55 to 300 px.
_PLATE_WIDTH_PX = (45.0, 280.0)
# Closest the car's front comes to the plate camera.
_NEAREST_M = 2.5


def _regions(regions: Iterable[str] | None) -> tuple[str, ...]:
    chosen = tuple(regions) if regions is not None else tuple(REGIONS)
    if not chosen:
        raise ValueError("no plate regions given")
    for code in chosen:
        region_format(code)  # raises, naming the unknown region
    return chosen


@dataclass(frozen=True, eq=False)
class PlateFrame:
    """One rendered 1280x720 frame with one plate, and where that plate is."""

    image: np.ndarray  # BGR uint8, not yet JPEG-compressed
    quad: np.ndarray  # the plate's corners (tl, tr, br, bl) in pixels
    text: str
    region: str
    two_line: bool
    jpeg_quality: int  # the quality the frame is meant to be stored at
    lettering: tuple[tuple[int, int, int, int], ...] = ()  # boxes (x, y, w, h) of text that is not a plate

    @property
    def box(self) -> tuple[int, int, int, int]:
        """x, y, w, h of the pixels the plate covers (the dataset contract's box)."""
        x0, y0 = np.floor(self.quad.min(axis=0)).astype(int)
        x1, y1 = np.ceil(self.quad.max(axis=0)).astype(int)
        return int(x0), int(y0), int(x1 - x0), int(y1 - y0)


def plate_frames(count: int, seed: int, regions: Iterable[str] | None = None,
                 lettering: int = 0) -> Iterator[PlateFrame]:
    """`count` whole frames with one plate each, rendered in memory (what `write_plate_frames` stores).

    `lettering` > 0 paints up to that many pieces of vehicle lettering (phone and fleet numbers,
    names) beside the plate in each frame: text that is not a plate, for localisers to reject.
    """
    chosen = _regions(regions)
    rng = np.random.default_rng([seed & 0xFFFFFFFF, 0xF4A3E5])
    # Lettering draws from its own stream, so the frames themselves stay those of the seed.
    letter_rng = np.random.default_rng([seed & 0xFFFFFFFF, 0x1E77])
    for i in range(count):
        if i % _FRAMES_PER_RIG == 0:
            rig = random_rig(rng, plate_roll_deg=float(rng.uniform(-12, 12)))
            night = bool(rng.random() < _NIGHT_SHARE)
            backdrop = background(rig.plate_camera, rig.world, night)
        plan = SlotPlan(slot=i, start=0.0, has_vehicle=True, stop_s=10.0, hand_over_s=2.0, night=night)
        region = chosen[int(rng.integers(len(chosen)))]
        visit = random_visit(rng, plan, i, region)
        visit = dataclasses.replace(visit, yaw_deg=float(rng.uniform(-15, 15)), stop_offset_m=0.0)
        assets = build_assets(visit)
        plate_width_m = visit.plate.size_m[0]
        for _ in range(_PLACEMENT_TRIES):
            # Plates from small and far to large and near, as in real camera frames: pick the
            # plate's width in pixels, then where the car must be for it.
            width_px = float(np.exp(rng.uniform(np.log(_PLATE_WIDTH_PX[0]), np.log(_PLATE_WIDTH_PX[1]))))
            depth = rig.plate_camera.focal_px * plate_width_m / width_px
            travel = float(np.clip(rig.world.stop_z - depth, -14.0, rig.world.stop_z - _NEAREST_M))
            quad = plate_quad(rig, assets, *vehicle_pose(rig.world, visit, travel))
            if quad is not None:
                break
        else:
            raise RuntimeError(f"no camera position showed the whole plate of frame {i} (seed {seed})")
        frame = backdrop.copy()
        render_plate_view(frame, rig, visit, assets, Moment("arriving", travel, float(rng.uniform(0, 4))), rng)
        item = PlateFrame(frame, quad, visit.plate.text, region, visit.plate.two_line, int(rng.integers(70, 96)))
        if lettering > 0:
            plate_width = item.box[2]
            painted = add_lettering(frame, letter_rng, item.box, (0.1 * plate_width, 0.35 * plate_width),
                                    int(letter_rng.integers(0, lettering + 1)))
            item = dataclasses.replace(item, lettering=tuple(painted))
        yield item


def write_plate_frames(directory: str | Path, count: int, seed: int,
                       regions: Iterable[str] | None = None, lettering: int = 0) -> list[Path]:
    """Write `count` whole 1280x720 frames with one boxed plate each; returns the image paths."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for i, item in enumerate(plate_frames(count, seed, regions, lettering)):
        name = f"synth_{i:05d}.jpg"
        path = out / name
        if not cv2.imwrite(str(path), item.image, [cv2.IMWRITE_JPEG_QUALITY, item.jpeg_quality]):
            raise OSError(f"could not write {path}")
        x, y, w, h = item.box
        path.with_suffix(".txt").write_text(f"{name}\t{x}\t{y}\t{w}\t{h}\t{item.text}\n")
        written.append(path)
    return written


def write_plate_crops(directory: str | Path, count: int, seed: int,
                      regions: Iterable[str] | None = None) -> list[Path]:
    """Write `count` plate crops and their `labels.csv`; returns the image paths."""
    chosen = _regions(regions)
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed & 0xFFFFFFFF, 0xC209])
    written: list[Path] = []
    rows = []
    for i in range(count):
        region = chosen[int(rng.integers(len(chosen)))]
        text = random_plate_text(region, rng)
        crop, _ = render_plate(text, region, rng)
        name = f"synth_{i:05d}.jpg"
        # The crop already carries its own JPEG damage; store it without adding more.
        if not cv2.imwrite(str(out / name), crop, [cv2.IMWRITE_JPEG_QUALITY, 97]):
            raise OSError(f"could not write {out / name}")
        rows.append(f"{name},{region},{text}\n")
        written.append(out / name)
    (out / "labels.csv").write_text("".join(rows))
    return written
