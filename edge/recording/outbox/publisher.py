"""The outbox's publisher: one thread that sends queued events to the centre's MQTT broker.

Events go out in seq order over one connection at QoS 1, up to `inflight` unacknowledged at a
time, and leave the queue only on their PUBACK. Each connection is a fresh paho client with a
clean session that starts again from the oldest unacknowledged event: the queue, not paho's
memory, is the source of truth, so a broker restart, a lost connection and a killed process all
recover the same way. What the centre then sees is every event, first copies in order, and
perhaps a few re-sent copies (same id, same bytes) after a reconnect.

Connection failures are retried with exponential back-off (with jitter, so many crossings do not
reconnect in step after an outage of the centre).
"""

from __future__ import annotations

import fcntl
import logging
import os
import random
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt

from edge.config import CentralConfig
from edge.recording.outbox.queue import Outbox, OutboxError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublisherStatus:
    connected: bool
    depth: int  # events waiting (including those in flight)
    inflight: int  # sent, not yet acknowledged
    last_delivery: float | None  # epoch seconds of the last PUBACK, across restarts
    last_error: str | None  # why the last connection attempt failed or ended; None once delivering


class _NoSession(Exception):
    """The broker could not be reached, or refused the connection."""


class OutboxPublisher:
    def __init__(self, outbox: Outbox, central: CentralConfig, *, idle_poll_s: float = 1.0):
        """`idle_poll_s` bounds how long a queued event waits when it was put by another process
        (put() in this process wakes the publisher at once)."""
        self.outbox = outbox
        self.central = central
        self.client_id = central.client_id or f"edge-{outbox.source}"
        self._idle_poll_s = idle_poll_s
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock_fd: int | None = None
        self._connected = False
        self._inflight = 0
        self._last_error: str | None = None

    def start(self) -> None:
        self._take_publisher_lock()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="outbox-publisher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self.outbox.wake()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def status(self) -> PublisherStatus:
        return PublisherStatus(self._connected, self.outbox.depth(), self._inflight, self.outbox.last_delivery(),
                               self._last_error)

    def _take_publisher_lock(self) -> None:
        # Two publishers on one queue would send events twice and out of order.
        path = Path(f"{self.outbox.path}.publisher-lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise OutboxError(f"another publisher is already sending the events of {self.outbox.path}") from None
        self._lock_fd = fd

    # -- the thread -----------------------------------------------------------------------------

    def _run(self) -> None:
        delay = self.central.backoff_initial_s
        while not self._stopping.is_set():
            try:
                self._session()
                delay = self.central.backoff_initial_s
            except _NoSession as exc:
                self._report(str(exc))
            except Exception as exc:  # the publisher must outlive anything one session does
                log.exception("outbox publisher session failed")
                self._report(f"{type(exc).__name__}: {exc}")
            finally:
                self._connected = False
                self._inflight = 0
            if self._stopping.wait(delay * random.uniform(0.8, 1.2)):
                break
            delay = min(delay * 2, self.central.backoff_max_s)

    def _report(self, error: str) -> None:
        if error != self._last_error:
            log.warning("central broker %s:%s: %s; events wait in the outbox (%d)",
                        self.central.host, self.central.effective_port, error, self.outbox.depth())
        self._last_error = error

    def _session(self) -> None:
        client, acked = self._connect()
        try:
            self._connected = True
            self._last_error = None
            log.info("central broker %s:%s connected; %d events waiting",
                     self.central.host, self.central.effective_port, self.outbox.depth())
            self._deliver(client, acked)
        finally:
            client.disconnect()
            _close(client)

    def _deliver(self, client: mqtt.Client, acked: list[int]) -> None:
        inflight: dict[int, int] = {}  # paho message id -> seq
        last_sent = 0
        prefix = f"{self.central.topic_prefix}/{self.outbox.source}/"
        while not self._stopping.is_set():
            room = self.central.inflight - len(inflight)
            if room > 0:
                for event in self.outbox.pending(last_sent, room):
                    info = client.publish(prefix + event.topic, event.envelope(self.outbox.source), qos=1)
                    if info.rc != mqtt.MQTT_ERR_SUCCESS:
                        raise _NoSession(f"connection lost while sending ({mqtt.error_string(info.rc)})")
                    inflight[info.mid] = event.seq
                    last_sent = event.seq
            self._inflight = len(inflight)
            if inflight:
                rc = client.loop(timeout=0.1)
            else:
                self.outbox.wait_for_events(self._idle_poll_s)
                rc = client.loop(timeout=0)
            if acked:
                self.outbox.mark_delivered([inflight.pop(mid) for mid in acked if mid in inflight])
                acked.clear()
                self._inflight = len(inflight)
            if rc != mqtt.MQTT_ERR_SUCCESS:
                raise _NoSession(f"connection lost ({mqtt.error_string(rc)})")

    def _connect(self) -> tuple[mqtt.Client, list[int]]:
        central = self.central
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id, clean_session=True,
                             protocol=mqtt.MQTTv311)
        client.connect_timeout = central.connect_timeout_s
        client.max_inflight_messages_set(central.inflight)
        if central.tls is not None:
            tls = central.tls
            client.tls_set(ca_certs=str(tls.ca_file) if tls.ca_file else None,
                           certfile=str(tls.certfile) if tls.certfile else None,
                           keyfile=str(tls.keyfile) if tls.keyfile else None,
                           cert_reqs=ssl.CERT_REQUIRED, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        if central.username is not None:
            client.username_pw_set(central.username, self._password())
        acked: list[int] = []
        answer: list[mqtt.ReasonCode] = []
        client.on_publish = lambda _c, _u, mid, _rc, _p: acked.append(mid)
        client.on_connect = lambda _c, _u, _f, reason, _p: answer.append(reason)
        where = f"{central.host}:{central.effective_port}"
        try:
            client.connect(central.host, central.effective_port, keepalive=central.keepalive_s)
        except (OSError, ValueError) as exc:
            raise _NoSession(f"cannot connect to {where}: {exc}") from None
        deadline = time.monotonic() + central.connect_timeout_s
        while not answer:
            rc = client.loop(timeout=0.1)
            if rc != mqtt.MQTT_ERR_SUCCESS:
                raise _NoSession(f"connection to {where} closed before it was accepted ({mqtt.error_string(rc)})")
            if time.monotonic() > deadline:
                _close(client)
                raise _NoSession(f"{where} did not accept the connection within {central.connect_timeout_s} s")
        if answer[0].is_failure:
            _close(client)
            raise _NoSession(f"{where} refused the connection: {answer[0]}")
        return client, acked

    def _password(self) -> str:
        path = self.central.password_file
        if path is None:
            return ""
        try:
            return path.read_text(encoding="utf-8").splitlines()[0]
        except (OSError, IndexError, UnicodeDecodeError) as exc:
            raise _NoSession(f"cannot read the broker password from {path}: {exc}") from None


def _close(client: mqtt.Client) -> None:
    sock = client.socket()
    if sock is not None:
        sock.close()
