"""Replacing a file so that a crash or power cut leaves either the old file or the new one, never half."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def replace_file(path: Path, content: str | bytes, prepare: Callable[[Path], None] | None = None) -> None:
    """Write `content` to a temporary file beside `path`, flush it to disk, and rename it over `path`.

    `prepare(temp)` runs before the rename, to give the new file its owner and mode."""
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content.encode("utf-8") if isinstance(content, str) else content)
            out.flush()
            os.fsync(out.fileno())
        if prepare is not None:
            prepare(temp)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
