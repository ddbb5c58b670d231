"""A mosquitto broker on a loopback port, run as a child process: the centre's side of the outbox
for `edge bench outbox` and the tests. It keeps sessions on disk (persistence), so a subscriber's
queued events survive the broker being stopped and started again, as a real centre's would."""

from __future__ import annotations

import os
import pwd
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from edge.synthetic.scratch import free_loopback_port

MOSQUITTO = Path("/usr/sbin/mosquitto")


@dataclass(frozen=True)
class BrokerTls:
    certfile: Path
    keyfile: Path


class Mosquitto:
    def __init__(self, workdir: Path, port: int | None = None, tls: BrokerTls | None = None,
                 binary: Path = MOSQUITTO):
        self.workdir = workdir
        self.port = port or free_loopback_port()
        self.tls = tls
        self.binary = binary
        self.log_path = workdir / "mosquitto.log"
        self._process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        if not self.binary.exists():
            raise RuntimeError(f"{self.binary} not found: install the Debian package mosquitto")
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(self._config())
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen([str(self.binary), "-c", str(conf)], stdout=log, stderr=log)
        self.starts += 1
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"mosquitto exited with {self._process.returncode}:\n{self.log_tail()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.kill()
                    tail = self.log_tail()
                    raise RuntimeError(f"mosquitto did not listen on {self.port} in {timeout} s:\n{tail}") from None
                time.sleep(0.02)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM: mosquitto writes its sessions to disk and exits."""
        if self.running:
            assert self._process is not None
            self._process.terminate()
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def pause(self) -> None:
        """SIGSTOP: connections stay open and accept bytes, but nothing is answered."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def _config(self) -> str:
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            "persistence true",
            f"persistence_location {self.workdir}/",
            # A subscriber's queue must hold a whole outage's events, not mosquitto's default 1000.
            "max_queued_messages 1000000",
            "log_type error",
            "log_type warning",
            "log_type notice",
            # Started as root, mosquitto would switch to its own user and not reach its files here.
            f"user {pwd.getpwuid(os.geteuid()).pw_name}",
        ]
        if self.tls is not None:
            lines += [f"certfile {self.tls.certfile}", f"keyfile {self.tls.keyfile}"]
        return "\n".join(lines) + "\n"

    def __enter__(self) -> Mosquitto:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
