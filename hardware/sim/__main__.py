"""`python -m hardware.sim barrier|reader [--tcp PORT | --pty [--link PATH]] [--control-port PORT] ...`

On start it prints one JSON line: {"device", "url" (what the product opens), "control" (host:port)}.
Then it takes commands on the control port and on stdin, answering each with one JSON line.
"""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path

from hardware.reader_framing import FRAMINGS
from hardware.sim.barrier_sim import BarrierSim, BarrierWiring, Motion
from hardware.sim.ports import PtyPort, SimPort, TcpPort
from hardware.sim.reader_sim import ReaderSim
from hardware.sim.runtime import Output, SimDevice, SimRuntime


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m hardware.sim", description=__doc__.splitlines()[2])
    sub = parser.add_subparsers(dest="device", required=True)
    barrier = sub.add_parser("barrier", help="Modbus RTU relay board and barrier (see barrier_sim.py for commands)")
    wiring, motion = BarrierWiring(), Motion()
    barrier.add_argument("--unit", type=int, default=wiring.unit_id, help="Modbus unit id")
    barrier.add_argument("--open-coil", type=int, default=wiring.open_coil)
    barrier.add_argument("--close-coil", type=int, default=wiring.close_coil)
    barrier.add_argument("--loop-input", type=int, default=wiring.loop_input)
    barrier.add_argument("--up-input", type=int, default=wiring.arm_up_input)
    barrier.add_argument("--down-input", type=int, default=wiring.arm_down_input)
    barrier.add_argument("--motor-delay", type=float, default=motion.motor_delay_s, help="seconds")
    barrier.add_argument("--travel", type=float, default=motion.travel_s, help="seconds, down to up")
    barrier.add_argument("--close-after", type=float, default=motion.close_after_s, help="seconds up before closing")
    reader = sub.add_parser("reader", help="document reader (see reader_sim.py for commands)")
    reader.add_argument("--framing", choices=FRAMINGS, default="lines")
    for p in (barrier, reader):
        where = p.add_mutually_exclusive_group()
        where.add_argument("--tcp", type=int, metavar="PORT", help="listen on this TCP port (0: any free port)")
        where.add_argument("--pty", action="store_true", help="make a pty pair and serve its master side")
        p.add_argument("--link", type=Path, help="with --pty: keep a symlink to the slave here (a stable name)")
        p.add_argument("--host", default="127.0.0.1", help="address to listen on (TCP and control)")
        p.add_argument("--control-port", type=int, default=0, help="TCP port for commands (0: any free port)")
        p.add_argument("--seed", type=int, default=0, help="seed of the random bytes faults send")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.link is not None and not args.pty:
        parser.error("--link needs --pty")
    output = Output()
    device: SimDevice
    if args.device == "barrier":
        wiring = BarrierWiring(args.unit, args.open_coil, args.close_coil, args.loop_input, args.up_input,
                               args.down_input)
        device = BarrierSim(wiring, Motion(args.motor_delay, args.travel, args.close_after), output, args.seed)
    else:
        device = ReaderSim(args.framing, output, args.seed)
    port: SimPort = PtyPort(args.link) if args.pty else TcpPort(args.host, args.tcp or 0)
    control = socket.create_server((args.host, args.control_port))
    try:
        SimRuntime(args.device, device, output, port, control).run()
    except KeyboardInterrupt:
        pass
    finally:
        port.unplug()
        control.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
