"""glibc's malloc arenas, capped for a process that runs for months with many threads.

glibc gives every thread that allocates its own arena, up to 8 per core (16 on the crossing's 2
cores), and an arena keeps what its threads freed for their next allocations. The crossing runs
about 25 threads (cameras, lane workers, face and plate inference, kiosk, devices) that allocate
and free 2.7 MB frames and their working copies. On the demo checkpoint that left ~240 MB of a
~720 MB RSS as free memory spread over 16 arenas, and the arenas kept creeping up as their free
space fragmented, while the memory in use stayed flat. With two arenas the same crossing ran at
~576 MB, flat after the first day/night cycle of the scene (docs/benchmarks.md, "edge bench soak"). The measurements
behind this are in docs/benchmarks.md; nothing in the product's Python or native code was accumulating.
"""

from __future__ import annotations

import ctypes
import os

ARENA_MAX = 2
_M_ARENA_MAX = -8  # mallopt() parameter number, from glibc's <malloc.h>


def _operator_chose() -> bool:
    """The environment already sets the arena limit (glibc applied it when the process started)."""
    return "MALLOC_ARENA_MAX" in os.environ or "glibc.malloc.arena_max" in os.environ.get("GLIBC_TUNABLES", "")


def cap_arenas() -> bool:
    """Cap this process's malloc arenas at ARENA_MAX; returns whether it was done here.

    Call it before the service starts its threads: arenas that already exist stay. An operator's
    own limit in the environment is left as it is, and so is a C library other than glibc (musl's
    mallopt does nothing and says so)."""
    if _operator_chose():
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process already runs on
    except (OSError, AttributeError):
        return False
    return mallopt(_M_ARENA_MAX, ARENA_MAX) == 1
