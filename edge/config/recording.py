"""Recording: the audit log, the outbox, and the centre's MQTT broker the outbox publishes to."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from edge.config.base import StrictModel, in_order, is_loopback


class AuditConfig(StrictModel):
    """The audit log (edge.recording.audit): where it lives and how long the biometric data and images its
    records refer to are kept. The records themselves are kept; they hold the blobs' sha256."""

    # Relative to the crossing's state_dir.
    dir: Path = Path("audit")
    # Face crops, portraits and face templates: personal biometric data, kept the shortest.
    biometric_retention_days: float = Field(default=30, gt=0, le=3650)
    # Scene and plate images.
    image_retention_days: float = Field(default=90, gt=0, le=3650)


class OutboxConfig(StrictModel):
    """The durable queue of events for the centre (edge.recording.outbox)."""

    # Relative to the crossing's state_dir.
    path: Path = Path("outbox.sqlite")


class MqttTlsConfig(StrictModel):
    ca_file: Path | None = None  # a private CA; the system's CAs otherwise
    certfile: Path | None = None  # client certificate, where the broker asks for one
    keyfile: Path | None = None

    @model_validator(mode="after")
    def _cert_with_key(self) -> MqttTlsConfig:
        if (self.certfile is None) != (self.keyfile is None):
            raise ValueError("certfile and keyfile must be given together")
        return self


# MQTT topic levels without wildcards or empty levels (the outbox checks event topics against it too).
MQTT_TOPIC = r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$"


class CentralConfig(StrictModel):
    """The centre's MQTT broker, to which the outbox publishes events (QoS 1, in order)."""

    host: str = Field(min_length=1)
    port: int | None = Field(default=None, ge=1, le=65535)  # None: 1883, or 8883 with TLS
    tls: MqttTlsConfig | None = None
    # None: "edge-" and the crossing id. One publisher per client id: the broker drops the older one.
    client_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]{1,64}$")
    username: str | None = None
    password_file: Path | None = None  # the password's only line; never the password in this file
    # Events go to <topic_prefix>/<crossing id>/<event topic>.
    topic_prefix: str = Field(default="checkpoint", pattern=MQTT_TOPIC)
    # At least once: the centre drops duplicates by event id. QoS 0 could lose, QoS 2 is not needed.
    qos: Literal[1] = 1
    keepalive_s: int = Field(default=30, ge=5, le=3600)
    connect_timeout_s: float = Field(default=5.0, gt=0, le=120)
    backoff_initial_s: float = Field(default=0.5, gt=0, le=60)
    backoff_max_s: float = Field(default=30.0, gt=0, le=3600)
    # Events sent and not yet acknowledged; order holds because one connection carries them in order.
    inflight: int = Field(default=20, ge=1, le=1000)

    @model_validator(mode="after")
    def _checks(self) -> CentralConfig:
        # Events carry plates, names and document numbers: not in clear text over a network.
        if not is_loopback(self.host) and self.tls is None:
            raise ValueError(f"host {self.host!r} is not loopback: publishing to other hosts requires [central.tls]")
        if self.password_file is not None and self.username is None:
            raise ValueError("password_file needs a username")
        in_order(self, "backoff_initial_s", "backoff_max_s")
        return self

    @property
    def effective_port(self) -> int:
        if self.port is not None:
            return self.port
        return 1883 if self.tls is None else 8883

