"""`edge device ...`: a technician drives a lane's serial devices directly; `edge bench faults`.

  edge device barrier open --lane 1     pulse OPEN once (recorded first), wait for the arm to go up
  edge device barrier status --lane 1   read the inputs and print the barrier's status
  edge device reader listen --lane 1    print what the document reader sends, as JSON lines

`--lane` takes a lane id from the config, or its 1-based position. Every barrier command goes
into the crossing's audit log (durable before it is sent) and to the centre through the outbox,
like the service's own. The service holds the audit log and the lane's serial lines while it runs,
so `barrier open` refuses then and names the way that works (the technician page's barrier test).
"""

from __future__ import annotations

import argparse
import getpass
import json
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from edge.commands.config import EXIT_BAD_CONFIG, load_for_command
from edge.config import DEFAULT_CONFIG, EdgeConfig, LaneConfig
from edge.recording.audit import AuditBusy, AuditError, AuditLog
from edge.recording.outbox.queue import Outbox
from edge.recording.recorder import Recorder, outbox_marker
from hardware.barrier import (
    ArmState,
    BarrierCommand,
    BarrierCommandSink,
    BarrierStatus,
    ModbusBarrier,
    OpenFailed,
    OpenRefused,
)
from hardware.health import DeviceHealth, DeviceState
from hardware.link import SerialLink
from hardware.reader import DocumentRead, DocumentReader, ReaderEvent
from hardware.settings import BarrierSettings


def register(sub: argparse._SubParsersAction) -> None:
    device = sub.add_parser("device", help="drive a lane's barrier or document reader directly (technicians)")
    devices = device.add_subparsers(dest="device", required=True, metavar="DEVICE")

    barrier = devices.add_parser("barrier", help="the lane's barrier (Modbus RTU relay board)")
    barrier_actions = barrier.add_subparsers(dest="action", required=True, metavar="ACTION")
    open_ = barrier_actions.add_parser("open", help="pulse OPEN once, recorded first; exit 0 when the arm is up")
    _lane_arguments(open_)
    open_.add_argument("--reason", default="technician test", help="why (goes into the command record)")
    open_.add_argument("--actor", default=f"technician:{getpass.getuser()}", help="who (goes into the record)")
    open_.set_defaults(func=_barrier_open)
    status = barrier_actions.add_parser("status", help="read the barrier's inputs; exit 0 when it is online")
    _lane_arguments(status)
    status.set_defaults(func=_barrier_status)

    reader = devices.add_parser("reader", help="the lane's document reader")
    reader_actions = reader.add_subparsers(dest="action", required=True, metavar="ACTION")
    listen = reader_actions.add_parser("listen", help="print documents, re-scan requests and health as JSON lines")
    _lane_arguments(listen)
    listen.add_argument("--seconds", type=float, default=60.0, help="stop after this long (default 60)")
    listen.add_argument("--count", type=int, help="stop after this many documents")
    listen.set_defaults(func=_reader_listen)


def register_bench(bench: argparse._SubParsersAction) -> None:
    faults = bench.add_parser("faults", help="randomised serial-fault campaign against the device simulators")
    faults.add_argument("--iterations", type=int, default=1000)
    faults.add_argument("--seed", type=int, default=0)
    faults.set_defaults(func=_bench_faults)


def _lane_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lane", required=True, help="lane id, or its position in the config (1, 2, ...)")
    parser.add_argument("--config", default=str(DEFAULT_CONFIG), help="config file (default: the demo checkpoint)")


def find_lane(config: EdgeConfig, wanted: str) -> LaneConfig:
    """The lane with id `wanted`, else the `wanted`-th lane (1-based); SystemExit with the choices otherwise."""
    for lane in config.lanes:
        if lane.id == wanted:
            return lane
    if wanted.isdigit() and 1 <= int(wanted) <= len(config.lanes):
        return config.lanes[int(wanted) - 1]
    choices = ", ".join(f"{i} ({lane.id})" for i, lane in enumerate(config.lanes, start=1))
    print(f"no lane {wanted!r}; lanes are {choices}", file=sys.stderr)
    raise SystemExit(EXIT_BAD_CONFIG)


def _lane_with(args: argparse.Namespace, device: str) -> tuple[EdgeConfig, LaneConfig]:
    """The config and the chosen lane, which must have `device` configured."""
    config = load_for_command(args.config)
    lane = find_lane(config, args.lane)
    if getattr(lane, device) is None:
        print(f"lane {lane.id} has no {device} configured ([lanes.{device}] in {args.config})", file=sys.stderr)
        raise SystemExit(EXIT_BAD_CONFIG)
    return config, lane


class ServiceRunning(Exception):
    """The service holds the crossing's audit log: a second writer would fork its chain."""


@contextmanager
def _records(config: EdgeConfig) -> Iterator[Recorder]:
    """The crossing's audit log and outbox, as the service records into them."""
    state = config.state_dir
    try:
        audit = AuditLog(state / config.audit.dir)
    except AuditBusy as exc:
        raise ServiceRunning(str(exc)) from None
    try:
        with Outbox(state / config.outbox.path, source=config.checkpoint.id) as outbox:
            yield Recorder(audit, outbox, marker=outbox_marker(state))
    finally:
        audit.close()


def _print_health(health: DeviceHealth) -> None:
    print(json.dumps({"event": "health", **health.to_json()}), flush=True)


def _status_only(command: BarrierCommand) -> None:
    raise OpenRefused(f"`edge device barrier status` sends no commands (not sent: {command.action})")


def _barrier(lane: LaneConfig, sink: BarrierCommandSink = _status_only) -> tuple[ModbusBarrier, BarrierSettings]:
    """The lane's barrier; `sink` records each command before it is sent."""
    settings = lane.barrier
    assert settings is not None  # _lane_with checked
    link = SerialLink.for_device(f"{lane.id}/barrier", settings.link)
    return ModbusBarrier(f"{lane.id} barrier", settings, link, sink), settings


def _report(lane: LaneConfig, result: str, status: BarrierStatus, **extra: object) -> None:
    print(json.dumps({"lane": lane.id, "result": result, **extra, "status": status.to_json()}))


def _barrier_open(args: argparse.Namespace) -> int:
    config, lane = _lane_with(args, "barrier")
    try:
        with _records(config) as recorder:
            return _open_recorded(args, lane, lambda command: recorder.barrier_command(lane.id, None, command),
                                  str(config.state_dir / config.audit.dir))
    except ServiceRunning as exc:
        print(f"not opened: {exc}. The service is running and drives this barrier: use the technician page's "
              f"'Pulse the barrier' (it is audited there), or stop the service first", file=sys.stderr)
        return 1
    except AuditError as exc:
        print(f"not opened: the audit log cannot be opened: {exc}", file=sys.stderr)
        return 1


def _open_recorded(args: argparse.Namespace, lane: LaneConfig, sink: BarrierCommandSink, record: str) -> int:
    barrier, settings = _barrier(lane, sink)
    try:
        barrier.open(args.reason, args.actor)
        deadline = time.monotonic() + settings.travel_timeout_s + 1.0
        status = barrier.poll()
        while status.arm is not ArmState.UP and time.monotonic() < deadline:
            time.sleep(settings.poll_interval_s)
            status = barrier.poll()
    except OpenRefused as exc:
        _report(lane, "refused", barrier.status, error=str(exc))
        return 1
    except OpenFailed as exc:
        _report(lane, "failed", barrier.status, error=str(exc), record=record)
        return 1
    finally:
        barrier.close()
    result = "up" if status.arm is ArmState.UP else "not up"
    _report(lane, result, status, record=record)
    return 0 if result == "up" else 1


def _barrier_status(args: argparse.Namespace) -> int:
    _, lane = _lane_with(args, "barrier")
    barrier, _ = _barrier(lane)
    status = barrier.poll()
    # A just-opened link counts as degraded until a few good exchanges; give it those.
    for _ in range(5):
        if status.health.state is not DeviceState.DEGRADED or status.faults:
            break
        status = barrier.poll()
    barrier.close()
    _report(lane, status.health.state.value, status)
    return 0 if status.health.state is DeviceState.ONLINE else 1


def _event_json(event: ReaderEvent) -> dict:
    if isinstance(event, DocumentRead):
        return {"event": "document", "mrz": event.mrz.to_json(),
                "portrait_bytes": len(event.portrait) if event.portrait else 0,
                "received_at": event.received_at.isoformat()}
    return {"event": "rescan", "reason": event.reason, "lines": list(event.lines),
            "received_at": event.received_at.isoformat()}


def _reader_listen(args: argparse.Namespace) -> int:
    _, lane = _lane_with(args, "reader")
    settings = lane.reader
    assert settings is not None  # _lane_with checked
    reader = DocumentReader(f"{lane.id} reader", settings,
                            SerialLink.for_device(f"{lane.id}/reader", settings.link, _print_health))
    deadline = time.monotonic() + args.seconds
    documents = 0
    try:
        while time.monotonic() < deadline and (args.count is None or documents < args.count):
            for event in reader.poll(min(0.2, max(0.0, deadline - time.monotonic()))):
                print(json.dumps(_event_json(event)), flush=True)
                documents += isinstance(event, DocumentRead)
    finally:
        reader.close()
    return 0


def _bench_faults(args: argparse.Namespace) -> int:
    from edge.bench.faults import run_campaign

    # SIGTERM ends the campaign like Ctrl-C, through its clean-up, so no simulator is left behind.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    report, problems = run_campaign(args.iterations, args.seed, lambda msg: print(msg, file=sys.stderr))
    for problem in problems:
        print(problem, file=sys.stderr)
    print(json.dumps(report))
    clean = not (report["unintended_opens"] or report["crashes"] or report["unsurfaced_faults"])
    return 0 if clean and report["unrecovered"] == 0 else 1
