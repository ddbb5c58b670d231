"""The campaign: a registry of attacks, and a run that reports which held.

An attack is a function of the `Target` that returns when the defence held (optionally with a
line of what it measured) and raises `Breach` when it did not. Anything else it raises (a
timeout, a refused connection) is a failure too: an attack that cannot tell whether the defence
held has not shown that it did.
"""

from __future__ import annotations

import importlib
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from edge.attacks.target import Target

# Module order is run order; `audit_log` restarts and kills the service, so it goes last.
ATTACK_MODULES = ("edge.attacks.kiosk", "edge.attacks.crossings", "edge.attacks.files", "edge.attacks.mirror",
                  "edge.attacks.audit_log")
RSS_LIMIT_MB = 1024.0  # the service's memory, sampled throughout; the unit's cap is 2 GB


class Breach(Exception):
    """The defence did not hold; the message says what happened."""


@dataclass(frozen=True)
class Attack:
    name: str
    what: str
    run: Callable[[Target], str | None]
    finding: int | None  # its number in the attack report it replays, if any


@dataclass(frozen=True)
class Verdict:
    attack: Attack
    held: bool
    detail: str  # why it failed, or what it measured when it held
    seconds: float


_REGISTRY: list[Attack] = []


def attack(name: str, what: str, *, finding: int | None = None) -> Callable[[Callable[[Target], str | None]], Callable]:
    """Register an attack under `name` (unique, kebab-case); `what` is one line for the listing."""
    def register(run: Callable[[Target], str | None]) -> Callable[[Target], str | None]:
        if any(known.name == name for known in _REGISTRY):
            raise ValueError(f"two attacks are named {name!r}")
        _REGISTRY.append(Attack(name, what, run, finding))
        return run
    return register


def all_attacks() -> list[Attack]:
    """Every attack in run order: by module as listed, then as written (whoever imported what first)."""
    for module in ATTACK_MODULES:
        importlib.import_module(module)
    return sorted(_REGISTRY, key=lambda a: ATTACK_MODULES.index(a.run.__module__))


def run_attacks(attacks: list[Attack], target: Target) -> Iterator[Verdict]:
    for chosen in attacks:
        started = time.monotonic()
        try:
            note = chosen.run(target)
        except Breach as exc:
            yield Verdict(chosen, False, str(exc), time.monotonic() - started)
        except Exception as exc:
            where = traceback.extract_tb(exc.__traceback__)[-1]
            detail = f"{type(exc).__name__}: {exc} (at {where.filename}:{where.lineno})"
            yield Verdict(chosen, False, detail, time.monotonic() - started)
        else:
            yield Verdict(chosen, True, note or "", time.monotonic() - started)
