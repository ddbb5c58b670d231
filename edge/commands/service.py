"""`edge service install`: install the crossing as a systemd service (user, directories, config, unit)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edge.config import ConfigError

EXIT_CANNOT_INSTALL = 2
EXAMPLE_CONFIG = Path(__file__).resolve().parent.parent.parent / "config" / "example-lane.toml"


def register(sub: argparse._SubParsersAction) -> None:
    service = sub.add_parser("service", help="run the crossing as a systemd service")
    service_sub = service.add_subparsers(dest="service_command", required=True, metavar="ACTION")
    install = service_sub.add_parser(
        "install", help="create the checkpoint-edge user and directories, install the config and the unit"
    )
    install.add_argument("--root", type=Path, default=Path("/"), help="install under this prefix (default /)")
    install.add_argument(
        "--config", type=Path, default=EXAMPLE_CONFIG,
        help="config to install as /etc/checkpoint-edge/edge.toml when none is there yet "
             "(default: config/example-lane.toml); an existing one is kept and used",
    )  # fmt: skip
    install.add_argument("--exec", dest="executable", type=Path,
                         help="the `edge` the unit runs (default: the one of this Python environment)")
    install.add_argument("--dry-run", action="store_true", help="print every step and the unit, change nothing")
    install.set_defaults(func=_install)


def _install(args: argparse.Namespace) -> int:
    from edge.service.install import InstallError, default_executable, install_plan, unit_of

    root = args.root.absolute()
    try:
        steps = install_plan(root, args.config, args.executable or default_executable())
    except ConfigError as exc:
        print(f"cannot install: config error in {exc.path}:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_CANNOT_INSTALL
    except InstallError as exc:
        print(f"cannot install: {exc}", file=sys.stderr)
        return EXIT_CANNOT_INSTALL
    where = "" if root == Path("/") else f" under {root}"
    if args.dry_run:
        print(f"would install{where}:")
        for step in steps:
            print(f"  {step.describe()}")
        print("unit:")
        print(unit_of(steps), end="")
        return 0
    for step in steps:
        try:
            print(step.apply(root))
        except (InstallError, OSError) as exc:
            print(f"cannot install: {step.describe()}: {exc}", file=sys.stderr)
            return EXIT_CANNOT_INSTALL
    print(f"installed{where}; start it with:")
    print("  systemctl daemon-reload && systemctl enable --now checkpoint-edge")
    print("  journalctl -u checkpoint-edge -f")
    return 0
