"""A document reader that sends MRZ frames on command, in any of the three framings, with faults.

Control commands (one per line):
  present LINE1 LINE2 [LINE3]   send one document (the MRZ lines as given, OCR confusions and all)
  portrait on|off               append a portrait image to documents (stx and length framings)
  portrait file PATH            append this image file as the portrait from now on
  garbage N                     send N random bytes now
  flood SECONDS                 send random bytes as fast as the line takes them for SECONDS
  fault truncate|badframe [COUNT]
                                spoil the next COUNT documents (default 1): cut the frame short,
                                or damage it (a flipped byte; in the lines framing, which has no
                                checksum, a birth-date digit, so the MRZ check digits catch it)
  fault clear                   end every fault
  stats                         documents sent, framing, pending faults
"""

from __future__ import annotations

import random
from pathlib import Path

from hardware.reader_framing import FRAMINGS, Framing, encode_frame
from hardware.sim.runtime import Output

# A 16x16 grey ramp as a binary PGM: small, and a real image format a viewer opens.
PORTRAIT = b"P5\n16 16\n255\n" + bytes(range(256))
_FLOOD_CHUNK = 8192


class ReaderSim:
    def __init__(self, framing: Framing, output: Output, seed: int):
        if framing not in FRAMINGS:
            raise ValueError(f"framing must be one of {', '.join(FRAMINGS)}, not {framing!r}")
        self._framing = framing
        self._out = output
        self._rng = random.Random(seed)
        self._portrait = False
        self._portrait_image = PORTRAIT
        self._flood_until = 0.0
        self._spoil: tuple[str, int] | None = None
        self.documents = 0

    def receive(self, data: bytes, now: float) -> None:
        """This reader takes no commands from the host; what it is sent is ignored, as by a real one."""

    def tick(self, now: float) -> None:
        if now < self._flood_until:
            self._out.send(self._rng.randbytes(_FLOOD_CHUNK), now)

    def command(self, words: list[str], now: float) -> dict:
        verb, args = words[0], words[1:]
        if verb == "present" and len(args) in (2, 3):
            self._present(args, now)
        elif verb == "portrait" and args in (["on"], ["off"]):
            if args == ["on"] and self._framing == "lines":
                raise ValueError("the lines framing cannot carry a portrait")
            self._portrait = args == ["on"]
        elif verb == "portrait" and len(args) == 2 and args[0] == "file":
            if self._framing == "lines":
                raise ValueError("the lines framing cannot carry a portrait")
            try:
                self._portrait_image = Path(args[1]).read_bytes()
            except OSError as exc:
                raise ValueError(f"cannot read portrait {args[1]}: {exc.strerror}") from None
            self._portrait = True
        elif verb == "garbage" and len(args) == 1:
            self._out.send(self._rng.randbytes(int(args[0])), now)
        elif verb == "flood" and len(args) == 1:
            self._flood_until = now + float(args[0])
        elif verb == "fault" and args == ["clear"]:
            self._spoil = None
            self._flood_until = 0.0
        elif verb == "fault" and len(args) in (1, 2) and args[0] in ("truncate", "badframe"):
            self._spoil = (args[0], int(args[1]) if len(args) == 2 else 1)
        elif verb != "stats" or args:
            raise ValueError(
                "unknown command; expected present LINES, portrait on|off|file PATH, garbage N, flood SECONDS, "
                "fault truncate|badframe [COUNT], fault clear, stats, unplug, replug, quit"
            )
        return self.stats(now)

    def _present(self, lines: list[str], now: float) -> None:
        kind = self._take_spoiler()
        if kind == "badframe" and self._framing == "lines":
            lines = _shift_birth_digit(lines)
        frame = encode_frame(self._framing, lines, self._portrait_image if self._portrait else None)
        if kind == "badframe" and self._framing != "lines":
            at = self._rng.randrange(1, len(frame))
            frame = frame[:at] + bytes([frame[at] ^ self._rng.randint(1, 255)]) + frame[at + 1 :]
        elif kind == "truncate":
            # Cut at least two bytes: the lines framing's last CR LF, the stx framing's ETX and BCC.
            frame = frame[: self._rng.randint(1, len(frame) - 2)]
        self.documents += 1
        self._out.send(frame, now)

    def _take_spoiler(self) -> str | None:
        if self._spoil is None:
            return None
        kind, left = self._spoil
        self._spoil = (kind, left - 1) if left > 1 else None
        return kind

    def stats(self, now: float) -> dict:
        return {
            "documents_sent": self.documents,
            "framing": self._framing,
            "portrait": self._portrait,
            "flooding": now < self._flood_until,
            "spoiling": self._spoil[0] if self._spoil else None,
        }


def _shift_birth_digit(lines: list[str]) -> list[str]:
    """Change the first digit of the birth date; its check digit can never agree afterwards."""
    column = 0 if len(lines) == 3 else 13
    line = lines[1]
    digit = line[column]
    if not digit.isdigit():
        raise ValueError(f"line 2 has no birth date digit at column {column + 1}")
    changed = line[:column] + str((int(digit) + 1) % 10) + line[column + 1 :]
    return [lines[0], changed, *lines[2:]]
