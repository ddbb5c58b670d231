"""Timestamps on the wire: ISO 8601 UTC to the second ('2025-01-31T00:00:00Z'), one spelling only.

One spelling means a timestamp read from a bundle and written back from the cache is the same
text, which the record digests (and so the cache's content hash) rely on.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_WIRE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def parse(text: str) -> int:
    """Seconds since the epoch; ValueError unless `text` is exactly in the wire spelling."""
    if not isinstance(text, str) or not _WIRE.fullmatch(text):
        raise ValueError(f"timestamp {text!r} is not YYYY-MM-DDTHH:MM:SSZ")
    try:
        return int(datetime.fromisoformat(text).timestamp())
    except ValueError:
        raise ValueError(f"timestamp {text!r} is not a real date and time") from None


def render(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
