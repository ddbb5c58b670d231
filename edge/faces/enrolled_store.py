"""Templates enrolled at this edge (`edge faces enrol`), in a small SQLite file of their own.

The watchlist's templates arrive in signed bundles from the authority (edge.watchlist); this
store holds faces enrolled locally, for trying a lane or for handing to the authority. Both
give (template_id, person_id, vector) rows, so one gallery builder serves both. `generation`
moves on with every change, so a gallery knows when it is stale.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from edge.faces.encoding import DIMENSIONS
from edge.faces.types import FaceTemplate

_SCHEMA = """
CREATE TABLE IF NOT EXISTS templates (
    template_id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL,
    quality REAL NOT NULL,
    vector BLOB NOT NULL,
    source TEXT NOT NULL,
    enrolled_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('generation', 0);
"""


class EnrolledStore:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path)
        self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> EnrolledStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def generation(self) -> int:
        return self._conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0]

    def add(self, person_id: str, template: FaceTemplate, source: str) -> str:
        """Store one template; returns its id. Ids count up per person: person-1, person-2, ..."""
        with self._conn:
            count = self._conn.execute("SELECT COUNT(*) FROM templates WHERE person_id = ?", (person_id,)).fetchone()[0]
            template_id = f"{person_id}-{count + 1}"
            self._conn.execute(
                "INSERT INTO templates VALUES (?, ?, ?, ?, ?, ?)",
                (
                    template_id,
                    person_id,
                    template.quality,
                    np.asarray(template.vector, dtype="<f4").tobytes(),
                    source,
                    datetime.now(UTC).isoformat(timespec="seconds"),
                ),
            )
            self._conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
        return template_id

    def rows(self) -> Iterator[tuple[str, str, np.ndarray]]:
        """(template_id, person_id, vector float32[128]) for every template, the gallery's input."""
        for template_id, person_id, blob in self._conn.execute(
            "SELECT template_id, person_id, vector FROM templates ORDER BY template_id"
        ):
            yield template_id, person_id, np.frombuffer(blob, dtype="<f4").reshape(DIMENSIONS).copy()

    def qualities(self) -> dict[str, float]:
        return dict(self._conn.execute("SELECT template_id, quality FROM templates"))
