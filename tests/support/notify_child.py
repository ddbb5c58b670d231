"""A small real process that uses edge.service.systemd the way the service does, steered over stdin.

Two lane workers beat the progress watchdog once per pass; the test tells a worker to hang
("stall lane-2"), to go on ("resume lane-2"), or the process to stop ("stop"). It announces
READY=1 once its workers run, and STOPPING=1 before it exits.
"""

from __future__ import annotations

import asyncio
import sys
import threading

from edge.service.systemd import Notifier, ProgressWatchdog

LANES = ("lane-1", "lane-2")
PASS_S = 0.02  # one pass of a lane worker's loop


def _worker(lane: str, watchdog: ProgressWatchdog, running: threading.Event, stop: threading.Event) -> None:
    while not stop.is_set():
        # A hung worker is one that does not come back from its frame: here, until resumed.
        running.wait()
        watchdog.beat(lane)
        stop.wait(PASS_S)


async def main() -> int:
    notifier = Notifier.from_environment()
    watchdog = ProgressWatchdog.from_environment(notifier, LANES)
    if watchdog is None:
        print("no WATCHDOG_USEC for this process", file=sys.stderr)
        return 2
    stop = threading.Event()
    running = {lane: threading.Event() for lane in LANES}
    for lane in LANES:
        running[lane].set()
        threading.Thread(target=_worker, args=(lane, watchdog, running[lane], stop), daemon=True).start()
    notifier.ready(f"{len(LANES)} lanes up")
    pinging = asyncio.create_task(watchdog.run())
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        command, _, lane = line.strip().partition(" ")
        if command == "stall":
            running[lane].clear()
        elif command == "resume":
            running[lane].set()
        else:  # "stop", or the test went away (end of input)
            break
    notifier.stopping("stopping")
    pinging.cancel()
    stop.set()
    for event in running.values():
        event.set()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
