"""`edge alpr IMAGE...` reads plates in images; `edge alpr calibrate DIR` sets the confidence from which a
read is sure; `edge bench alpr DIR` measures reading on a labelled folder."""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge.config import SURE_CONFIDENCE, PlatesConfig
from edge.config.edit import ConfigEditError, set_tables
from edge.config.plate_regions import BUILTIN_REGIONS
from edge.image_files import ImageFileError, read_image
from edge.plates.certainty import SureRule, calibrate
from edge.plates.dataset import LabelledCrop, LabelledFrame, PlateDatasetError, is_crops_folder, load_crops, load_frames
from edge.plates.pipeline import PlateReader, PlateReaderSettings
from edge.plates.reads import FrameRead, Quad
from edge.service.proc import rss_mb

_CALIBRATE = Path("calibrate")
EXIT_BAD_INPUT = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    # argparse cannot put a sub-command beside positional images, so `calibrate` is the first
    # "image" and its options are declared here too (and refused without it).
    parser = subparsers.add_parser(
        "alpr", help="read licence plates in image files (prints JSON lines); `calibrate DIR`: the sure-read threshold",
        usage="edge alpr [--crop] [reader options] IMAGE...\n"
              "       edge alpr calibrate DIR [--target-precision P] [--config FILE] [reader options]")
    parser.add_argument("images", nargs="+", type=Path, help="frames (or plate crops with --crop); or `calibrate DIR`")
    parser.add_argument("--crop", action="store_true", help="the images are plate crops: read the main line")
    _add_reader_options(parser)
    calibration = parser.add_argument_group(
        "calibrate DIR", "on a labelled folder (frames, or crops with labels.csv): the lowest confidence at which "
                         "the reads that fit a format of the --region codes are exact at the target precision")
    calibration.add_argument("--target-precision", type=float, metavar="P",
                             help="share of sure reads that must be exact (default 0.99)")
    calibration.add_argument("--config", type=Path, metavar="FILE",
                             help="write the threshold as plates.sure_confidence of every lane of FILE "
                                  "(a .bak is kept)")
    parser.set_defaults(func=_alpr)


def register_bench(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "alpr", help="plate reading on a labelled folder: frames end to end, or crops (labels.csv) OCR only")
    parser.add_argument("folder", type=Path, help="a plate frames folder or a plate crops folder")
    parser.add_argument("--limit", type=int, default=0, help="read only the first N images (0: all)")
    parser.add_argument("--verbose", action="store_true", help="print one line per image before the JSON")
    parser.add_argument("--sure-confidence", type=_fraction, default=SURE_CONFIDENCE, metavar="C",
                        help=f"confidence from which a read that fits a --region format is sure (default "
                             f"{SURE_CONFIDENCE}, the config's default)")
    _add_reader_options(parser)
    parser.set_defaults(func=_bench)


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must lie between 0 and 1, got {text}")
    return value


def _add_reader_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", action="append", dest="regions", metavar="CODE",
                        help=f"plate region format (repeatable; default any): {', '.join(BUILTIN_REGIONS)}")
    parser.add_argument("--candidates", type=int, default=PlateReaderSettings.candidates,
                        help="plates (the detector's best boxes) read per frame")
    parser.add_argument("--detector", choices=("cnn", "rows"), default=PlateReaderSettings.detector,
                        help="the plate detector: the CNN (default) or the classical row search")
    parser.add_argument("--recogniser", choices=("cnn", "easyocr"), default=PlateReaderSettings.recogniser,
                        help="the recogniser: the plate CNN (default) or EasyOCR's english_g2 line reader")
    parser.add_argument("--decoder", choices=("formats", "greedy"), default=PlateReaderSettings.decoder,
                        help="the decoder: the regions' formats (default) or the network's best path")


def _reader(args: argparse.Namespace) -> PlateReader:
    regions = tuple(args.regions or ("any",))
    return PlateReader(PlateReaderSettings(regions=regions, candidates=args.candidates, detector=args.detector,
                                      recogniser=args.recogniser, decoder=args.decoder))


def _load(path: Path) -> np.ndarray:
    try:
        return read_image(path)
    except ImageFileError as exc:
        raise PlateDatasetError(str(exc)) from None


def _describe(read: FrameRead | None) -> dict:
    if read is None:
        return {"text": None}
    return {"text": read.text, "region": read.region, "confidence": round(read.confidence, 4),
            "char_confidences": [round(c, 4) for c in read.char_confidences],
            "quad": [[round(x, 1), round(y, 1)] for x, y in read.quad]}


def _alpr(args: argparse.Namespace) -> int:
    if args.images[0] == _CALIBRATE:
        if len(args.images) != 2 or args.crop:
            print("edge alpr calibrate: give one labelled folder (and no --crop: the folder says what it holds)",
                  file=sys.stderr)
            return EXIT_BAD_INPUT
        return _calibrate(args, args.images[1])
    if args.target_precision is not None or args.config is not None:
        print("edge alpr: --target-precision and --config belong to `edge alpr calibrate DIR`", file=sys.stderr)
        return EXIT_BAD_INPUT
    return _read_images(args)


def _read_images(args: argparse.Namespace) -> int:
    try:
        reader = _reader(args)
    except ValueError as exc:
        print(f"edge alpr: {exc}", file=sys.stderr)
        return 2
    status = 0
    for path in args.images:
        try:
            image = _load(path)
        except PlateDatasetError as exc:
            print(f"edge alpr: {exc}", file=sys.stderr)
            status = 1
            continue
        reads: list[FrameRead | None] = [reader.read_crop(image)] if args.crop else [*reader.read_frame(image)]
        print(json.dumps({"image": str(path), "reads": [_describe(r) for r in reads or [None]]}))
    return status


def _crop_region(region: str, default: str) -> str:
    """A crop's label region as a format code; the bench's region otherwise.

    Under a US bench region the labels are state codes: `ca` is California (`us-ca`) and `de`
    Delaware, which has no built-in format (so the bench's region), never Germany.
    """
    us = default == "us" or default.startswith("us-")
    for code in (f"us-{region}",) if us else (region,):
        if code in BUILTIN_REGIONS and code not in ("any", "us", "eu"):
            return code
    return default


def _inside(quad: Quad, box: tuple[int, int, int, int]) -> bool:
    """Whether the quad's centre lies in the box (x, y, w, h)."""
    cx = sum(p[0] for p in quad) / 4
    cy = sum(p[1] for p in quad) / 4
    x, y, w, h = box
    return x <= cx <= x + w and y <= cy <= y + h


def _on_plate(quad: Quad, box: tuple[int, int, int, int]) -> bool:
    """A detector's box on the labelled plate: each one's centre inside the other."""
    xs, ys = [p[0] for p in quad], [p[1] for p in quad]
    around = (round(min(xs)), round(min(ys)), round(max(xs) - min(xs)), round(max(ys) - min(ys)))
    x, y, w, h = box
    corners = ((x, y), (x + w, y), (x + w, y + h), (x, y + h))
    return _inside(quad, box) and _inside(corners, around)


@dataclass(frozen=True)
class _Reading:
    """One labelled image's best read, and what it cost."""

    item: LabelledFrame | LabelledCrop
    read: FrameRead | None
    wall_ms: float
    cpu_ms: float  # all threads of the process: other load on the machine does not inflate it as it does wall time
    found_top3: bool | None = None  # frames: the plate among the detector's 3 best boxes

    @property
    def exact(self) -> bool:
        return self.read is not None and self.read.text == self.item.plate


def _load_items(folder: Path, limit: int) -> tuple[bool, list[LabelledFrame] | list[LabelledCrop]]:
    crops = is_crops_folder(folder)
    items = load_crops(folder) if crops else load_frames(folder)
    return crops, items[:limit] if limit > 0 else items


def _readings(reader: PlateReader, items: list[LabelledFrame] | list[LabelledCrop],
              default_region: str) -> Iterator[_Reading]:
    """Each image's best read: a crop's main line, a frame's first read.
    Raises PlateDatasetError on an unreadable image."""
    for item in items:
        image = _load(item.image)
        start = time.perf_counter()
        cpu_start = time.process_time()
        if isinstance(item, LabelledCrop):
            read = reader.read_crop(image, _crop_region(item.region, default_region))
        else:
            reads = reader.read_frame(image)
            read = reads[0] if reads else None
        wall_ms, cpu_ms = (time.perf_counter() - start) * 1000, (time.process_time() - cpu_start) * 1000
        # The detector's own figure, outside the timing (read_frame ran it already).
        found = None if isinstance(item, LabelledCrop) else any(
            _on_plate(candidate.quad, item.box) for candidate in reader.detect(image)[:3])
        yield _Reading(item, read, wall_ms, cpu_ms, found)


def _sure_rule(regions: list[str], threshold: float) -> SureRule:
    return SureRule.for_lane(PlatesConfig(regions=regions, sure_confidence=threshold))


def _bench(args: argparse.Namespace) -> int:
    rss_before = rss_mb(os.getpid())
    regions = list(args.regions or ["any"])
    try:
        reader = _reader(args)
        crops, items = _load_items(args.folder, args.limit)
        readings = []
        for reading in _readings(reader, items, regions[0]):
            readings.append(reading)
            if args.verbose:
                text = reading.read.text if reading.read else None
                print(f"{reading.item.image.name}\t{reading.item.plate}\t{text}\t{'ok' if reading.exact else 'WRONG'}")
    except (ValueError, OSError) as exc:
        print(f"edge bench alpr: {exc}", file=sys.stderr)
        return 2
    rule = _sure_rule(regions, args.sure_confidence)
    sure = [r for r in readings if r.read is not None and rule.is_sure(r.read.text, r.read.confidence)]
    timings = [r.wall_ms for r in readings]
    exact = sum(r.exact for r in readings)
    result = {
        "images": len(readings),
        "exact": exact,
        "accuracy": round(exact / len(readings), 4),
        "sure_confidence": args.sure_confidence,
        "sure_share": round(len(sure) / len(readings), 4),
        "sure_precision": round(sum(r.exact for r in sure) / len(sure), 4) if sure else None,
        "median_ms": round(statistics.median(timings), 2),
        "p95_ms": round(float(np.percentile(timings, 95)), 2),
        "cpu_median_ms": round(statistics.median(r.cpu_ms for r in readings), 2),
        "mode": "crops" if crops else "frames",
        "regions": regions,
        "detector": args.detector,
        "recogniser": args.recogniser,
        "decoder": args.decoder,
        "rss_added_mb": round(rss_mb(os.getpid()) - rss_before, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if not crops:
        localised = sum(r.read is not None and _inside(r.read.quad, r.item.box) for r in readings
                        if isinstance(r.item, LabelledFrame))
        result["localised"] = round(localised / len(readings), 4)
        result["found_top3"] = round(sum(bool(r.found_top3) for r in readings) / len(readings), 4)
    print(json.dumps(result))
    return 0


def _calibrate(args: argparse.Namespace, folder: Path) -> int:
    from edge.commands.config import load_for_command

    target = 0.99 if args.target_precision is None else args.target_precision
    regions = list(args.regions or ["any"])
    if args.config is not None:
        load_for_command(str(args.config))  # a broken config stops here (exit 2, every problem named)
    try:
        reader = _reader(args)
        rule = _sure_rule(regions, SURE_CONFIDENCE)  # only its formats: the threshold is what is measured
        crops, items = _load_items(folder, 0)
        readings = list(_readings(reader, items, regions[0]))
        # An image whose read fits no format can never be sure, whatever the threshold.
        pairs = [(r.read.confidence if r.read is not None and rule.fits(r.read.text) else None, r.exact)
                 for r in readings]
        found = calibrate(pairs, target)
    except (ValueError, OSError) as exc:  # PlateDatasetError and CalibrationError are ValueErrors
        print(f"edge alpr calibrate: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    candidates = sum(c is not None for c, _ in pairs)
    print(f"{len(readings)} images ({'crops' if crops else 'frames'}): {candidates} with a read that fits a format "
          f"of {', '.join(regions)}, {len(readings) - candidates} without")
    print(f"threshold {found.threshold:.6f}: {found.sure} of {found.images} images sure ({found.sure_share:.1%}), "
          f"{found.correct} of them exact ({found.sure_precision:.2%}); target {target}")
    if args.config is not None:
        try:
            lanes, backup = _write_sure_confidence(args.config, found.threshold)
        except (ConfigEditError, OSError, tomllib.TOMLDecodeError) as exc:
            print(f"edge alpr calibrate: cannot write the threshold: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        print(f"wrote plates.sure_confidence = {found.threshold!r} for lane(s) {', '.join(lanes)} to {args.config} "
              f"(previous file kept as {backup.name})")
    print(json.dumps({
        "images": found.images, "threshold": found.threshold, "sure": found.sure, "correct": found.correct,
        "sure_share": round(found.sure_share, 4), "sure_precision": round(found.sure_precision, 4),
        "target_precision": target, "mode": "crops" if crops else "frames", "regions": regions,
    }))
    return 0


def _write_sure_confidence(path: Path, threshold: float) -> tuple[list[str], Path]:
    """Set plates.sure_confidence in every lane of the config file; returns the lanes and the backup."""
    lanes = tomllib.loads(path.read_text(encoding="utf-8")).get("lanes", [])
    # A lane without a plates table gets one; one with it gets the key set where the table is written.
    edits = [(("lanes", i, "plates"), {"sure_confidence": threshold}) if "plates" in lane
             else (("lanes", i), {"plates": {"sure_confidence": threshold}}) for i, lane in enumerate(lanes)]
    return [lane["id"] for lane in lanes], set_tables(path, edits)
