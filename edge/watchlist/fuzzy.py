"""Candidate keys for a fuzzy plate lookup: everything one edit away from a read, modulo look-alikes.

The index holds plate skeletons (look-alikes merged, see `normalize.plate_skeleton`), so a single
probe finds every plate that differs from the read only by look-alikes, at any number of positions.
One substitution, insertion or deletion on top of that is a few hundred more probes: cheap in one
`IN (...)` query, and far smaller on disk than indexing every plate's deletion neighbourhood.
"""

from __future__ import annotations

from edge.watchlist.normalize import SKELETON_ALPHABET


def edit1_skeletons(skeleton: str) -> set[str]:
    """Every skeleton at edit distance exactly 1 from `skeleton` (over the skeleton alphabet)."""
    out: set[str] = set()
    for i in range(len(skeleton)):
        head, tail = skeleton[:i], skeleton[i + 1 :]
        if head or tail:
            out.add(head + tail)
        for ch in SKELETON_ALPHABET:
            out.add(head + ch + tail)
            out.add(head + ch + skeleton[i:])
    for ch in SKELETON_ALPHABET:
        out.add(skeleton + ch)
    out.discard(skeleton)
    return out


def edit_distance_at_most_1(a: str, b: str) -> bool:
    """Whether two strings are at most one substitution, insertion or deletion apart."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return short[i:] == long[i + 1 :]
