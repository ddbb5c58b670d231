"""The three ways a document reader frames what it sends, both directions.

- `lines`: MRZ lines as text, each ended by CR, LF or CR LF. The length of the first line
  says how many follow (30 → 3 lines, 36 or 44 → 2). Text only: no portrait.
- `stx`: STX, the MRZ lines separated by CR, optionally GS + 4-byte big-endian length +
  portrait bytes, then ETX and a block check character: the XOR of every byte after STX up to
  and including ETX.
- `length`: binary. 0xAA 0x55, a 4-byte big-endian body length, the body, and the body's
  CRC-32 (4 bytes, big-endian). The body is a 2-byte MRZ length, the MRZ lines separated by
  CR, and the portrait bytes (the rest of the body, possibly none).

Decoders are incremental (`feed` bytes as they arrive) and never trust the line: every
problem is returned as a message and the decoder resynchronises on the next frame start,
keeping no more than `max_frame_bytes` buffered.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Literal, Protocol

Framing = Literal["lines", "stx", "length"]
FRAMINGS: tuple[Framing, ...] = ("lines", "stx", "length")

STX, ETX, GS = 0x02, 0x03, 0x1D
SYNC = b"\xaa\x55"
_LINES_PER_LENGTH = {30: 3, 36: 2, 44: 2}
_MRZ_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<\r\n")
# The longest MRZ text a frame can carry: three 44-character lines and their separators, with room.
_MAX_MRZ_TEXT = 200


@dataclass(frozen=True)
class ReaderFrame:
    lines: tuple[str, ...]
    portrait: bytes | None


class FrameDecoder(Protocol):
    def feed(self, data: bytes) -> tuple[list[ReaderFrame], list[str]]:
        """Frames completed by `data`, and a message for each problem found."""
        ...

    def has_partial(self) -> bool:
        """True while part of a frame is buffered, waiting for the rest."""
        ...

    def reset(self) -> None:
        """Drop a partial frame (the reader stopped mid-frame)."""
        ...


def _mrz_text(lines: tuple[str, ...] | list[str]) -> bytes:
    return "\r".join(lines).encode("ascii")


def _split_text(text: bytes) -> tuple[str, ...]:
    return tuple(line for line in text.decode("ascii").replace("\n", "\r").split("\r") if line)


def block_check(data: bytes | bytearray) -> int:
    bcc = 0
    for b in data:
        bcc ^= b
    return bcc


def encode_frame(framing: Framing, lines: tuple[str, ...] | list[str], portrait: bytes | None = None) -> bytes:
    """The bytes a reader sends for one document."""
    if framing == "lines":
        if portrait:
            raise ValueError("the lines framing is text only; it cannot carry a portrait")
        return b"".join(line.encode("ascii") + b"\r\n" for line in lines)
    text = _mrz_text(lines)
    if framing == "stx":
        inner = text + (bytes([GS]) + struct.pack(">I", len(portrait)) + portrait if portrait else b"") + bytes([ETX])
        return bytes([STX]) + inner + bytes([block_check(inner)])
    body = struct.pack(">H", len(text)) + text + (portrait or b"")
    return SYNC + struct.pack(">I", len(body)) + body + struct.pack(">I", zlib.crc32(body))


def decoder_for(framing: Framing, max_frame_bytes: int) -> FrameDecoder:
    if framing == "lines":
        return LinesDecoder()
    if framing == "stx":
        return StxDecoder(max_frame_bytes)
    return LengthPrefixedDecoder(max_frame_bytes)


class LinesDecoder:
    _MAX_LINE = 128  # an MRZ line is at most 44 characters; anything much longer is not one

    def __init__(self) -> None:
        self._buf = bytearray()
        self._lines: list[str] = []

    def has_partial(self) -> bool:
        return bool(self._buf or self._lines)

    def reset(self) -> None:
        self._buf.clear()
        self._lines.clear()

    def feed(self, data: bytes) -> tuple[list[ReaderFrame], list[str]]:
        self._buf += data
        frames: list[ReaderFrame] = []
        errors: list[str] = []
        while True:
            cut = next((i for i, b in enumerate(self._buf) if b in (0x0A, 0x0D)), -1)
            if cut < 0:
                if len(self._buf) > self._MAX_LINE:
                    errors.append(f"{len(self._buf)} bytes without a line end")
                    self._buf.clear()
                return frames, errors
            raw = bytes(self._buf[:cut]).strip()
            del self._buf[: cut + 1]
            if raw:
                self._line(raw, frames, errors)

    def _line(self, raw: bytes, frames: list[ReaderFrame], errors: list[str]) -> None:
        if len(raw) not in _LINES_PER_LENGTH or not set(raw) <= _MRZ_BYTES:
            errors.append(f"not an MRZ line ({len(raw)} bytes: {raw[:48]!r})")
            self._drop_partial(errors)
            return
        line = raw.decode("ascii")
        if self._lines and len(self._lines[0]) != len(line):
            self._drop_partial(errors)
        self._lines.append(line)
        if len(self._lines) == _LINES_PER_LENGTH[len(line)]:
            frames.append(ReaderFrame(tuple(self._lines), None))
            self._lines.clear()

    def _drop_partial(self, errors: list[str]) -> None:
        if self._lines:
            errors.append(f"document cut short after {len(self._lines)} line(s)")
            self._lines.clear()


class _BufferedDecoder:
    """What the block and binary decoders share: a byte buffer that may hold a partial frame."""

    def __init__(self, max_frame_bytes: int):
        self._max = max_frame_bytes
        self._buf = bytearray()

    def has_partial(self) -> bool:
        return bool(self._buf)

    def reset(self) -> None:
        self._buf.clear()


class StxDecoder(_BufferedDecoder):
    def feed(self, data: bytes) -> tuple[list[ReaderFrame], list[str]]:
        self._buf += data
        frames: list[ReaderFrame] = []
        errors: list[str] = []
        while self._buf:
            start = self._buf.find(STX)
            if start != 0:
                skipped = len(self._buf) if start < 0 else start
                errors.append(f"{skipped} bytes of noise outside a block")
                del self._buf[:skipped]
                continue
            outcome = self._block()
            if outcome is None:
                break
            consumed, frame, error = outcome
            del self._buf[:consumed]
            if frame is not None:
                frames.append(frame)
            if error is not None:
                errors.append(error)
        return frames, errors

    def _block(self) -> tuple[int, ReaderFrame | None, str | None] | None:
        """Parse the block at the start of the buffer: None if incomplete, else what to consume and why."""
        buf = self._buf
        end = 1
        while end < len(buf) and buf[end] not in (ETX, GS):
            if buf[end] not in _MRZ_BYTES:
                return end, None, f"block interrupted by byte 0x{buf[end]:02x}"
            if end > _MAX_MRZ_TEXT:
                return end, None, f"block text longer than {_MAX_MRZ_TEXT} bytes"
            end += 1
        if end >= len(buf):
            return None
        text = bytes(buf[1:end])
        portrait = None
        if buf[end] == GS:
            if len(buf) < end + 5:
                return None
            (size,) = struct.unpack(">I", buf[end + 1 : end + 5])
            if size > self._max:
                return 1, None, f"portrait length {size} exceeds max_frame_bytes {self._max}"
            if len(buf) < end + 5 + size + 1:
                return None
            portrait = bytes(buf[end + 5 : end + 5 + size])
            end += 5 + size
            if buf[end] != ETX:
                return 1, None, "portrait not followed by ETX"
        if len(buf) < end + 2:
            return None
        if block_check(buf[1 : end + 1]) != buf[end + 1]:
            return end + 2, None, "block check character does not match"
        return end + 2, ReaderFrame(_split_text(text), portrait), None


class LengthPrefixedDecoder(_BufferedDecoder):
    _HEADER = len(SYNC) + 4

    def feed(self, data: bytes) -> tuple[list[ReaderFrame], list[str]]:
        self._buf += data
        frames: list[ReaderFrame] = []
        errors: list[str] = []
        while self._buf:
            start = self._buf.find(SYNC)
            if start != 0:
                # Keep a trailing first sync byte: its partner may be in the next read.
                skipped = len(self._buf) - (self._buf[-1] == SYNC[0]) if start < 0 else start
                if skipped == 0:
                    break
                errors.append(f"{skipped} bytes of noise outside a frame")
                del self._buf[:skipped]
                continue
            if len(self._buf) < self._HEADER:
                break
            (size,) = struct.unpack(">I", self._buf[2 : self._HEADER])
            if not 2 <= size <= self._max:
                errors.append(f"implausible frame length {size}")
                del self._buf[:1]
                continue
            total = self._HEADER + size + 4
            if len(self._buf) < total:
                break
            body = bytes(self._buf[self._HEADER : self._HEADER + size])
            (crc,) = struct.unpack(">I", self._buf[self._HEADER + size : total])
            if crc != zlib.crc32(body):
                # The length itself may be what was corrupted: resynchronise byte by byte.
                errors.append("frame CRC-32 does not match")
                del self._buf[:1]
                continue
            del self._buf[:total]
            frame, error = self._body(body)
            if frame is not None:
                frames.append(frame)
            if error is not None:
                errors.append(error)
        return frames, errors

    @staticmethod
    def _body(body: bytes) -> tuple[ReaderFrame | None, str | None]:
        (text_len,) = struct.unpack(">H", body[:2])
        text = body[2 : 2 + text_len]
        if len(text) != text_len or not set(text) <= _MRZ_BYTES:
            return None, "frame body does not start with MRZ text"
        return ReaderFrame(_split_text(text), body[2 + text_len :] or None), None
