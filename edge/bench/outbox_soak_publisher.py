"""`python -m edge.bench.outbox_soak_publisher OUTBOX SOURCE PORT`: the publishing process of
`edge bench outbox`, run as a real process so the bench can kill it with SIGKILL mid-publish."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from edge.config import CentralConfig
from edge.recording.outbox.publisher import OutboxPublisher
from edge.recording.outbox.queue import Outbox

# Short back-off: the bench restarts the broker a hundred times and measures loss, not patience.
BACKOFF_INITIAL_S = 0.05
BACKOFF_MAX_S = 0.5
# The bench queues events from its own process; this is how soon the publisher notices them.
IDLE_POLL_S = 0.02


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python -m edge.bench.outbox_soak_publisher OUTBOX SOURCE PORT", file=sys.stderr)
        return 2
    outbox = Outbox(Path(argv[0]), argv[1])
    central = CentralConfig(host="127.0.0.1", port=int(argv[2]), client_id=f"edge-{argv[1]}",
                            backoff_initial_s=BACKOFF_INITIAL_S, backoff_max_s=BACKOFF_MAX_S)
    publisher = OutboxPublisher(outbox, central, idle_poll_s=IDLE_POLL_S)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    publisher.start()
    stopping.wait()
    publisher.stop()
    outbox.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
