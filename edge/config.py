"""Typed configuration of a crossing, loaded from TOML.

This is the only module that reads config files. Every model rejects unknown keys and is
frozen, so a typo in a config file is an error at start-up rather than a silently ignored
setting, and nothing can change the configuration behind the audit log's back.
"""

from __future__ import annotations

import ipaddress
import math
import os
import stat
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from edge.plates.formats import BUILTIN_REGIONS, RegionFormat

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config" / "edge.toml"

Identifier = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]

# The plate confidence at or above which a read that fits its lane's formats is sure. Measured by
# `edge alpr calibrate models/build/plates/calibration --target-precision 0.99` on the plate models'
# own validation crops (held-out Brazilian crops and synthetic plates, never a set used to measure
# them): 583 of 937 sure, 99.14% of those exact. Recalibrate whenever plate_reader.onnx changes.
SURE_CONFIDENCE = 0.9938


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CrossingConfig(StrictModel):
    id: Identifier
    name: str = Field(min_length=1)
    # ICAO three-letter code of the state that runs the crossing; documents it issued are "domestic".
    country: str = Field(pattern=r"^[A-Z]{3}$")


class Roi(StrictModel):
    """A rectangle of the camera frame in pixels; the plate localiser only looks inside it."""

    x: int = Field(ge=0)
    y: int = Field(ge=0)
    width: int = Field(gt=0)
    height: int = Field(gt=0)


class LensConfig(StrictModel):
    """The camera's intrinsics and lens distortion (OpenCV's pinhole model), measured by
    `edge calibrate lens` from checkerboard images at width x height pixels."""

    width: int = Field(gt=0)
    height: int = Field(gt=0)
    fx: float = Field(gt=0)
    fy: float = Field(gt=0)
    cx: float
    cy: float
    # k1, k2, p1, p2, k3 (OpenCV's order).
    distortion: list[float] = Field(min_length=5, max_length=5)
    rms_px: float = Field(ge=0)  # reprojection error of the calibration


class PerspectiveWarp(StrictModel):
    """A homography applied to the camera's ROI (the whole frame without one) so that plates appear
    square-on; `edge calibrate warp` measures it from the four corners of a plate."""

    matrix: list[list[float]] = Field(min_length=3, max_length=3)  # 3 rows of 3, ROI pixels -> warped pixels
    width: int = Field(gt=0, le=8192)  # size of the warped image
    height: int = Field(gt=0, le=8192)

    @field_validator("matrix")
    @classmethod
    def _homography(cls, matrix: list[list[float]]) -> list[list[float]]:
        if any(len(row) != 3 for row in matrix):
            raise ValueError("matrix must be 3 rows of 3 numbers")
        if not all(math.isfinite(v) for row in matrix for v in row):
            raise ValueError("matrix must hold finite numbers")
        (a, b, c), (d, e, f), (g, h, i) = matrix
        if abs(a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)) < 1e-12:
            raise ValueError("matrix is singular (not a perspective warp)")
        return matrix


def _in_order(model: BaseModel, low: str, high: str) -> None:
    """A back-off starts at `low` and grows up to `high`: a cap below the start is a typo."""
    if getattr(model, high) < getattr(model, low):
        raise ValueError(f"{high} must not be smaller than {low}")


class CameraConfig(StrictModel):
    # usb:0, /dev/video0, rtsp://..., http://... (MJPEG), a video file, an image folder, synthetic://lane/camera
    url: str = Field(min_length=1)
    fps: float | None = Field(default=None, gt=0, le=120)
    stall_timeout_s: float = Field(default=2.0, gt=0, le=60)
    backoff_initial_s: float = Field(default=0.5, gt=0, le=60)
    backoff_max_s: float = Field(default=10.0, gt=0, le=600)
    roi: Roi | None = None
    lens: LensConfig | None = None  # set by `edge calibrate lens`
    warp: PerspectiveWarp | None = None  # set by `edge calibrate warp`

    @model_validator(mode="after")
    def _backoff_order(self) -> CameraConfig:
        _in_order(self, "backoff_initial_s", "backoff_max_s")
        return self


class LaneCameras(StrictModel):
    plate: CameraConfig
    face: CameraConfig


class PresenceConfig(StrictModel):
    """Camera-based vehicle presence: how much of the plate camera's view must change, and for how long.

    The barrier's induction loop is the primary presence signal where it is wired; this detector
    covers lanes without one and gives a second opinion.
    """

    occupied_fraction: float = Field(default=0.12, gt=0, lt=1)
    empty_fraction: float = Field(default=0.04, gt=0, lt=1)
    confirm_frames: int = Field(default=3, ge=1, le=100)
    still_fraction: float = Field(default=0.01, gt=0, lt=1)

    @model_validator(mode="after")
    def _hysteresis(self) -> PresenceConfig:
        if self.empty_fraction >= self.occupied_fraction:
            raise ValueError("empty_fraction must be below occupied_fraction (hysteresis)")
        return self


class LaneTimeouts(StrictModel):
    """Seconds a lane may stay in a state before it moves on by itself."""

    settle_s: float = Field(default=4.0, gt=0, le=120)  # present: vehicle still moving
    reading_s: float = Field(default=6.0, gt=0, le=300)  # reading: gathering evidence
    decision_s: float = Field(default=120.0, gt=0, le=3600)  # pending: officer has not acted (flagged overdue)
    passing_s: float = Field(default=20.0, gt=0, le=600)  # passing: barrier open, vehicle still on the loop


class SerialLinkConfig(StrictModel):
    """A serial device, opened by URL through pyserial: /dev/ttyUSB0, /dev/checkpoint/lane1-barrier,
    socket://host:port, rfc2217://host:port or loop://. Line settings are ignored by socket:// links."""

    url: str = Field(min_length=1)
    baudrate: int = Field(default=9600, gt=0, le=4_000_000)
    bytesize: Literal[5, 6, 7, 8] = 8
    parity: Literal["N", "E", "O", "M", "S"] = "N"
    stopbits: Literal[1, 1.5, 2] = 1
    write_timeout_s: float = Field(default=1.0, gt=0, le=30)
    # Reconnect back-off after an unplug or I/O error; the cap bounds recovery time after a replug.
    reconnect_initial_s: float = Field(default=0.2, gt=0, le=60)
    reconnect_max_s: float = Field(default=0.5, gt=0, le=600)
    # Good exchanges in a row before a degraded device counts as online again.
    recover_after: int = Field(default=3, ge=1, le=100)

    @model_validator(mode="after")
    def _backoff_order(self) -> SerialLinkConfig:
        _in_order(self, "reconnect_initial_s", "reconnect_max_s")
        return self


class BarrierConfig(StrictModel):
    """The barrier's Modbus RTU relay/IO board: which coil and inputs are wired to what.

    The software only pulses OPEN; CLOSE, if wired, is only ever switched off."""

    link: SerialLinkConfig
    unit_id: int = Field(default=1, ge=1, le=247)
    open_coil: int = Field(default=0, ge=0, le=65535)
    close_coil: int | None = Field(default=None, ge=0, le=65535)
    loop_input: int | None = Field(default=0, ge=0, le=65535)  # vehicle loop occupied
    arm_up_input: int = Field(default=1, ge=0, le=65535)
    arm_down_input: int = Field(default=2, ge=0, le=65535)
    pulse_s: float = Field(default=0.5, gt=0, le=5)
    # Longest the arm may take from the OPEN pulse to "up", or stay between its limits.
    travel_timeout_s: float = Field(default=6.0, gt=0, le=120)
    response_timeout_s: float = Field(default=0.3, gt=0, le=10)
    retries: int = Field(default=2, ge=0, le=10)
    poll_interval_s: float = Field(default=0.2, gt=0, le=10)

    @model_validator(mode="after")
    def _distinct_addresses(self) -> BarrierConfig:
        inputs = [a for a in (self.loop_input, self.arm_up_input, self.arm_down_input) if a is not None]
        if len(set(inputs)) != len(inputs):
            raise ValueError("loop_input, arm_up_input and arm_down_input must be different inputs")
        if max(inputs) - min(inputs) >= 2000:
            raise ValueError("the barrier inputs must lie within 2000 addresses of each other (one read)")
        if self.close_coil == self.open_coil:
            raise ValueError("close_coil must not be the open_coil")
        return self


class ReaderConfig(StrictModel):
    """The document reader: its link and how it frames what it sends (see hardware/reader_framing.py)."""

    link: SerialLinkConfig
    framing: Literal["lines", "stx", "length"] = "lines"
    max_frame_bytes: int = Field(default=262_144, ge=256, le=16_777_216)  # room for a portrait
    frame_timeout_s: float = Field(default=1.0, gt=0, le=30)  # a frame unfinished this long was cut short
    flood_bytes_per_s: int = Field(default=100_000, ge=1_000)


class PlateFormatConfig(StrictModel):
    """A plate region's format: patterns of L (letter), D (digit), A (either); '/' splits two lines."""

    code: str = Field(pattern=r"^[a-z]{2,3}(-[a-z0-9]{1,3})?$")
    name: str = Field(min_length=1)
    patterns: list[str] = []
    letters: str = Field(default="ABCDEFGHIJKLMNOPQRSTUVWXYZ", pattern=r"^[A-Z]+$")
    min_length: int = Field(default=2, ge=1, le=12)
    max_length: int = Field(default=8, ge=1, le=12)
    # Personalised plates exist: keep a free reading when no pattern fits.
    free: bool = True

    @model_validator(mode="after")
    def _valid_format(self) -> PlateFormatConfig:
        self.region_format()  # RegionFormat checks the patterns, letters and lengths
        return self

    def region_format(self) -> RegionFormat:
        return RegionFormat(self.code, self.name, tuple(self.patterns), self.letters, self.min_length,
                            self.max_length, self.free)


class PlateVotingConfig(StrictModel):
    """How a vehicle's frame reads become one plate read (see edge/plates/voting.py)."""

    min_frames: int = Field(default=3, ge=1, le=100)
    min_share: float = Field(default=0.4, gt=0, le=1)
    max_distance: int = Field(default=2, ge=0, le=4)
    track_timeout_s: float = Field(default=2.0, gt=0, le=60)
    repeat_hold_s: float = Field(default=60.0, ge=0, le=3600)


class PlatesConfig(StrictModel):
    """Plate reading for a lane: which regions' formats to read plates as, and how hard to look.

    The plate camera's `roi` limits where plates are searched."""

    # Built-in codes (any, us, us-ca, ..., eu, de, fr, ..., br) or codes defined in `formats`.
    regions: list[str] = Field(default=["any"], min_length=1)
    formats: list[PlateFormatConfig] = []
    # Plates read per frame, the detector's best boxes first: each costs one recogniser run (~2 ms).
    candidates: int = Field(default=3, ge=1, le=12)
    # The stages (edge/plates/stages.py). Detector: "cnn" (models/plate_detector.onnx) or "rows" (the
    # classical row search, no model). Recogniser: "cnn" (models/plate_reader.onnx, reads the whole
    # plate) or "easyocr" (EasyOCR's english_g2 line recogniser, models/plate_ocr.onnx). Decoder:
    # "formats" (the regions' patterns and look-alikes) or "greedy" (what the network saw, no formats).
    detector: Literal["cnn", "rows"] = "cnn"
    recogniser: Literal["cnn", "easyocr"] = "cnn"
    decoder: Literal["formats", "greedy"] = "formats"
    min_confidence: float = Field(default=0.2, ge=0, le=1)
    # A plate read is sure (edge/plates/certainty.py) only at or above this confidence, and only when
    # it fits a format of `regions`; anything else sends the crossing to the officer.
    sure_confidence: float = Field(default=SURE_CONFIDENCE, ge=0, le=1)
    voting: PlateVotingConfig = PlateVotingConfig()

    @model_validator(mode="after")
    def _known_regions(self) -> PlatesConfig:
        known = self.region_formats()
        unknown = [code for code in self.regions if code not in known]
        if unknown:
            raise ValueError(f"unknown plate region(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return self

    def region_formats(self) -> dict[str, RegionFormat]:
        """The built-in region formats, extended or overridden by this config's own."""
        return {**BUILTIN_REGIONS, **{f.code: f.region_format() for f in self.formats}}


class LanePolicyConfig(StrictModel):
    """What the lane's evidence must show for a crossing to be CLEAR (see edge/lane/policy.py)."""

    require_plate: bool = True  # vehicle lanes; a pedestrian lane sets false
    require_document: bool = True
    require_face_match: bool = True  # the live face compared with the document portrait
    expired_document: Literal["refer", "deny"] = "refer"


class LaneConfig(StrictModel):
    id: Identifier
    name: str = Field(min_length=1)
    cameras: LaneCameras
    # Officer confirmation is the default; auto-clear is a per-lane decision of the authority.
    auto_clear: bool = False
    presence: PresenceConfig = PresenceConfig()
    timeouts: LaneTimeouts = LaneTimeouts()
    policy: LanePolicyConfig = LanePolicyConfig()
    plates: PlatesConfig = PlatesConfig()
    # None: no barrier (or reader) of this lane is wired to this process.
    barrier: BarrierConfig | None = None
    reader: ReaderConfig | None = None


class KioskAuthConfig(StrictModel):
    """Kiosk accounts and sessions (edge.kiosk.auth). Accounts live in state_dir/kiosk/users.sqlite."""

    # A session ends after this long without a request, and in any case this long after login (a shift).
    session_idle_s: float = Field(default=900, gt=0, le=86_400)
    session_max_s: float = Field(default=43_200, gt=0, le=7 * 86_400)
    # After this many wrong passwords or PINs for one name (or from one browser that logged in to the
    # account before), that name (or browser) waits throttle_s from its last failure. Nothing is locked.
    throttle_after: int = Field(default=5, ge=1, le=100)
    throttle_s: float = Field(default=60, gt=0, le=3_600)
    pin_length: int = Field(default=6, ge=4, le=12)  # digits of a badge PIN
    password_min_length: int = Field(default=10, ge=8, le=128)
    # The demo crossing only: create officer/officer, tech/tech and super/super and let them log in.
    demo_accounts: bool = False

    @model_validator(mode="after")
    def _idle_within_max(self) -> KioskAuthConfig:
        if self.session_idle_s > self.session_max_s:
            raise ValueError("session_idle_s must not be longer than session_max_s")
        return self


class KioskConfig(StrictModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    tls_certfile: Path | None = None
    tls_keyfile: Path | None = None
    # Host names the kiosk answers to besides loopback and `host` (e.g. the kiosk PC's DNS name):
    # any other Host header is refused, so a page on a rebound name reaches nothing.
    allowed_hosts: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9.:\[\]-]{1,253}$")]] = []
    auth: KioskAuthConfig = KioskAuthConfig()

    @model_validator(mode="after")
    def _tls_off_loopback(self) -> KioskConfig:
        # Officer sessions and barrier commands must not cross a network in clear text.
        if (self.tls_certfile is None) != (self.tls_keyfile is None):
            raise ValueError("tls_certfile and tls_keyfile must be given together")
        if not _is_loopback(self.host) and self.tls_certfile is None:
            raise ValueError(
                f"host {self.host!r} is not loopback: serving other hosts requires tls_certfile and tls_keyfile"
            )
        if self.auth.demo_accounts and not _is_loopback(self.host):
            # Their passwords are printed in the README: never reachable from another host.
            raise ValueError(f"host {self.host!r} is not loopback: demo_accounts are for a loopback kiosk only")
        return self


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class LoggingConfig(StrictModel):
    level: Literal["debug", "info", "warning", "error"] = "info"
    # json for journald and log shippers; text for a person at a terminal.
    format: Literal["json", "text"] = "json"


class FacesConfig(StrictModel):
    """Face matching (edge.faces): detection, quality gates, fusion, the operating threshold, 1:N index."""

    # Cosine similarity at or above which two faces are the same person. Set by
    # `edge faces calibrate DIR --target-fmr 0.001` on a labelled set, never tuned per test set; the
    # default is `edge faces calibrate DATA/faces/lfw` (README, Face matching; 38,406 impostor pairs, FNMR 9.3% there).
    threshold: float = Field(default=0.9305283427238464, gt=-1, lt=1)
    # "yunet" (models/face_detector_yunet.onnx: a few ms per 720p frame, finds turned and small faces)
    # or "hog" (dlib's HOG, the fallback: about 50 ms per 720p frame at detect_scale 0.7). Either
    # falls back to dlib's CNN (fallback_scale) when a frame that should hold a face gives none.
    detector: Literal["yunet", "hog"] = "yunet"
    # HOG detection runs on the frame scaled by detect_scale: it finds faces from about 80 px
    # (after scaling, halved per upsample step): 0.7 found every face of the synthetic lane (106-134 px
    # wide), 0.5 only three in four (`edge bench face-frames` measures it).
    detect_scale: float = Field(default=0.7, gt=0, le=2)
    detect_upsample: int = Field(default=0, ge=0, le=2)
    # The stronger, slower CNN detector runs (at this scale) only when HOG finds nothing in a frame
    # that should hold a face.
    fallback_scale: float = Field(default=0.5, gt=0, le=2)
    fallback_upsample: int = Field(default=0, ge=0, le=2)
    # Quality gates; a face outside any of them is refused with the reason.
    min_inter_eye_px: float = Field(default=30, gt=0)
    min_sharpness: float = Field(default=1.5, ge=0)
    max_yaw_deg: float = Field(default=30, gt=0, le=90)
    max_pitch_deg: float = Field(default=25, gt=0, le=90)
    max_roll_deg: float = Field(default=30, gt=0, le=90)
    min_brightness: float = Field(default=50, ge=0, le=255)
    max_brightness: float = Field(default=215, ge=0, le=255)
    min_eye_openness: float = Field(default=0.16, ge=0, le=1)
    # Fusion: the best few faces of one traveller, each encoded with its mirror image.
    best_frames: int = Field(default=3, ge=1, le=20)
    mirror: bool = True
    # The network that encodes chips: "onnx" (models/face_encoder.onnx, dlib's network rebuilt, ~10x
    # faster) or "dlib" itself, the fallback; jitters (one extra pass each) need "dlib".
    encoder: Literal["onnx", "dlib"] = "onnx"
    jitters: int = Field(default=0, ge=0, le=100)
    # 1:N: exact below exact_max templates, the approximate index above (or always, as index says).
    index: Literal["auto", "exact", "hnsw"] = "auto"
    exact_max: int = Field(default=20_000, ge=0)
    top_k: int = Field(default=5, ge=1, le=100)

    @model_validator(mode="after")
    def _brightness_order(self) -> FacesConfig:
        if self.max_brightness <= self.min_brightness:
            raise ValueError("max_brightness must be above min_brightness")
        return self

    @model_validator(mode="after")
    def _jitters_need_dlib(self) -> FacesConfig:
        if self.jitters and self.encoder != "dlib":
            raise ValueError('jitters need encoder = "dlib" (the ONNX encoder has no random jitter)')
        return self


class WatchlistKey(StrictModel):
    """A public key the crossing trusts for signed watchlist bundles (`edge watchlist keygen` makes one)."""

    id: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")
    public_key: str = Field(pattern=r"^[A-Za-z0-9+/]{43}=$")  # base64 of the 32 raw Ed25519 bytes
    # Rotation: bundles this key signs that claim a later creation time are refused.
    not_after: datetime | None = None

    @field_validator("not_after")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("not_after needs a time zone, e.g. 2026-01-31T00:00:00Z")
        return value


class WatchlistConfig(StrictModel):
    """The watchlist cache (edge.watchlist): where it lives, where bundles come from, whom to trust."""

    # Relative to the crossing's state_dir.
    state_dir: Path = Path("watchlist")
    # Tried in order on every sync: http(s):// URLs of a publication folder, or folders (a USB stick).
    sources: list[str] = []
    trusted_keys: list[WatchlistKey] = []
    sync_interval_s: float = Field(default=300, gt=0, le=86400)
    # Older than this (since the authority created it), the cache is stale: alarm plus stale_policy.
    max_age_h: float = Field(default=24, gt=0)
    stale_policy: Literal["warn", "refer_all", "no_auto_clear"] = "refer_all"
    # Lists that must be present; a crossing without one of them is stale.
    required_lists: list[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]] = []
    http_timeout_s: float = Field(default=30, gt=0, le=600)
    ca_file: Path | None = None  # a private CA for https sources; the system's CAs otherwise
    max_download_mb: int = Field(default=4096, gt=0)
    # A size budget for the cache database: past it an apply fails like on a full disk (and is refused).
    max_db_mb: int | None = Field(default=None, gt=0)

    @field_validator("sources")
    @classmethod
    def _urls_or_absolute_folders(cls, sources: list[str]) -> list[str]:
        for source in sources:
            if not source.startswith(("http://", "https://", "/")):
                raise ValueError(f"{source!r} must be an http(s):// URL or an absolute folder path")
        return sources

    @field_validator("trusted_keys")
    @classmethod
    def _unique_key_ids(cls, keys: list[WatchlistKey]) -> list[WatchlistKey]:
        ids = [key.id for key in keys]
        if len(set(ids)) != len(ids):
            raise ValueError("each trusted key id may appear only once")
        return keys


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
        if not _is_loopback(self.host) and self.tls is None:
            raise ValueError(f"host {self.host!r} is not loopback: publishing to other hosts requires [central.tls]")
        if self.password_file is not None and self.username is None:
            raise ValueError("password_file needs a username")
        _in_order(self, "backoff_initial_s", "backoff_max_s")
        return self

    @property
    def effective_port(self) -> int:
        if self.port is not None:
            return self.port
        return 1883 if self.tls is None else 8883


class DriftLimits(StrictModel):
    """How far today's frames may stray from the calibrated baseline before `edge calibrate drift` alarms."""

    min_focus_ratio: float = Field(default=0.6, gt=0, le=1)  # today's focus score over the baseline's
    max_brightness_change: float = Field(default=40, gt=0, le=255)  # mean grey level, either way
    max_clipped_increase: float = Field(default=0.05, gt=0, le=1)  # more of the frame black or white
    max_shift_px: float = Field(default=20, gt=0)  # the view moved (camera knocked or turned)
    min_similarity: float = Field(default=0.7, gt=-1, le=1)  # structure of the scene (lens dirty or covered)


class CalibrationConfig(StrictModel):
    """Camera set-up targets for the technician (`edge calibrate ...`) and the drift baseline."""

    # Relative to the crossing's state_dir: one baseline per lane camera.
    baseline_dir: Path = Path("calibration")
    min_plate_char_px: float = Field(default=15, gt=0)  # reliable plate reads need characters this tall
    min_inter_eye_px: float = Field(default=90, gt=0)  # face matching needs eyes this far apart
    vehicle_speed_kmh: float = Field(default=30, gt=0, le=250)  # for the shutter advice
    max_blur_px: float = Field(default=1.0, gt=0, le=10)  # motion blur the shutter advice allows
    drift: DriftLimits = DriftLimits()


class DemoConfig(StrictModel):
    """The demo crossing only (edge/synthetic/demo.py)."""

    # Give every synthetic lane a simulated barrier and document reader (real protocol, loopback
    # TCP) played from the synthetic scene, and publish a signed demo watchlist.
    simulators: bool = False


class EdgeConfig(StrictModel):
    crossing: CrossingConfig
    # Relative paths are resolved against the directory of the config file.
    state_dir: Path
    lanes: list[LaneConfig] = Field(min_length=1)
    kiosk: KioskConfig = KioskConfig()
    logging: LoggingConfig = LoggingConfig()
    watchlist: WatchlistConfig = WatchlistConfig()
    faces: FacesConfig = FacesConfig()
    calibration: CalibrationConfig = CalibrationConfig()
    audit: AuditConfig = AuditConfig()
    outbox: OutboxConfig = OutboxConfig()
    # None: events wait in the outbox (nothing is published) until a broker is configured.
    central: CentralConfig | None = None
    demo: DemoConfig = DemoConfig()

    @field_validator("lanes")
    @classmethod
    def _unique_lane_ids(cls, lanes: list[LaneConfig]) -> list[LaneConfig]:
        seen: set[str] = set()
        for lane in lanes:
            if lane.id in seen:
                raise ValueError(f"lane id {lane.id!r} is used twice")
            seen.add(lane.id)
        return lanes

    def lane(self, lane_id: str) -> LaneConfig:
        for lane in self.lanes:
            if lane.id == lane_id:
                return lane
        raise KeyError(lane_id)


class ConfigError(Exception):
    """A config file that cannot be used; the message names the file, the key and the problem."""

    def __init__(self, path: Path, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


def _key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _describe(error: dict) -> str:
    key = _key_path(error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return f"{key}: unknown key"
    if error["type"] == "missing":
        return f"{key}: required key is missing"
    # A whole section as "input" says nothing a person can use; a scalar value does.
    if "input" in error and not isinstance(error["input"], dict | list):
        return f"{key}: {message} (got {error['input']!r})"
    return f"{key}: {message}"


def _resolve_paths(config: EdgeConfig, base: Path) -> EdgeConfig:
    if config.state_dir.is_absolute():
        return config
    return config.model_copy(update={"state_dir": (base / config.state_dir).resolve()})


def parse_config(text: str, path: Path) -> EdgeConfig:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, [f"not valid TOML: {exc}"]) from None
    except RecursionError:
        # tomllib recurses once per nested array or inline table.
        raise ConfigError(path, ["not valid TOML: nested too deep"]) from None
    try:
        config = EdgeConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(path, [_describe(e) for e in exc.errors()]) from None
    return _resolve_paths(config, path.resolve().parent)


# A crossing's config is a few kB; anything far bigger is not one (a link to /dev/zero, a log file).
MAX_CONFIG_BYTES = 1024 * 1024


def load_config(path: Path | str = DEFAULT_CONFIG) -> EdgeConfig:
    path = Path(path)
    try:
        with path.open("rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                raise ConfigError(path, ["not a regular file"])
            data = file.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(path, ["file not found"]) from None
    except OSError as exc:
        raise ConfigError(path, [f"cannot read: {exc.strerror}"]) from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(path, [f"over {MAX_CONFIG_BYTES // 1024} kB: not a config file"])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(path, [f"not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    return parse_config(text, path)
