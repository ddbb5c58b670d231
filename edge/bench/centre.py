"""The centre's side, minimally: a subscriber with a persistent QoS 1 session that keeps every
event it receives, and what the centre must do with them (drop duplicates by id, check order).

It is the reference for a real centre and what `edge bench outbox` and the tests count with.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt


@dataclass(frozen=True)
class Received:
    topic: str
    id: str
    source: str
    seq: int
    envelope: dict


@dataclass(frozen=True)
class Tally:
    messages: int  # everything that arrived, copies included
    unique: int  # distinct event ids
    duplicates: int
    out_of_order: int  # first copies that arrived after a later event of the same source


def tally(received: list[Received]) -> Tally:
    seen: set[str] = set()
    newest: dict[str, int] = {}
    out_of_order = 0
    for message in received:
        if message.id in seen:
            continue
        seen.add(message.id)
        if message.seq < newest.get(message.source, 0):
            out_of_order += 1
        newest[message.source] = max(message.seq, newest.get(message.source, 0))
    return Tally(len(received), len(seen), len(received) - len(seen), out_of_order)


class CentreSubscriber:
    """Subscribes to `topic_filter` as `client_id` with a session the broker keeps while it is away."""

    def __init__(self, host: str, port: int, topic_filter: str, client_id: str = "centre",
                 ca_file: Path | None = None):
        self.host, self.port, self.topic_filter = host, port, topic_filter
        self._received: list[Received] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.rejected: list[str] = []  # messages that were not event envelopes
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False,
                                   protocol=mqtt.MQTTv311)
        if ca_file is not None:
            self._client.tls_set(ca_certs=str(ca_file), cert_reqs=ssl.CERT_REQUIRED)
        # paho types the delays as int, but only sleeps on them: a bench that measures delivery retries fast.
        self._client.reconnect_delay_set(min_delay=0.05, max_delay=0.5)  # type: ignore[arg-type]
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        self._client.on_message = self._on_message

    def start(self, timeout: float = 10.0) -> None:
        self._client.connect_async(self.host, self.port, keepalive=10)
        self._client.loop_start()
        if not self._subscribed.wait(timeout):
            self.stop()
            raise RuntimeError(f"no subscription to {self.topic_filter} on {self.host}:{self.port} in {timeout} s")

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def wait_until(self, condition: Callable[[list[Received]], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition(self.received()):
                return True
            time.sleep(0.05)
        return condition(self.received())

    def _on_connect(self, client: mqtt.Client, _userdata: object, _flags: object, reason: mqtt.ReasonCode,
                    _properties: object) -> None:
        if not reason.is_failure:
            client.subscribe(self.topic_filter, qos=1)

    def _on_message(self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        try:
            envelope = json.loads(message.payload)
            item = Received(message.topic, envelope["id"], envelope["source"], int(envelope["seq"]), envelope)
        except (ValueError, KeyError, TypeError) as exc:
            with self._lock:
                self.rejected.append(f"{message.topic}: {exc}")
            return
        with self._lock:
            self._received.append(item)
