"""`edge alpr IMAGE...` reads plates in images; `edge bench alpr DIR` measures it on a labelled folder."""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from edge.plates.dataset import DatasetError, is_crops_folder, load_crops, load_frames
from edge.plates.formats import BUILTIN_REGIONS
from edge.plates.pipeline import PlateReader, ReaderSettings
from edge.plates.reads import FrameRead


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("alpr", help="read licence plates in image files (prints JSON lines)")
    parser.add_argument("images", nargs="+", type=Path, help="frames (or plate crops with --crop)")
    parser.add_argument("--crop", action="store_true", help="the images are plate crops: read the main line")
    _add_reader_options(parser)
    parser.set_defaults(func=_read_images)


def register_bench(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "alpr", help="plate reading on a labelled folder: frames end to end, or crops (labels.csv) OCR only")
    parser.add_argument("folder", type=Path, help="a plate frames folder or a plate crops folder")
    parser.add_argument("--limit", type=int, default=0, help="read only the first N images (0: all)")
    parser.add_argument("--verbose", action="store_true", help="print one line per image before the JSON")
    _add_reader_options(parser)
    parser.set_defaults(func=_bench)


def _add_reader_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", action="append", dest="regions", metavar="CODE",
                        help=f"plate region format (repeatable; default any): {', '.join(BUILTIN_REGIONS)}")
    parser.add_argument("--candidates", type=int, default=ReaderSettings.candidates,
                        help="candidate text rows read per frame")
    parser.add_argument("--ranking", choices=("rows", "detector"), default=ReaderSettings.ranking,
                        help="order of a frame's rows: the row search's own, or the HOG plate detector's score")


def _reader(args: argparse.Namespace) -> PlateReader:
    regions = tuple(args.regions or ("any",))
    return PlateReader(ReaderSettings(regions=regions, candidates=args.candidates, ranking=args.ranking))


def _load(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise DatasetError(f"{path}: not a readable image")
    return image


def _describe(read: FrameRead | None) -> dict:
    if read is None:
        return {"text": None}
    return {"text": read.text, "region": read.region, "confidence": round(read.confidence, 4),
            "char_confidences": [round(c, 4) for c in read.char_confidences],
            "quad": [[round(x, 1), round(y, 1)] for x, y in read.quad]}


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
        except DatasetError as exc:
            print(f"edge alpr: {exc}", file=sys.stderr)
            status = 1
            continue
        reads = [reader.read_crop(image)] if args.crop else (reader.read_frame(image) or [None])
        print(json.dumps({"image": str(path), "reads": [_describe(r) for r in reads]}))
    return status


def _rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as stream:
        pages = int(stream.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


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


def _inside(read: FrameRead, box: tuple[int, int, int, int]) -> bool:
    cx = sum(p[0] for p in read.quad) / 4
    cy = sum(p[1] for p in read.quad) / 4
    x, y, w, h = box
    return x <= cx <= x + w and y <= cy <= y + h


def _bench(args: argparse.Namespace) -> int:
    rss_before = _rss_mb()
    try:
        reader = _reader(args)
        crops = is_crops_folder(args.folder)
        items = load_crops(args.folder) if crops else load_frames(args.folder)
    except (ValueError, OSError) as exc:
        print(f"edge bench alpr: {exc}", file=sys.stderr)
        return 2
    if args.limit > 0:
        items = items[: args.limit]
    default_region = (args.regions or ["any"])[0]
    timings: list[float] = []
    # CPU time (all threads of the process) per image: a figure that other load on the machine
    # does not inflate the way it inflates wall time.
    cpu_timings: list[float] = []
    exact = localised = 0
    for item in items:
        try:
            image = _load(item.image)
        except DatasetError as exc:
            print(f"edge bench alpr: {exc}", file=sys.stderr)
            return 2
        start = time.perf_counter()
        cpu_start = time.process_time()
        if crops:
            read = reader.read_crop(image, _crop_region(item.region, default_region))
        else:
            reads = reader.read_frame(image)
            read = reads[0] if reads else None
        timings.append((time.perf_counter() - start) * 1000)
        cpu_timings.append((time.process_time() - cpu_start) * 1000)
        text = read.text if read else None
        exact += text == item.plate
        if not crops and read is not None and _inside(read, item.box):
            localised += 1
        if args.verbose:
            print(f"{item.image.name}\t{item.plate}\t{text}\t{'ok' if text == item.plate else 'WRONG'}")
    result = {
        "images": len(items),
        "exact": exact,
        "accuracy": round(exact / len(items), 4),
        "median_ms": round(statistics.median(timings), 2),
        "p95_ms": round(float(np.percentile(timings, 95)), 2),
        "cpu_median_ms": round(statistics.median(cpu_timings), 2),
        "mode": "crops" if crops else "frames",
        "regions": list(args.regions or ["any"]),
        "ranking": args.ranking,
        "rss_added_mb": round(_rss_mb() - rss_before, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if not crops:
        result["localised"] = round(localised / len(items), 4)
    print(json.dumps(result))
    return 0
