"""The document reader: frames off a serial link, turned into verified MRZ reads or re-scan requests.

A document whose MRZ fails any check digit, and any damaged or cut-short frame, becomes a
`RescanRequired` event: the officer is asked to scan again, it is never a silent pass.
Damaged frames and a flooded line also degrade the reader's health, so the lane shows it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from hardware.health import DeviceHealth
from hardware.link import LinkDown, SerialLink
from hardware.mrz import Mrz, MrzFormatError, parse_mrz
from hardware.reader_framing import ReaderFrame, decoder_for
from hardware.settings import ReaderSettings

_CHUNK = 4096
_FLOOD = "flood"


@dataclass(frozen=True)
class DocumentRead:
    """A document whose MRZ passed every check digit."""

    mrz: Mrz
    portrait: bytes | None
    received_at: datetime


@dataclass(frozen=True)
class RescanRequired:
    """The reader sent something that cannot be trusted; the officer must scan the document again."""

    reason: str
    lines: tuple[str, ...]
    received_at: datetime


ReaderEvent = DocumentRead | RescanRequired


class DocumentReader:
    def __init__(
        self, name: str, settings: ReaderSettings, link: SerialLink, today: Callable[[], date] = date.today
    ):
        self.name = name
        self._s = settings
        self._link = link
        self._today = today
        self._decoder = decoder_for(settings.framing, settings.max_frame_bytes)
        self._partial_since: float | None = None
        self._window_start = time.monotonic()
        self._window_bytes = 0

    @property
    def health(self) -> DeviceHealth:
        return self._link.health.health

    def close(self) -> None:
        self._link.close()

    def poll(self, wait_s: float) -> list[ReaderEvent]:
        """Events from the reader, waiting up to `wait_s` for the first. Device trouble never raises."""
        deadline = time.monotonic() + wait_s
        if not self._link.ensure_open():
            time.sleep(max(0.0, deadline - time.monotonic()))
            return []
        events: list[ReaderEvent] = []
        errors: list[str] = []
        while not (events or errors) and time.monotonic() < deadline:
            try:
                data = self._link.read_some(_CHUNK)
            except LinkDown as exc:
                if self._decoder.has_partial():
                    errors.append(f"link lost mid-frame: {exc}")
                    self._decoder.reset()
                break
            flooding, started = self._flooded(len(data))
            if flooding:
                # Whatever arrives during a flood is dropped; its start is reported once.
                if started:
                    events.append(RescanRequired(self._link.health.conditions()[_FLOOD], (), _now()))
                continue
            frames, problems = self._decoder.feed(data) if data else ([], [])
            errors += problems
            errors += self._check_partial()
            events += [self._event(frame) for frame in frames]
        return self._settle(events, errors)

    def _settle(self, events: list[ReaderEvent], errors: list[str]) -> list[ReaderEvent]:
        if errors:
            summary = errors[0] if len(errors) == 1 else f"{errors[0]} (and {len(errors) - 1} more problems)"
            self._link.health.fault(f"reader frame error: {summary}")
            events.append(RescanRequired(f"damaged frame from the reader: {summary}", (), _now()))
        elif self._link.is_open and _FLOOD not in self._link.health.conditions() and not self._decoder.has_partial():
            # Quiet and settled: nothing half-received that could still turn out damaged.
            self._link.health.good()
        return events

    def _check_partial(self) -> list[str]:
        if not self._decoder.has_partial():
            self._partial_since = None
            return []
        now = time.monotonic()
        if self._partial_since is None:
            self._partial_since = now
        elif now - self._partial_since > self._s.frame_timeout_s:
            self._decoder.reset()
            self._partial_since = None
            return [f"frame cut short: nothing more for {self._s.frame_timeout_s:g} s"]
        return []

    def _flooded(self, received: int) -> tuple[bool, bool]:
        """(flooding, just started): more than flood_bytes_per_s sets a standing fault, a calm second clears it."""
        now = time.monotonic()
        self._window_bytes += received
        elapsed = now - self._window_start
        limit = self._s.flood_bytes_per_s
        health = self._link.health
        started = False
        if self._window_bytes > limit:
            if _FLOOD not in health.conditions():
                health.set_condition(_FLOOD, f"reader is flooding the line (over {limit} bytes/s); input ignored")
                self._decoder.reset()
                started = True
        elif elapsed >= 1.0:
            health.clear_condition(_FLOOD)
        if elapsed >= 1.0:
            self._window_start, self._window_bytes = now, 0
        return _FLOOD in health.conditions(), started

    def _event(self, frame: ReaderFrame) -> ReaderEvent:
        try:
            mrz = parse_mrz(frame.lines, today=self._today())
        except MrzFormatError as exc:
            return RescanRequired(str(exc), frame.lines, _now())
        if not mrz.valid:
            return RescanRequired("MRZ failed verification: " + "; ".join(mrz.problems), frame.lines, _now())
        return DocumentRead(mrz, frame.portrait, _now())


def _now() -> datetime:
    return datetime.now(UTC)
