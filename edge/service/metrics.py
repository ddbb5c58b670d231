"""Prometheus text exposition, without a client library: the service has few metrics and
computes them on scrape from state it already keeps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Family:
    name: str
    help: str
    kind: Literal["gauge", "counter"]
    samples: Sequence[tuple[dict[str, str], float]]


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items()) + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render(families: list[Family]) -> str:
    lines: list[str] = []
    for family in families:
        lines += [f"# HELP {family.name} {family.help}", f"# TYPE {family.name} {family.kind}"]
        lines += [f"{family.name}{_labels(labels)} {value:g}" for labels, value in family.samples]
    return "\n".join(lines) + "\n"
