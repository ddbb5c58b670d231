"""`edge faces calibrate|enrol` and the benchmarks `edge bench faces DIR`, `edge bench search --size N`."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from edge.commands.config import load_for_command
from edge.config import DEFAULT_CONFIG, FacesConfig


def register(sub: argparse._SubParsersAction) -> None:
    faces = sub.add_parser("faces", help="face matching: calibrate the threshold, enrol faces")
    faces_sub = faces.add_subparsers(dest="faces_command", required=True, metavar="ACTION")

    calibrate = faces_sub.add_parser(
        "calibrate", help="pick the threshold for a target false-match rate on a pairs folder; write it to config"
    )
    calibrate.add_argument("folder", type=Path, help="a folder with pairs.tsv (every different-identity pair is used)")
    calibrate.add_argument("--target-fmr", type=float, default=0.001, help="false-match rate to hold (default 0.001)")
    calibrate.add_argument("--config", default=str(DEFAULT_CONFIG), help="config file to update (a .bak is kept)")
    calibrate.add_argument("--dry-run", action="store_true", help="print the threshold, leave the config alone")
    calibrate.set_defaults(func=_calibrate)

    enrol = faces_sub.add_parser("enrol", help="enrol faces from images, or a folder of identities")
    enrol.add_argument(
        "paths",
        nargs="+",
        type=Path,
        help="images of --person, or one folder (identities.csv or a sub-folder per person)",
    )
    enrol.add_argument("--person", help="person id for the images given")
    enrol.add_argument("--store", type=Path, help="templates file (default: STATE_DIR/faces/enrolled.sqlite)")
    enrol.add_argument("--config", default=str(DEFAULT_CONFIG), help="config file (default: the demo checkpoint)")
    enrol.set_defaults(func=_enrol)


def register_bench(bench_sub: argparse._SubParsersAction) -> None:
    faces = bench_sub.add_parser("faces", help="face verification (pairs.tsv) or identification on a folder")
    faces.add_argument("folder", type=Path)
    faces.add_argument(
        "--impostors",
        choices=("pairs", "all"),
        default="pairs",
        help="impostor pairs: those of pairs.tsv, or every different-identity pair among the images",
    )
    faces.add_argument("--identify", action="store_true", help="1:N: enrol one image per identity, probe with the rest")
    faces.add_argument("--fused", type=int, metavar="N",
                       help="1:1 as the kiosk does it: N images of a person fused, against one other image of theirs")
    faces.add_argument("--config", default=str(DEFAULT_CONFIG), help="config whose [faces] settings are measured")
    _model_options(faces)
    faces.set_defaults(func=_bench_faces)

    frames = bench_sub.add_parser(
        "face-frames", help="detection + quality per 1280x720 frame of the synthetic lane, encoding per face"
    )
    frames.add_argument("--frames", type=int, default=40)
    frames.add_argument("--seed", type=int, default=1)
    frames.add_argument("--step", type=float, default=0.2, help="seconds of scene time between frames")
    frames.add_argument("--config", default=str(DEFAULT_CONFIG))
    _model_options(frames)
    frames.set_defaults(func=_bench_frames)

    search = bench_sub.add_parser("search", help="1:N search latency and recall at N enrolled templates")
    search.add_argument("--size", type=int, required=True, help="number of enrolled templates")
    search.add_argument("--queries", type=int, default=1000)
    search.add_argument("--kind", choices=("auto", "exact", "hnsw"), help="index kind (default: as config says)")
    search.add_argument(
        "--templates",
        choices=("faces", "uniform"),
        default="faces",
        help="synthetic templates shaped like real face descriptors, or uniform in 128-d (the hard case)",
    )
    search.add_argument("--ef", default="", help="HNSW search breadths to measure besides the shipped one: 400,1200")
    search.add_argument("--delta", type=int, default=1000,
                        help="templates removed and added after the reload, as a watchlist bundle would")
    search.add_argument("--config", default=str(DEFAULT_CONFIG))
    search.set_defaults(func=_bench_search)


def _calibrate(args: argparse.Namespace) -> int:
    from edge.bench.faces import calibration_scores
    from edge.faces.datasets import FaceDatasetError
    from edge.faces.evaluation import false_non_match_rate, threshold_at_rate
    from edge.faces.stills import ImageError
    from edge.faces.threshold_file import ThresholdFileError, write_threshold

    config = load_for_command(args.config)
    try:
        if not 0 < args.target_fmr < 1:
            raise ValueError(f"--target-fmr must be between 0 and 1, got {args.target_fmr}")
        needed = math.ceil(1 / args.target_fmr)
        genuine, impostors, failed = calibration_scores(args.folder, config.faces, needed)
        threshold = threshold_at_rate(impostors, args.target_fmr)
    except (FaceDatasetError, ImageError, ValueError) as exc:
        print(f"cannot calibrate: {exc}")
        return 2
    fnmr = false_non_match_rate(genuine, threshold, failed)
    print(f"{len(impostors)} impostor and {len(genuine) + failed} genuine pairs ({failed} without a face)")
    print(f"threshold {threshold:.6f} holds FMR at or below {args.target_fmr}; FNMR there {fnmr:.4f}")
    if not args.dry_run:
        try:
            backup = write_threshold(Path(args.config), threshold)
        except ThresholdFileError as exc:
            print(f"cannot write the threshold: {exc}")
            return 2
        print(f"wrote [faces] threshold = {threshold!r} to {args.config} (previous file kept as {backup})")
    print(
        json.dumps(
            {
                "threshold": threshold,
                "target_fmr": args.target_fmr,
                "fnmr": fnmr,
                "impostors": len(impostors),
                "genuine": len(genuine) + failed,
            }
        )
    )
    return 0


def _enrol(args: argparse.Namespace) -> int:
    from edge.faces.encoding import face_encoder
    from edge.faces.enrolled_store import EnrolledStore
    from edge.faces.enrolment import enrol, folder_images
    from edge.faces.stills import still_observer

    config = load_for_command(args.config)
    if args.person:
        images = [(path, args.person) for path in args.paths]
    elif len(args.paths) == 1 and args.paths[0].is_dir():
        try:
            images = folder_images(args.paths[0])
        except ValueError as exc:
            print(f"cannot enrol: {exc}")
            return 2
    else:
        print("cannot enrol: give --person for images, or a single folder of identities")
        return 2
    store_path = args.store or config.state_dir / "faces" / "enrolled.sqlite"
    with EnrolledStore(store_path) as store:
        outcomes = enrol(
            images, store, still_observer(config.faces), face_encoder(config.faces)
        )
    for o in outcomes:
        if o.template_id:
            print(f"enrolled {o.image} as {o.template_id} (person {o.person_id}, quality {o.quality:.2f})")
        else:
            print(f"refused  {o.image} (person {o.person_id}): {o.reason}")
    refused = sum(o.template_id is None for o in outcomes)
    print(f"{len(outcomes) - refused} enrolled, {refused} refused, into {store_path}")
    return 1 if refused else 0


def _model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--encoder", choices=("onnx", "dlib"), help="the face encoder measured (default: the config's)")
    parser.add_argument("--detector", choices=("yunet", "hog"), help="the face detector measured (default: config)")


def _faces_config(args: argparse.Namespace) -> FacesConfig:
    """The config's [faces], with the encoder and detector the command line names."""
    faces = load_for_command(args.config).faces
    chosen = {name: getattr(args, name) for name in ("encoder", "detector") if getattr(args, name)}
    # Validated again: jitters need the dlib encoder.
    return FacesConfig.model_validate({**faces.model_dump(), **chosen}) if chosen else faces


def _bench_faces(args: argparse.Namespace) -> int:
    from edge.bench.faces import fused_verification, identification, verification
    from edge.faces.datasets import FaceDatasetError
    from edge.faces.stills import ImageError

    faces = _faces_config(args)
    try:
        if args.fused:
            result = fused_verification(args.folder, faces, args.fused)
        elif args.identify:
            result = identification(args.folder, faces)
        else:
            result = verification(args.folder, faces, all_impostors=args.impostors == "all")
    except (FaceDatasetError, ImageError) as exc:
        print(f"cannot benchmark: {exc}")
        return 2
    print(json.dumps(result))
    return 0


def _bench_frames(args: argparse.Namespace) -> int:
    from edge.bench.face_frames import run

    print(json.dumps(run(_faces_config(args), args.frames, args.seed, args.step)))
    return 0


def _bench_search(args: argparse.Namespace) -> int:
    from edge.bench.search import run

    config = load_for_command(args.config)
    try:
        breadths = tuple(int(ef) for ef in args.ef.split(",") if ef.strip())
    except ValueError:
        breadths = (0,)
    if args.size < 1 or args.queries < 1 or args.delta < 0 or any(ef < 1 for ef in breadths):
        print("--size and --queries must be at least 1, --delta at least 0, --ef whole numbers from 1")
        return 2
    kind = args.kind or config.faces.index
    print(json.dumps(run(args.size, args.queries, kind, config.faces.exact_max, config.faces.top_k, args.templates,
                         delta=args.delta, breadths=breadths)))
    return 0
