"""`edge run`: start the crossing described by a config file (the demo checkpoint by default)."""

from __future__ import annotations

import argparse

from edge.commands.config import load_for_command
from edge.config import DEFAULT_CONFIG
from edge.service.allocator import cap_arenas
from edge.service.logs import configure_logging


def register(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser("run", help="run the crossing: lanes, devices and the kiosk")
    run.add_argument("--config", default=str(DEFAULT_CONFIG), help="config file (default: the demo checkpoint)")
    run.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    # Before any lane, camera or inference thread exists: each would otherwise get an arena of its own.
    cap_arenas()
    config = load_for_command(args.config)
    configure_logging(config.logging)
    # Imported here so that `edge config check` stays fast and free of OpenCV/uvicorn start-up.
    from edge.service.runner import run_service

    return run_service(config)
