"""sd_notify and the progress watchdog, checked on the datagrams a real process sends to a socket we own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edge.service.systemd import Notifier, ProgressWatchdog, watchdog_interval

ROOT = Path(__file__).resolve().parents[2]
WATCHDOG_USEC = 600_000  # 0.6 s: the child checks (and pings) every 0.3 s


class NotifySocket:
    """The receiving end systemd would own: an AF_UNIX datagram socket."""

    def __init__(self, address: str):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + address[1:] if address.startswith("@") else address)
        self.address = address

    def receive(self, timeout: float) -> list[str] | None:
        """The fields of the next datagram, or None if none came within `timeout` seconds."""
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(4096).decode().split("\n")
        except TimeoutError:
            return None

    def wait_for(self, wanted: str, timeout: float = 20.0, naming: str = "") -> list[list[str]]:
        """Datagrams up to and including the first holding a field that starts with `wanted` (and
        contains `naming`)."""
        seen: list[list[str]] = []
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            fields = self.receive(left)
            if fields is None:
                break
            seen.append(fields)
            if any(f.startswith(wanted) and naming in f for f in fields):
                return seen
        raise AssertionError(f"no {wanted!r} within {timeout} s; got {seen}")

    def collect(self, seconds: float) -> list[list[str]]:
        seen = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            fields = self.receive(left)
            if fields is not None:
                seen.append(fields)
        return seen

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def notify_socket(tmp_path):
    receiver = NotifySocket(str(tmp_path / "notify.sock"))
    yield receiver
    receiver.close()


def _pings(datagrams: list[list[str]]) -> int:
    return sum(fields == ["WATCHDOG=1"] for fields in datagrams)


def test_a_real_process_announces_ready_pings_while_lanes_progress_and_stops_pinging_when_one_hangs(
    notify_socket, tmp_path
):
    env = {**os.environ, "NOTIFY_SOCKET": notify_socket.address, "WATCHDOG_USEC": str(WATCHDOG_USEC)}
    env.pop("WATCHDOG_PID", None)
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.support.notify_child"], cwd=ROOT, env=env, stdin=subprocess.PIPE, text=True,
        stderr=(tmp_path / "child.err").open("w"),
    )  # fmt: skip
    try:
        first = notify_socket.wait_for("READY=1")
        assert first == [["READY=1", "STATUS=2 lanes up"]]  # nothing before ready
        progressing = notify_socket.wait_for("WATCHDOG=1") + notify_socket.wait_for("WATCHDOG=1")
        assert _pings(progressing) == 2

        child.stdin.write("stall lane-2\n")
        child.stdin.flush()
        # (On a loaded machine lane-1 may also miss a period now and then; lane-2 must be named.)
        notify_socket.wait_for("STATUS=watchdog withheld: no progress in", naming="lane-2")
        # Eight check periods with one lane hung: systemd would have restarted the service by now.
        assert _pings(notify_socket.collect(8 * WATCHDOG_USEC / 2e6)) == 0

        child.stdin.write("resume lane-2\n")
        child.stdin.flush()
        notify_socket.wait_for("STATUS=every lane is progressing")
        assert _pings(notify_socket.wait_for("WATCHDOG=1")) == 1

        child.stdin.write("stop\n")
        child.stdin.flush()
        assert notify_socket.wait_for("STOPPING=1")[-1] == ["STOPPING=1", "STATUS=stopping"]
        assert child.wait(timeout=20) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    # The stall is in the log too (stderr here, journald under systemd), and nothing went wrong.
    errors = (tmp_path / "child.err").read_text()
    assert "watchdog ping withheld: no progress in" in errors and "lane-2 (" in errors and "Traceback" not in errors


def test_notifier_speaks_to_abstract_sockets_and_is_silent_without_systemd(tmp_path):
    address = f"@edge-test-{os.getpid()}-{tmp_path.name}"
    receiver = NotifySocket(address)
    try:
        notifier = Notifier.from_environment({"NOTIFY_SOCKET": address})
        assert notifier.enabled
        assert notifier.status("two lanes\nup")
        assert receiver.receive(5) == ["STATUS=two lanes up"]  # one line, whatever the caller passed
        with pytest.raises(ValueError, match="KEY=VALUE"):
            notifier.send("READY")
        notifier.close()
    finally:
        receiver.close()
    # Nobody listening any more: the notification is lost, the caller carries on.
    assert Notifier(address).ready() is False

    outside = Notifier.from_environment({})
    assert not outside.enabled and outside.ready("x") is False
    with pytest.raises(ValueError, match="NOTIFY_SOCKET"):
        Notifier("relative/path")


def test_watchdog_interval_is_systemds_and_only_for_the_process_it_names():
    assert watchdog_interval({}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "30000000"}) == 30.0
    assert watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1234"}, pid=1234) == 30.0
    assert watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1234"}, pid=99) is None
    with pytest.raises(ValueError, match="WATCHDOG_USEC"):
        watchdog_interval({"WATCHDOG_USEC": "soon"})
    with pytest.raises(ValueError, match="positive"):
        watchdog_interval({"WATCHDOG_USEC": "0"})
    assert ProgressWatchdog.from_environment(Notifier(None), ["lane-1"], {}) is None


class StepClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_watchdog_pings_only_while_every_lane_beats(tmp_path):
    clock = StepClock()
    receiver = NotifySocket(str(tmp_path / "n.sock"))
    try:
        watchdog = ProgressWatchdog(Notifier(receiver.address), ["a", "b"], interval_s=10, clock=clock)
        assert watchdog.check() and receiver.receive(5) == ["WATCHDOG=1"]  # start-up counts as progress
        clock.now += 4
        watchdog.beat("a")
        clock.now += 2  # b: 6 s without progress, more than half the interval
        assert watchdog.stalled() == {"b": 6.0}
        assert watchdog.check() is False
        assert receiver.receive(5) == ["STATUS=watchdog withheld: no progress in b (6.0 s)"]
        assert watchdog.check() is False and receiver.receive(0.2) is None  # said once, not every period
        watchdog.beat("b")
        watchdog.beat("a")
        assert watchdog.check()
        assert receiver.receive(5) == ["STATUS=every lane is progressing"]
        assert receiver.receive(5) == ["WATCHDOG=1"]
        with pytest.raises(KeyError, match="not watched"):
            watchdog.beat("c")
    finally:
        receiver.close()
    with pytest.raises(ValueError, match="at least one lane"):
        ProgressWatchdog(Notifier(None), [], interval_s=10)
