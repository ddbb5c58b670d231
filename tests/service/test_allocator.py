"""The malloc arena cap, counted by glibc itself (malloc_info) in real processes with real threads."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from pathlib import Path

import pytest

from edge.service.allocator import ARENA_MAX

ROOT = Path(__file__).resolve().parents[2]
THREADS = 8

# Eight threads allocate and stay alive together (a thread that ends hands its arena on), then
# glibc reports its arenas ("heaps") in malloc_info's XML.
_CHILD = f"""
import ctypes, sys, threading
from edge.service.allocator import cap_arenas
capped = cap_arenas() if sys.argv[2] == "cap" else False
together = threading.Barrier({THREADS} + 1)
held = []
def allocate():
    held.append(bytearray(1 << 16))  # above pymalloc's limit: malloc, from this thread's arena
    together.wait()
    together.wait()
threads = [threading.Thread(target=allocate) for _ in range({THREADS})]
for thread in threads:
    thread.start()
together.wait()
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
report = libc.fopen(sys.argv[1].encode(), b"w")
libc.malloc_info(0, report)
libc.fclose(report)
together.wait()
for thread in threads:
    thread.join()
print(capped)
"""

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="arenas are glibc's")


def _arenas(tmp_path: Path, mode: str, **env: str) -> tuple[int, bool]:
    """(arenas glibc had with every thread alive, whether cap_arenas() set the cap)."""
    clean = {k: v for k, v in os.environ.items() if k not in ("MALLOC_ARENA_MAX", "GLIBC_TUNABLES")}
    report = tmp_path / f"{mode}-malloc-info.xml"
    done = subprocess.run([sys.executable, "-c", _CHILD, str(report), mode], cwd=ROOT, env=clean | env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return len(re.findall(r"<heap nr=", report.read_text())), done.stdout.strip() == "True"


def test_capped_process_keeps_to_two_arenas_however_many_threads_allocate(tmp_path):
    uncapped, _ = _arenas(tmp_path, "plain")
    assert uncapped > ARENA_MAX  # glibc's default: a new arena for each new thread
    arenas, capped = _arenas(tmp_path, "cap")
    assert capped and arenas <= ARENA_MAX == 2


def test_an_operators_limit_in_the_environment_is_kept(tmp_path):
    arenas, capped = _arenas(tmp_path, "cap", MALLOC_ARENA_MAX="4")
    assert not capped and ARENA_MAX < arenas <= 4
    arenas, capped = _arenas(tmp_path, "cap", GLIBC_TUNABLES="glibc.malloc.arena_max=3")
    assert not capped and ARENA_MAX < arenas <= 3
