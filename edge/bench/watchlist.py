"""`edge bench sync`: publish a synthetic list, apply it and a delta, and time lookups.

Everything goes through the real paths: the publisher writes signed bundles, the crossing's
cache verifies and applies them, lookups run through `Lookup` with a fresh read snapshot each.
"""

from __future__ import annotations

import os
import random
import resource
import string
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from edge.watchlist.apply import apply_bundle
from edge.watchlist.keys import Keyring, TrustedKey, generate_private_key, public_key_text
from edge.watchlist.lookup import Lookup
from edge.watchlist.publish import Publisher
from edge.watchlist.store import WatchlistStore

_ALNUM = string.ascii_uppercase + string.digits
_ACTIONS = ("alert", "refer", "deny")
_REASONS = ("stolen vehicle", "wanted person", "lost document", "stolen document", "court order")
_STATES = ("UTO", "D", "FRA", "GBR", "USA", "POL", "ESP", "ITA")


def _kind(n: int) -> str:
    """Record n's kind, fixed by n so a delta can change a record without changing its kind."""
    slot = n % 100
    return "plate" if slot < 60 else "document" if slot < 97 else "person"


class _Generator:
    """Synthetic records: 60 % plates, 37 % documents, 3 % persons (a third of those with a face)."""

    def __init__(self, seed: int, samples: int, records: int):
        self.rng = random.Random(seed)
        self.samples = samples
        self._rate = min(1.0, 3 * samples / max(1, records))
        self.plates: list[str] = []  # some listed plates and documents, to look up later
        self.documents: list[tuple[str, str]] = []

    def record(self, n: int) -> dict[str, Any]:
        rng = self.rng
        common = {"id": f"R{n}", "reason": rng.choice(_REASONS), "action": rng.choice(_ACTIONS), "source": f"case {n}"}
        kind = _kind(n)
        if kind == "plate":
            plate = "".join(rng.choices(string.ascii_uppercase, k=3)) + "".join(rng.choices(string.digits, k=4))
            if len(self.plates) < self.samples and rng.random() < self._rate:
                self.plates.append(plate)
            return {"kind": kind, "plate": plate, "region": "EU", **common}
        if kind == "document":
            number, issuer = "".join(rng.choices(_ALNUM, k=9)), rng.choice(_STATES)
            if len(self.documents) < self.samples and rng.random() < self._rate:
                self.documents.append((number, issuer))
            return {"kind": kind, "number": number, "issuer": issuer, **common}
        vector = [rng.uniform(-0.3, 0.3) for _ in range(128)]
        faces = [{"id": "f1", "quality": 0.8, "vector": vector}] if n % 3 == 0 else []
        return {"kind": kind, "surname": f"PERSON{n}", "given_names": "TEST", "dob": "1980-01-01",
                "nationality": rng.choice(_STATES), "faces": faces, **common}

    def delta(self, records: int, size: int) -> Iterator[dict[str, Any]]:
        """`size` operations: 20 % changed records, 10 % withdrawn, 70 % new."""
        existing = self.rng.sample(range(records), min(records, size * 3 // 10))
        cut = len(existing) * 2 // 3
        for n in existing[:cut]:
            yield self.record(n)
        for n in existing[cut:]:
            yield {"op": "delete", "kind": _kind(n), "id": f"R{n}"}
        yield from (self.record(n) for n in range(records, records + size - len(existing)))


def _numbered(items: Iterator[dict[str, Any]]) -> Iterator[tuple[int, dict[str, Any]]]:
    return enumerate(items, start=1)


def _p99_us(timed: Callable[[Any], object], inputs: list[Any]) -> tuple[float, float]:
    """p99 of wall time and of this thread's CPU time, in microseconds.

    On a machine shared with other work, wall-time tails are mostly waits for a CPU; the CPU-time
    p99 is what the lookup itself costs.
    """
    wall, cpu = [], []
    for item in inputs:
        started, started_cpu = time.perf_counter(), time.thread_time()
        timed(item)
        cpu.append(time.thread_time() - started_cpu)
        wall.append(time.perf_counter() - started)
    at = min(len(inputs) - 1, int(len(inputs) * 0.99))
    return round(sorted(wall)[at] * 1e6, 1), round(sorted(cpu)[at] * 1e6, 1)


def run(records: int, delta_records: int, lookups: int, work_dir: Path | None, seed: int = 1) -> dict[str, Any]:
    gen = _Generator(seed, lookups, records)
    rng = random.Random(seed + 1)
    with tempfile.TemporaryDirectory(dir=work_dir, prefix="edge-bench-sync-") as tmp:
        root = Path(tmp)
        key = generate_private_key()
        publisher = Publisher(root / "out", root / "authority", key, "bench", valid_for_s=86400)
        started = time.perf_counter()
        full = publisher.publish_full("bench", Path("synthetic"), _numbered(gen.record(n) for n in range(records)))
        publish_s = time.perf_counter() - started
        delta = publisher.publish_delta("bench", Path("synthetic-delta"), _numbered(gen.delta(records, delta_records)))
        publisher.close()

        keyring = Keyring([TrustedKey("bench", public_key_text(key))])
        store = WatchlistStore(root / "edge" / "watchlist.sqlite")
        started_cpu = time.process_time()
        applied = apply_bundle(store, full.path, keyring, source="bench")
        apply_cpu_s = time.process_time() - started_cpu
        started_cpu = time.process_time()
        applied_delta = apply_bundle(store, delta.path, keyring, source="bench")
        delta_cpu_s = time.process_time() - started_cpu
        for result in (applied, applied_delta):
            if not result.applied:
                raise RuntimeError(f"bundle refused: {result.detail}")

        lookup = Lookup(store)
        now = time.time()
        absent = ["ZZ" + "".join(rng.choices(string.digits, k=5)) for _ in range(lookups)]
        plate_inputs = [*gen.plates, *absent]
        misreads = [p[:i] + rng.choice(_ALNUM) + p[i + 1 :] for p in gen.plates for i in [rng.randrange(len(p))]]
        exact = _p99_us(lambda p: lookup.plate(p, now=now, fuzzy=False), plate_inputs)
        fuzzy = _p99_us(lambda p: lookup.plate(p, now=now), misreads + absent[: len(misreads)])
        documents = _p99_us(lambda d: lookup.document(*d, now=now), gen.documents)
        stats = {
            "records": records,
            "apply_s": round(applied.duration_s, 2),
            "delta_records": delta_records,
            "delta_apply_s": round(applied_delta.duration_s, 3),
            "lookup_p99_us": exact[0],
            "fuzzy_p99_us": fuzzy[0],
            "document_p99_us": documents[0],
            "apply_cpu_s": round(apply_cpu_s, 2),
            "delta_apply_cpu_s": round(delta_cpu_s, 3),
            "lookup_cpu_p99_us": exact[1],
            "fuzzy_cpu_p99_us": fuzzy[1],
            "document_cpu_p99_us": documents[1],
            "lookup_samples": len(plate_inputs),
            "publish_s": round(publish_s, 2),
            "bundle_mb": round(full.path.stat().st_size / 1e6, 1),
            "db_mb": round(store.path.stat().st_size / 1e6, 1),
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "load_avg_1m": round(os.getloadavg()[0], 2),  # other work on the machine while measuring
        }
        store.close()
    return stats
