"""`edge calibrate focus|exposure|plate|face|shutter|roi|warp|lens|drift`: the technician's camera set-up.

Every subcommand measures on image files, a camera URL, or a lane's configured camera, prints
what it found in words, and ends with one JSON object on the last line (for scripts and the
technician page). Exit codes: 0 fine, 1 measured but outside its target, 2 unusable input,
3 drift alarm. roi, warp and lens write their result into the lane's camera in the config
(comments kept, FILE.bak made) unless --dry-run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from edge.commands.config import load_for_command
from edge.config import DEFAULT_CONFIG, CameraConfig, EdgeConfig, RegionOfInterest

EXIT_OK, EXIT_OUTSIDE_TARGET, EXIT_BAD_INPUT, EXIT_DRIFT = 0, 1, 2, 3
CAMERAS = ("plate", "face")


class _Refused(Exception):
    """Input the command cannot work with; the message is printed and the exit code is 2."""


def register(sub: argparse._SubParsersAction) -> None:
    calibrate = sub.add_parser("calibrate", help="set up and check cameras: focus, exposure, sizes, ROI, lens, drift")
    actions = calibrate.add_subparsers(dest="calibrate_command", required=True, metavar="MEASURE")

    focus = _with_source(actions.add_parser("focus", help="focus score (variance of the Laplacian); higher is sharper"))
    focus.set_defaults(func=partial(_run, _focus))
    exposure = _with_source(actions.add_parser("exposure", help="brightness histogram and clipped share"))
    exposure.set_defaults(func=partial(_run, _exposure))
    plate = _with_source(actions.add_parser("plate", help="plate character height in pixels (target: 15 or more)"))
    plate.set_defaults(func=partial(_run, _plate))
    face = _with_source(actions.add_parser("face", help="inter-eye distance in pixels (target: 90 or more)"),
                        camera="face")  # fmt: skip
    face.set_defaults(func=partial(_run, _face))

    shutter = _with_source(actions.add_parser("shutter", help="longest exposure for at most 1 px of motion blur"))
    shutter.add_argument("--speed-kmh", type=float, help="vehicle speed (default: [calibration] vehicle_speed_kmh)")
    shutter.add_argument("--px-per-m", type=float, help="image scale at the plate; default: measured from a plate")
    shutter.add_argument("--char-height-mm", type=float, default=75.0,
                         help="real height of plate characters (75 EU, about 70 US)")  # fmt: skip
    shutter.set_defaults(func=partial(_run, _shutter))

    roi = _with_source(actions.add_parser("roi", help="set the ROI around the four corners of a plate"), lane=True)
    _corner_arguments(roi)
    roi.set_defaults(func=partial(_run, _set_roi))
    warp = _with_source(
        actions.add_parser("warp", help="set the ROI and the perspective pre-warp from the four corners of a plate"),
        lane=True,
    )  # fmt: skip
    _corner_arguments(warp)
    warp.add_argument("--plate-size", help="real plate size WxH in mm (520x110 EU, 305x152 US); "
                                           "default: keep the plate's apparent proportions")  # fmt: skip
    warp.add_argument("--preview", type=Path, help="write the warped ROI of the first frame to this image file")
    warp.set_defaults(func=partial(_run, _set_warp))

    lens = _with_source(actions.add_parser("lens", help="lens intrinsics and distortion from checkerboard images"))
    lens.add_argument("--board", required=True, help="inner corners of the checkerboard, COLUMNSxROWS, e.g. 9x6")
    lens.add_argument("--square-mm", type=float, default=25.0, help="side of one square (default 25)")
    lens.add_argument("--dry-run", action="store_true", help="print the result, leave the config alone")
    lens.set_defaults(func=partial(_run, _set_lens))

    drift = _with_source(actions.add_parser("drift", help="compare today's view with the calibrated baseline"))
    drift.add_argument("--save-baseline", action="store_true", help="record these frames as the baseline")
    drift.add_argument("--baseline", type=Path,
                       help="baseline file (default: STATE_DIR/<[calibration] baseline_dir>/LANE-CAMERA.npz)")
    drift.set_defaults(func=partial(_run, _drift))


def _with_source(parser: argparse.ArgumentParser, *, camera: str = "plate",
                 lane: bool = False) -> argparse.ArgumentParser:  # fmt: skip
    parser.add_argument("images", nargs="*", type=Path, help="image files or folders (default: grab from a camera)")
    parser.add_argument("--url", help="camera URL to grab frames from (usb:0, rtsp://..., synthetic://lane-1/plate)")
    parser.add_argument("--lane", required=lane, help="lane id: its camera is the default source and target")
    parser.add_argument("--camera", choices=CAMERAS, default=camera, help=f"the lane's camera (default {camera})")
    parser.add_argument("--frames", type=int, default=3, help="frames to grab from a camera (default 3)")
    parser.add_argument("--every", type=float, default=0.0, help="seconds between grabbed frames (default 0)")
    parser.add_argument("--roi", help="measure inside x,y,width,height only (default: the lane camera's ROI)")
    parser.add_argument("--config", default=str(DEFAULT_CONFIG), help="config file (default: the demo checkpoint)")
    return parser


def _corner_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corners", nargs=4, required=True, metavar="X,Y",
                        help="plate corners in frame pixels: top-left top-right bottom-right bottom-left")  # fmt: skip
    parser.add_argument("--margin", type=float, default=1.0, help="ROI margin around the plate, in plate widths")
    parser.add_argument("--dry-run", action="store_true", help="print the result, leave the config alone")


# -- shared plumbing ----------------------------------------------------------------------------


def _run(action: Callable[[argparse.Namespace, EdgeConfig], int], args: argparse.Namespace) -> int:
    from edge.calibration.drift import DriftError
    from edge.calibration.frames import FramesError
    from edge.calibration.geometry import GeometryError
    from edge.calibration.lens import LensError
    from edge.config.edit import ConfigEditError

    config = load_for_command(args.config)
    try:
        return action(args, config)
    except (_Refused, FramesError, GeometryError, LensError, DriftError, ConfigEditError) as exc:
        print(f"edge calibrate {args.calibrate_command}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _lane_index(config: EdgeConfig, lane_id: str) -> int:
    for index, lane in enumerate(config.lanes):
        if lane.id == lane_id:
            return index
    raise _Refused(f"no lane {lane_id!r} in the config (lanes: {', '.join(lane.id for lane in config.lanes)})")


def _camera(config: EdgeConfig, args: argparse.Namespace) -> CameraConfig | None:
    if args.lane is None:
        return None
    lane = config.lanes[_lane_index(config, args.lane)]
    return lane.cameras.plate if args.camera == "plate" else lane.cameras.face


def _frames(args: argparse.Namespace, config: EdgeConfig) -> list[tuple[str, np.ndarray]]:
    from edge.calibration.frames import grab_frames, read_images

    if args.images:
        return read_images(args.images)
    camera = _camera(config, args)
    url = args.url or (camera.url if camera is not None else None)
    if url is None:
        raise _Refused("give image files, --url URL or --lane LANE to measure on")
    return grab_frames(url, args.frames, args.every)


def _region(args: argparse.Namespace, config: EdgeConfig) -> RegionOfInterest | None:
    """Where to measure: --roi, else the lane camera's ROI, else the whole frame."""
    if args.roi:
        try:
            x, y, width, height = (int(v) for v in args.roi.split(","))
            return RegionOfInterest(x=x, y=y, width=width, height=height)
        except ValueError:
            raise _Refused(f"--roi {args.roi!r} is not x,y,width,height in whole non-negative pixels") from None
    camera = _camera(config, args)
    return camera.roi if camera is not None else None


def _emit(result: dict[str, Any]) -> None:
    print(json.dumps(result, separators=(", ", ": ")))


def _write_camera(args: argparse.Namespace, config: EdgeConfig, values: dict[str, Any]) -> None:
    from edge.config.edit import literal, set_values

    table = ("lanes", _lane_index(config, args.lane), "cameras", args.camera)
    if args.dry_run:
        print(f"would set in lane {args.lane}, {args.camera} camera, of {args.config}:")
        for key, value in values.items():
            print(f"  {key} = {literal(value)}")
        return
    backup = set_values(Path(args.config), table, values)
    print(f"wrote {', '.join(values)} of lane {args.lane}'s {args.camera} camera to {args.config} "
          f"(previous file kept as {backup.name})")  # fmt: skip


# -- measurements -------------------------------------------------------------------------------


def _focus(args: argparse.Namespace, config: EdgeConfig) -> int:
    from edge.calibration.measures import focus_score

    roi = _region(args, config)
    scores = {name: focus_score(image, roi) for name, image in _frames(args, config)}
    for name, score in scores.items():
        print(f"{name}: focus {score:.1f}")
    median = statistics.median(scores.values())
    print(f"focus score {median:.1f} (median of {len(scores)}): turn the focus ring for the highest value")
    _emit({"focus": median, "images": scores})
    return EXIT_OK


def _exposure(args: argparse.Namespace, config: EdgeConfig) -> int:
    from edge.calibration.measures import exposure

    roi = _region(args, config)
    results = {name: exposure(image, roi) for name, image in _frames(args, config)}
    for name, found in results.items():
        verdict = "; ".join(found.problems) or "fine"
        print(f"{name}: mean grey {found.mean:.0f}, clipped {found.dark_clipped:.1%} black "
              f"{found.bright_clipped:.1%} white: {verdict}")  # fmt: skip
    _emit({name: {"mean": r.mean, "dark_clipped": r.dark_clipped, "bright_clipped": r.bright_clipped,
                  "histogram": list(r.histogram), "problems": list(r.problems)} for name, r in results.items()})
    return EXIT_OUTSIDE_TARGET if any(r.problems for r in results.values()) else EXIT_OK


def _plate_sizes(args: argparse.Namespace, config: EdgeConfig) -> dict[str, Any]:
    from edge.calibration.sizes import plate_size
    from edge.plates.pipeline import PlateReader, PlateReaderSettings

    roi = _region(args, config)
    reader = PlateReader(PlateReaderSettings(roi=None if roi is None else (roi.x, roi.y, roi.width, roi.height)))
    return {name: plate_size(image, reader, config.calibration.min_plate_char_px)
            for name, image in _frames(args, config)}  # fmt: skip


def _plate(args: argparse.Namespace, config: EdgeConfig) -> int:
    sizes = _plate_sizes(args, config)
    for name, size in sizes.items():
        if size is None:
            print(f"{name}: no plate characters found")
            continue
        what = f"plate {size.text}" if size.text else "no plate read; the most plate-like row of characters"
        verdict = "ok" if size.ok else f"too small, need {size.minimum_px:g} px: zoom in or move the camera closer"
        print(f"{name}: {what}: characters {size.char_height_px:.1f} px high: {verdict}")
    _emit({name: None if s is None else {"text": s.text, "char_height_px": s.char_height_px, "ok": s.ok,
                                         "quad": [list(p) for p in s.quad]} for name, s in sizes.items()})
    found = [s for s in sizes.values() if s is not None]
    if not found:
        return EXIT_BAD_INPUT
    return EXIT_OK if all(s.ok for s in found) else EXIT_OUTSIDE_TARGET


def _face(args: argparse.Namespace, config: EdgeConfig) -> int:
    from edge.calibration.sizes import face_size
    from edge.faces.detectors import frame_detector
    from edge.faces.observe import FaceObserver

    observer = FaceObserver(config.faces, frame_detector(config.faces))
    minimum = config.calibration.min_inter_eye_px
    sizes = {name: face_size(image, observer, minimum) for name, image in _frames(args, config)}
    for name, size in sizes.items():
        if size is None:
            print(f"{name}: no face found")
            continue
        verdict = "ok" if size.ok else f"too small, need {size.minimum_px:g} px: zoom in or frame the driver tighter"
        gates = f" (quality: {', '.join(size.problems)})" if size.problems else ""
        print(f"{name}: eyes {size.inter_eye_px:.1f} px apart: {verdict}{gates}")
    _emit({name: None if s is None else {"inter_eye_px": s.inter_eye_px, "ok": s.ok, "problems": list(s.problems),
                                         "box": [s.box.left, s.box.top, s.box.width, s.box.height]}
           for name, s in sizes.items()})  # fmt: skip
    found = [s for s in sizes.values() if s is not None]
    if not found:
        return EXIT_BAD_INPUT
    return EXIT_OK if all(s.ok for s in found) else EXIT_OUTSIDE_TARGET


def _shutter(args: argparse.Namespace, config: EdgeConfig) -> int:
    from edge.calibration.shutter import px_per_m_from_characters, shutter_advice

    speed = args.speed_kmh if args.speed_kmh is not None else config.calibration.vehicle_speed_kmh
    scale = args.px_per_m
    try:
        if scale is None:
            heights = [s.char_height_px for s in _plate_sizes(args, config).values() if s is not None and s.text]
            if not heights:
                raise _Refused("no plate read in the frames to measure the scale from; give --px-per-m")
            scale = px_per_m_from_characters(statistics.median(heights), args.char_height_mm)
        advice = shutter_advice(speed, scale, config.calibration.max_blur_px)
    except ValueError as exc:
        raise _Refused(str(exc)) from None
    print(advice.describe())
    _emit({"speed_kmh": advice.speed_kmh, "px_per_m": advice.px_per_m, "max_blur_px": advice.max_blur_px,
           "max_exposure_s": advice.max_exposure_s})  # fmt: skip
    return EXIT_OK


# -- geometry and lens: results written to the lane camera's config ------------------------------


def _plate_corners(args: argparse.Namespace, config: EdgeConfig) -> tuple[np.ndarray, RegionOfInterest, np.ndarray]:
    """The corners given, the ROI around them, and the frame they were given on."""
    from edge.calibration.geometry import parse_corners, roi_around

    corners = parse_corners(args.corners)
    _, frame = _frames(args, config)[0]
    height, width = frame.shape[:2]
    return corners, roi_around(corners, width, height, args.margin), frame


def _set_roi(args: argparse.Namespace, config: EdgeConfig) -> int:
    camera = _camera(config, args)
    if camera is not None and camera.warp is not None:
        raise _Refused(f"lane {args.lane}'s {args.camera} camera has a perspective warp measured on its current "
                       "ROI; run `edge calibrate warp` with the corners instead (it sets both)")  # fmt: skip
    _, roi, _ = _plate_corners(args, config)
    print(f"ROI {roi.x},{roi.y} {roi.width}x{roi.height}")
    _write_camera(args, config, {"roi": roi.model_dump()})
    _emit({"roi": roi.model_dump()})
    return EXIT_OK


def _plate_aspect(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        width, height = (float(v) for v in text.lower().split("x"))
    except ValueError:
        raise _Refused(f"--plate-size {text!r} is not WIDTHxHEIGHT in mm, e.g. 520x110") from None
    if not (width > 0 and height > 0):
        raise _Refused(f"--plate-size {text!r} must be positive")
    return width / height


def _set_warp(args: argparse.Namespace, config: EdgeConfig) -> int:
    import cv2

    from edge.calibration.geometry import apply_warp, warp_for_plate, warp_points

    corners, roi, frame = _plate_corners(args, config)
    warp = warp_for_plate(corners, roi, _plate_aspect(args.plate_size))
    (left, top), (right, _), (_, bottom), _ = warp_points(corners, roi, warp)
    print(f"ROI {roi.x},{roi.y} {roi.width}x{roi.height}, warped to {warp.width}x{warp.height}; "
          f"the plate becomes an upright {right - left:.0f}x{bottom - top:.0f} px rectangle")  # fmt: skip
    if args.preview is not None:
        if not cv2.imwrite(str(args.preview), apply_warp(frame, roi, warp)):
            raise _Refused(f"cannot write the preview to {args.preview} (folder missing, or not an image suffix?)")
        print(f"preview of the warped ROI: {args.preview}")
    _write_camera(args, config, {"roi": roi.model_dump(), "warp": warp.model_dump()})
    _emit({"roi": roi.model_dump(), "warp": warp.model_dump()})
    return EXIT_OK


def _set_lens(args: argparse.Namespace, config: EdgeConfig) -> int:
    from edge.calibration.lens import Board, calibrate_lens

    try:
        columns, rows = (int(v) for v in args.board.lower().split("x"))
    except ValueError:
        raise _Refused(f"--board {args.board!r} is not COLUMNSxROWS of inner corners, e.g. 9x6") from None
    if not args.square_mm > 0:
        raise _Refused(f"--square-mm must be positive, got {args.square_mm!r}")
    result = calibrate_lens(_frames(args, config), Board(columns, rows, args.square_mm))
    lens = result.to_config()
    print(f"board found in {len(result.used)} of {len(result.used) + len(result.rejected)} images"
          + (f" (not in: {', '.join(result.rejected)})" if result.rejected else ""))  # fmt: skip
    print(f"fx {lens.fx:.1f} fy {lens.fy:.1f} cx {lens.cx:.1f} cy {lens.cy:.1f} px, distortion "
          f"{' '.join(f'{d:+.4f}' for d in lens.distortion)}, RMS reprojection error {lens.rms_px:.3f} px")  # fmt: skip
    if args.lane is not None:
        _write_camera(args, config, {"lens": lens.model_dump()})
    _emit({"lens": lens.model_dump(), "used": list(result.used), "rejected": list(result.rejected)})
    return EXIT_OK


def _drift(args: argparse.Namespace, config: EdgeConfig) -> int:
    from edge.calibration.drift import compare, load_baseline, save_baseline, signature

    if args.baseline is not None:
        path = args.baseline
    elif args.lane is not None:
        _lane_index(config, args.lane)
        path = config.state_dir / config.calibration.baseline_dir / f"{args.lane}-{args.camera}.npz"
    else:
        raise _Refused("give --lane LANE (its baseline lives in the state dir) or --baseline FILE")
    frames = _frames(args, config)
    today = signature([image for _, image in frames])
    if args.save_baseline:
        save_baseline(path, today)
        print(f"baseline of {len(frames)} frames saved to {path}")
        _emit({"baseline": str(path), "frames": len(frames)})
        return EXIT_OK
    report = compare(load_baseline(path), today, config.calibration.drift)
    print(f"focus {report.focus_ratio:.0%} of the baseline, brightness {report.brightness_change:+.0f}, "
          f"clipped {report.clipped_increase:+.1%}, moved {report.shift_px[0]:+.1f},{report.shift_px[1]:+.1f} px, "
          f"similarity {report.similarity:.2f}")  # fmt: skip
    where = f"lane {args.lane} {args.camera} camera" if args.lane else str(path)
    for alarm in report.alarms:
        print(f"ALARM {where}: {alarm}")
    _emit({"focus_ratio": report.focus_ratio, "brightness_change": report.brightness_change,
           "clipped_increase": report.clipped_increase, "shift_px": list(report.shift_px),
           "similarity": report.similarity, "alarms": list(report.alarms)})  # fmt: skip
    return EXIT_DRIFT if report.alarms else EXIT_OK
