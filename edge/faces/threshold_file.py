"""Writing the calibrated threshold into a config file without disturbing anything else in it.

The one key `threshold` of the `[faces]` table is set by the config editor (edge/config/edit.py):
comments and layout kept, a backup beside the file, the result parsed back before it replaces
the file.
"""

from __future__ import annotations

from pathlib import Path

from edge.config.edit import ConfigEditError, set_values


class ThresholdFileError(Exception):
    """The file could not be updated; it is left as it was."""


def write_threshold(path: Path, value: float) -> Path:
    """Set `[faces] threshold` in the TOML file at `path`; returns the backup's path."""
    try:
        return set_values(path, ("faces",), {"threshold": float(value)})
    except ConfigEditError as exc:
        raise ThresholdFileError(str(exc)) from None
