"""Hostile files handed to the CLI: configs that nest, never end or are huge; images that claim or
hold more pixels than any camera makes."""

from __future__ import annotations

import os
import struct
import zlib

from edge.attacks.campaign import Breach, attack
from edge.attacks.cli import CliRun, run_edge
from edge.attacks.target import Target

CLI_RSS_LIMIT_MB = 1024.0


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def grey_png(width: int, height: int, rows: int | None = None) -> bytes:
    """A grey PNG of width x height whose first `rows` rows (all by default) are really there:
    compressed row by row, so a huge image is written without ever being held in memory."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    packer = zlib.compressobj(9)
    row = b"\x00" + b"\x80" * width  # filter byte, then the pixels
    body = b"".join(packer.compress(row) for _ in range(height if rows is None else rows)) + packer.flush()
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def _refused_plainly(run: CliRun, what: str, words: tuple[str, ...], exit_code: int) -> None:
    problems = []
    if run.returncode != exit_code:
        problems.append(f"exit {run.returncode} (expected {exit_code})")
    if "Traceback" in run.stderr:
        problems.append("a traceback")
    if not any(word in run.stderr for word in words):
        problems.append(f"no message naming the problem ({' or '.join(words)})")
    if run.peak_rss_mb > CLI_RSS_LIMIT_MB:
        problems.append(f"{run.peak_rss_mb:.0f} MB RSS")
    if problems:
        raise Breach(f"{what}: " + ", ".join(problems) + f"; it said: {run.said()}")


@attack("config-nested", "`edge config check` on a TOML nested 100,000 deep", finding=15)
def config_nested(target: Target) -> None:
    path = target.scratch / "nested.toml"
    path.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    _refused_plainly(run_edge("config", "check", path), "a deeply nested config", ("nested too deep",), 2)


@attack("config-endless", "`edge config check` on a link to /dev/zero", finding=15)
def config_endless(target: Target) -> None:
    path = target.scratch / "zero.toml"
    path.unlink(missing_ok=True)
    os.symlink("/dev/zero", path)
    _refused_plainly(run_edge("config", "check", path), "a config linked to /dev/zero", ("regular file",), 2)


@attack("config-huge", "`edge config check` on a 50 MB config of comments")
def config_huge(target: Target) -> None:
    path = target.scratch / "huge.toml"
    with path.open("w") as out:
        line = "# " + "x" * 1000 + "\n"
        for _ in range(50_000):
            out.write(line)
    _refused_plainly(run_edge("config", "check", path), "a 50 MB config", ("kB: not a config file",), 2)


@attack("image-header-giant", "`edge alpr` on a PNG whose header claims 100000 x 100000", finding=16)
def image_header_giant(target: Target) -> None:
    path = target.scratch / "claims-giant.png"
    path.write_bytes(grey_png(100_000, 100_000, rows=1))
    _refused_plainly(run_edge("alpr", path), "a PNG claiming 10 GP", ("too large", "over the 50 MP"), 1)


@attack("image-real-giant", "`edge alpr` on a real 20000 x 20000 PNG", finding=16)
def image_real_giant(target: Target) -> None:
    path = target.scratch / "giant.png"
    path.write_bytes(grey_png(20_000, 20_000))
    _refused_plainly(run_edge("alpr", path), "a real 400 MP PNG", ("too large", "over the 50 MP"), 1)


@attack("image-garbage", "`edge alpr` on a JPEG name holding random bytes, and on an empty file")
def image_garbage(target: Target) -> None:
    garbage, empty = target.scratch / "garbage.jpg", target.scratch / "empty.png"
    garbage.write_bytes(os.urandom(4096))
    empty.write_bytes(b"")
    _refused_plainly(run_edge("alpr", garbage, empty), "garbage images", (str(garbage),), 1)
