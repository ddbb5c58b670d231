"""`edge synth ...`: write synthetic plate datasets and scene videos; `edge bench synth`: render speed."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from edge.synthetic import Scene, SceneTruth

_VIDEO_SUFFIXES = {".mp4": "mp4v", ".avi": "MJPG"}
_EXIT_BAD_INPUT = 2


def register(sub: argparse._SubParsersAction) -> None:
    synth = sub.add_parser("synth", help="synthetic plates and crossing scenes for development and tests")
    synth_sub = synth.add_subparsers(dest="synth_command", required=True, metavar="WHAT")

    plates = synth_sub.add_parser("plates", help="write a plate dataset (the contract of edge/plates/dataset.py)")
    plates.add_argument("directory", type=Path)
    plates.add_argument("--count", type=int, default=100)
    plates.add_argument("--seed", type=int, default=0)
    plates.add_argument("--crops", action="store_true", help="plate crops + labels.csv instead of whole frames")
    plates.add_argument("--regions", help="comma-separated region codes (default: all), e.g. us-ca,de,br")
    plates.add_argument("--lettering", type=int, default=0, metavar="N",
                        help="frames: paint up to N pieces of vehicle lettering (not plates) beside the plate")
    plates.set_defaults(func=_plates)

    scene = synth_sub.add_parser("scene", help="render a lane's scene to a video (.mp4/.avi) or a frames folder")
    scene.add_argument("output", type=Path)
    scene.add_argument("--lane", default="lane-1")
    scene.add_argument("--seed", type=int, default=1)
    scene.add_argument("--seconds", type=float, default=20.0)
    scene.add_argument("--start", type=float, help="scene time of the first frame (default: now)")
    scene.add_argument("--fps", type=float, default=10.0)
    scene.add_argument("--camera", choices=("plate", "face", "both"), default="both",
                       help="both: the two cameras side by side at half size")
    scene.add_argument("--overlay", action="store_true", help="draw the ground truth (phase, plate quad, face box)")
    scene.set_defaults(func=_scene)


def register_bench(bench_sub: argparse._SubParsersAction) -> None:
    bench = bench_sub.add_parser("synth", help="synthetic scene render time per frame, both cameras")
    bench.add_argument("--frames", type=int, default=200, help="frames per camera")
    bench.add_argument("--lane", default="lane-1")
    bench.add_argument("--seed", type=int, default=1)
    bench.set_defaults(func=_bench)


def _regions(text: str | None) -> list[str] | None:
    return [r.strip() for r in text.split(",") if r.strip()] if text else None


def _plates(args: argparse.Namespace) -> int:
    from edge.synthetic import write_plate_crops, write_plate_frames

    if args.count < 1:
        print("--count must be at least 1", file=sys.stderr)
        return _EXIT_BAD_INPUT
    try:
        if args.crops:
            paths = write_plate_crops(args.directory, args.count, args.seed, regions=_regions(args.regions))
        else:
            paths = write_plate_frames(args.directory, args.count, args.seed, regions=_regions(args.regions),
                                       lettering=args.lettering)
    except ValueError as exc:
        print(f"edge synth plates: {exc}", file=sys.stderr)
        return _EXIT_BAD_INPUT
    kind = "crops" if args.crops else "frames"
    print(json.dumps({"directory": str(args.directory), kind: len(paths), "seed": args.seed}))
    return 0


def _overlay(frame: np.ndarray, camera: str, truth: SceneTruth) -> None:
    label = f"{truth.phase} {truth.plate_text or ''} {'LOOP' if truth.loop_occupied else ''}"
    cv2.putText(frame, label, (20, 40), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 255, 255), 2, cv2.LINE_AA)
    if camera == "plate" and truth.plate_quad is not None:
        quad = np.round(np.array(truth.plate_quad)).astype(np.int32)
        cv2.polylines(frame, [quad], True, (0, 0, 255), 2, cv2.LINE_AA)
    if camera == "face" and truth.face_box is not None:
        x, y, w, h = (round(v) for v in truth.face_box)
        cv2.rectangle(frame, (x, y), (x + w, y + h), (0, 255, 0), 2, cv2.LINE_AA)


def _scene_frame(scene: Scene, camera: str, t: float, overlay: bool) -> np.ndarray:
    cameras = ("plate", "face") if camera == "both" else (camera,)
    frames = []
    for cam in cameras:
        frame = scene.render(cam, t)
        if overlay:
            _overlay(frame, cam, scene.truth_at(t))
        frames.append(frame)
    if len(frames) == 1:
        return frames[0]
    return np.hstack([cv2.resize(f, (640, 360), interpolation=cv2.INTER_AREA) for f in frames])


def _scene(args: argparse.Namespace) -> int:
    from edge.synthetic import scene_for

    if args.seconds <= 0 or args.fps <= 0:
        print("--seconds and --fps must be positive", file=sys.stderr)
        return _EXIT_BAD_INPUT
    start = time.time() if args.start is None else args.start
    scene = scene_for(args.lane, args.seed)
    count = max(1, round(args.seconds * args.fps))
    codec = _VIDEO_SUFFIXES.get(args.output.suffix.lower())
    writer = None
    if codec is None:
        args.output.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        t = start + i / args.fps
        frame = _scene_frame(scene, args.camera, t, args.overlay)
        if codec is None:
            cv2.imwrite(str(args.output / f"frame_{i:05d}.jpg"), frame, [cv2.IMWRITE_JPEG_QUALITY, 92])
            continue
        if writer is None:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            writer = cv2.VideoWriter(str(args.output), cv2.VideoWriter.fourcc(*codec), args.fps,
                                     (frame.shape[1], frame.shape[0]))
            if not writer.isOpened():
                print(f"cannot write video {args.output} (codec {codec}); give a folder instead", file=sys.stderr)
                return _EXIT_BAD_INPUT
        writer.write(frame)
    if writer is not None:
        writer.release()
    print(json.dumps({"output": str(args.output), "frames": count, "lane": args.lane, "seed": args.seed,
                      "start": start}))
    return 0


def _bench(args: argparse.Namespace) -> int:
    from edge.synthetic import scene_for
    from edge.synthetic.timeline import DAY_SLOTS, NIGHT_SLOTS, SLOT_S

    scene = scene_for(args.lane, args.seed)
    start = 1_800_000_000.0
    # One whole day/night cycle, spread so that every phase and both lightings show.
    cycle = (DAY_SLOTS + NIGHT_SLOTS) * SLOT_S
    step = cycle / max(1, args.frames)
    # Backgrounds are cast once per scene and lighting, not per frame: make them before timing.
    for t in np.arange(start, start + cycle, SLOT_S):
        for camera in ("plate", "face"):
            scene.background(camera, scene.truth_at(float(t)).night)
    times: dict[str, list[float]] = {"plate": [], "face": []}
    cpu: list[float] = []
    for i in range(args.frames):
        t = start + i * step
        for camera in times:
            began, began_cpu = time.perf_counter(), time.process_time()
            scene.render(camera, t)
            times[camera].append((time.perf_counter() - began) * 1000)
            # CPU time of the whole process: what the render costs when the machine is busy with others.
            cpu.append((time.process_time() - began_cpu) * 1000)
    every = times["plate"] + times["face"]
    result = {
        "frames": len(every),
        "median_ms": round(float(np.median(every)), 2),
        "p95_ms": round(float(np.percentile(every, 95)), 2),
        "cpu_median_ms": round(float(np.median(cpu)), 2),
        "cpu_p95_ms": round(float(np.percentile(cpu, 95)), 2),
        "plate_median_ms": round(float(np.median(times["plate"])), 2),
        "face_median_ms": round(float(np.median(times["face"])), 2),
    }
    print(json.dumps(result))
    return 0
