"""The outbox and its publisher against a real mosquitto: order, PUBACK, outages, TLS, refusals."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.bench.broker import BrokerTls, Mosquitto
from edge.bench.centre import CentreSubscriber, Received, tally
from edge.config import DEFAULT_CONFIG, CentralConfig, ConfigError, MqttTlsConfig, parse_config
from edge.recording.outbox import Outbox, OutboxError, OutboxPublisher
from edge.recording.outbox.metrics import outbox_families
from edge.service.metrics import render
from edge.synthetic.scratch import free_loopback_port
from tests.support.small_filesystem import fill, small_tmpfs
from tests.support.watchlist_authority import self_signed_tls

TIMEOUT = 30.0


def _central(port: int, **extra) -> CentralConfig:
    return CentralConfig(host="127.0.0.1", port=port, backoff_initial_s=0.05, backoff_max_s=0.5, **extra)


def _wait(condition, what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _seqs(received: list[Received]) -> list[int]:
    """Sequence numbers in the order their first copies arrived."""
    seen: dict[str, int] = {}
    for message in received:
        seen.setdefault(message.id, message.seq)
    return list(seen.values())


@pytest.fixture
def broker(tmp_path) -> Iterator[Mosquitto]:
    with Mosquitto(tmp_path / "broker") as running:
        yield running


@pytest.fixture
def centre(broker) -> Iterator[CentreSubscriber]:
    subscriber = CentreSubscriber("127.0.0.1", broker.port, "checkpoint/#")
    subscriber.start()
    yield subscriber
    subscriber.stop()


@pytest.fixture
def outbox(tmp_path) -> Iterator[Outbox]:
    with Outbox(tmp_path / "state" / "outbox.sqlite", "demo") as opened:
        yield opened


@pytest.fixture
def publishers() -> Iterator[list[OutboxPublisher]]:
    started: list[OutboxPublisher] = []
    yield started
    for publisher in started:
        publisher.stop()


def _start(publishers: list[OutboxPublisher], outbox: Outbox, central: CentralConfig) -> OutboxPublisher:
    publisher = OutboxPublisher(outbox, central)
    publisher.start()
    publishers.append(publisher)
    return publisher


def test_put_is_durable_ordered_and_unique(tmp_path):
    path = tmp_path / "outbox.sqlite"
    with Outbox(path, "demo") as outbox:
        ids = [outbox.put("lane-1/decision", {"n": n, "reasons": ("hit",)}) for n in range(5)]
    assert len(set(ids)) == 5
    with Outbox(path, "demo") as outbox:
        pending = outbox.pending(0, 10)
        assert [p.id for p in pending] == ids and [p.seq for p in pending] == [1, 2, 3, 4, 5]
        assert outbox.depth() == 5 and outbox.last_delivery() is None and outbox.last_seq() == 5
        envelope = json.loads(pending[0].envelope("demo"))
        assert envelope == {"id": ids[0], "source": "demo", "seq": 1, "time": pending[0].time,
                            "type": "lane-1/decision", "event": {"n": 0, "reasons": ["hit"]}}
        assert pending[0].envelope("demo") == pending[0].envelope("demo")  # resends are exact copies
        outbox.mark_delivered([1, 2], at=1_800_000_000.0)
        assert [p.seq for p in outbox.pending(0, 10)] == [3, 4, 5]
        assert outbox.last_delivery() == 1_800_000_000.0
        assert outbox.put("lane-1/decision", {}) and outbox.last_seq() == 6  # seq never reused


def test_bad_events_are_refused_and_nothing_is_stored(outbox):
    for topic in ("", "lane-1/#", "lane-1/+/x", "/lane-1", "lane-1//decision", "lane 1", "x" * 129, None):
        with pytest.raises(OutboxError, match="must be levels of"):
            outbox.put(topic, {"n": 1})
    with pytest.raises(OutboxError, match="not representable in JSON"):
        outbox.put("lane-1/decision", {"score": float("inf")})
    with pytest.raises(OutboxError, match="not representable in JSON"):
        outbox.put("lane-1/decision", {"when": object()})
    with pytest.raises(OutboxError, match="more than 262144: send images and biometric data by hash"):
        outbox.put("lane-1/decision", {"portrait": "A" * 300_000})
    with pytest.raises(OutboxError, match="an event must be a mapping"):
        outbox.put("lane-1/decision", ["n", 1])
    assert outbox.depth() == 0


def test_a_full_disk_refuses_the_put_with_a_clear_error(tmp_path):
    with small_tmpfs(tmp_path / "small", size="256k") as small, Outbox(small / "outbox.sqlite", "demo") as outbox:
        outbox.put("lane-1/decision", {"n": 0})
        fill(small / "filler")
        with pytest.raises(OutboxError, match=r"cannot store the event for 'lane-1/decision': database or disk"):
            for n in range(1000):
                outbox.put("lane-1/decision", {"n": n, "pad": "x" * 1000})
        stored = outbox.depth()
        (small / "filler").unlink()
        outbox.put("lane-1/decision", {"n": "after"})
        assert outbox.depth() == stored + 1
        assert outbox.pending(0, 1)[0].event_json == '{"n":0}'


def test_events_arrive_in_order_with_the_documented_topic_and_envelope(outbox, broker, centre, publishers):
    publisher = _start(publishers, outbox, _central(broker.port))
    ids = [outbox.put(f"lane-{n % 2 + 1}/decision", {"n": n}) for n in range(120)]
    assert centre.wait_until(lambda got: len(got) >= 120, TIMEOUT)
    received = centre.received()
    assert [m.id for m in received] == ids
    assert [m.seq for m in received] == list(range(1, 121))
    assert received[1].topic == "checkpoint/demo/lane-2/decision"
    assert received[1].envelope["event"] == {"n": 1} and received[1].envelope["type"] == "lane-2/decision"
    _wait(lambda: outbox.depth() == 0, "the outbox to drain")
    status = publisher.status()
    assert status.connected and status.depth == 0 and status.last_error is None
    assert status.last_delivery is not None and abs(status.last_delivery - time.time()) < 60


def test_events_leave_the_outbox_only_on_puback(outbox, broker, centre, publishers):
    publisher = _start(publishers, outbox, _central(broker.port, inflight=10))
    outbox.put("lane-1/decision", {"n": 0})
    _wait(lambda: outbox.depth() == 0, "the first delivery")
    broker.pause()  # the connection stays up, the bytes are accepted, nothing is acknowledged
    try:
        for n in range(1, 6):
            outbox.put("lane-1/decision", {"n": n})
        _wait(lambda: publisher.status().inflight == 5, "five events in flight")
        assert outbox.depth() == 5
    finally:
        broker.resume()
    _wait(lambda: outbox.depth() == 0, "the acknowledgements")
    assert centre.wait_until(lambda got: _seqs(got) == [1, 2, 3, 4, 5, 6], TIMEOUT)


def test_events_wait_while_the_broker_is_down_and_go_in_order_when_it_returns(tmp_path, outbox, publishers):
    broker = Mosquitto(tmp_path / "later", port=free_loopback_port())
    # The centre's session is known to the broker (kept on disk) before the outage, as in the field:
    # whatever is published while the centre is away waits for it, so it must get all 30.
    with broker:
        centre = CentreSubscriber("127.0.0.1", broker.port, "checkpoint/#")
        centre.start()
        centre.stop()
    publisher = _start(publishers, outbox, _central(broker.port))
    for n in range(30):
        outbox.put("lane-1/decision", {"n": n})
    _wait(lambda: publisher.status().last_error is not None, "a failed connection")
    assert "Connection refused" in publisher.status().last_error
    assert outbox.depth() == 30 and not publisher.status().connected
    with broker:
        centre = CentreSubscriber("127.0.0.1", broker.port, "checkpoint/#")
        centre.start()
        try:
            _wait(lambda: outbox.depth() == 0, "delivery after the broker started")
            assert centre.wait_until(lambda got: len(got) >= 30, TIMEOUT)
            assert _seqs(centre.received()) == list(range(1, 31))
        finally:
            centre.stop()


def test_broker_restarts_mid_stream_lose_nothing(outbox, broker, centre, publishers):
    _start(publishers, outbox, _central(broker.port))
    n = 0
    for _ in range(3):
        for _ in range(40):
            outbox.put("lane-1/decision", {"n": n})
            n += 1
        _wait(lambda: outbox.last_delivery() is not None, "a delivery")
        broker.stop()
        for _ in range(20):
            outbox.put("lane-1/decision", {"n": n})
            n += 1
        broker.start()
    assert centre.wait_until(lambda got: set(range(1, n + 1)) <= {m.seq for m in got}, TIMEOUT)
    counts = tally(centre.received())
    assert counts.unique == n and counts.out_of_order == 0
    assert _seqs(centre.received()) == list(range(1, n + 1))
    assert centre.rejected == []


def test_a_second_publisher_on_the_same_outbox_is_refused(outbox, broker, publishers):
    _start(publishers, outbox, _central(broker.port))
    with pytest.raises(OutboxError, match="another publisher is already sending"):
        OutboxPublisher(outbox, _central(broker.port)).start()


def test_tls_with_the_centre_s_ca(tmp_path, outbox, publishers):
    _, cert = self_signed_tls(tmp_path)
    (tmp_path / "other").mkdir()
    _, other = self_signed_tls(tmp_path / "other")  # a certificate the broker's is not signed by
    with Mosquitto(tmp_path / "broker", tls=BrokerTls(cert, tmp_path / "server.key")) as broker:
        centre = CentreSubscriber("127.0.0.1", broker.port, "checkpoint/#", ca_file=cert)
        centre.start()
        try:
            wrong = OutboxPublisher(outbox, _central(broker.port, tls=MqttTlsConfig(ca_file=other)))
            wrong.start()
            try:
                outbox.put("lane-1/decision", {"n": 0})
                _wait(lambda: wrong.status().last_error is not None, "the TLS refusal")
                assert "certificate verify failed" in wrong.status().last_error
                assert outbox.depth() == 1
            finally:
                wrong.stop()
            _start(publishers, outbox, _central(broker.port, tls=MqttTlsConfig(ca_file=cert)))
            assert centre.wait_until(lambda got: _seqs(got) == [1], TIMEOUT)
        finally:
            centre.stop()


def test_metrics(outbox):
    outbox.put("lane-1/decision", {"n": 0})
    text = render(outbox_families(outbox, None))
    assert "edge_outbox_depth 1\n" in text
    assert "edge_outbox_last_delivery_timestamp_seconds" not in text  # nothing delivered yet
    outbox.mark_delivered([1], at=1_800_000_000.0)
    text = render(outbox_families(outbox, None))
    assert "edge_outbox_depth 0\n" in text and "edge_outbox_last_delivery_timestamp_seconds 1.8e+09\n" in text


def test_central_config_section(tmp_path):
    base = DEFAULT_CONFIG.read_text()
    path = tmp_path / "edge.toml"
    config = parse_config(base, path)
    assert config.central is None and config.outbox.path == Path("outbox.sqlite")
    config = parse_config(base + '\n[central]\nhost = "127.0.0.1"\n', path)
    assert config.central.effective_port == 1883 and config.central.qos == 1
    with pytest.raises(ConfigError, match=r"central: host .centre.example. is not loopback: .* requires \[central"):
        parse_config(base + '\n[central]\nhost = "centre.example"\n', path)
    tls = parse_config(base + '\n[central]\nhost = "centre.example"\ntls = { ca_file = "/etc/ca.pem" }\n', path)
    assert tls.central.effective_port == 8883
    with pytest.raises(ConfigError, match="certfile and keyfile must be given together"):
        parse_config(base + '\n[central]\nhost = "h.example"\ntls = { certfile = "/c.pem" }\n', path)
    with pytest.raises(ConfigError, match=r"central\.qos: Input should be 1"):
        parse_config(base + '\n[central]\nhost = "127.0.0.1"\nqos = 0\n', path)
    with pytest.raises(ConfigError, match=r"central\.topic_prefix: String should match pattern"):
        parse_config(base + '\n[central]\nhost = "127.0.0.1"\ntopic_prefix = "a/#"\n', path)
