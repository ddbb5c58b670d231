"""Writing the calibrated threshold into a config file without disturbing anything else in it.

The file is the crossing's TOML config, written by people: comments, order and layout are
theirs. So the one key `threshold` of the `[faces]` table is rewritten in the text (its trailing
comment kept), or added if absent, a backup of the old file is kept beside it, and the result
is parsed back to prove the new value is the one a reader of the file will see.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import tomllib
from pathlib import Path

_TABLE = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_ARRAY_TABLE = re.compile(r"^\s*\[\[")
_THRESHOLD = re.compile(r"^(?P<indent>\s*)threshold(?P<eq>\s*=\s*)(?P<value>[^#]*?)(?P<rest>\s*(#.*)?)$")


class ThresholdFileError(Exception):
    """The file could not be updated; it is left as it was."""


def _rewrite(text: str, value: float) -> str:
    lines = text.splitlines(keepends=True)
    literal = repr(float(value))
    table: str | None = None
    faces_header: int | None = None
    for n, line in enumerate(lines):
        body = line.rstrip("\r\n")
        if _ARRAY_TABLE.match(body):
            table = None
            continue
        header = _TABLE.match(body)
        if header:
            table = header.group(1)
            if table == "faces":
                faces_header = n
            continue
        if table == "faces":
            found = _THRESHOLD.match(body)
            if found:
                ending = line[len(body) :]
                lines[n] = f"{found['indent']}threshold{found['eq']}{literal}{found['rest']}{ending}"
                return "".join(lines)
    if faces_header is not None:
        lines.insert(faces_header + 1, f"threshold = {literal}\n")
        return "".join(lines)
    separator = "" if not text or text.endswith("\n") else "\n"
    return f"{text}{separator}\n[faces]\nthreshold = {literal}\n"


def write_threshold(path: Path, value: float) -> Path:
    """Set `[faces] threshold` in the TOML file at `path`; returns the backup's path."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ThresholdFileError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ThresholdFileError(f"{path}: is not valid TOML: {exc}") from None
    new_text = _rewrite(text, value)
    try:
        written = tomllib.loads(new_text).get("faces", {}).get("threshold")
    except tomllib.TOMLDecodeError:
        written = None
    if written != float(value):
        # The faces section is written in a form this editor does not rewrite (an inline table or
        # dotted keys); a person should make the change.
        raise ThresholdFileError(
            f"{path}: could not set [faces] threshold in this file's layout; set it to {value!r} by hand"
        )
    backup = path.with_name(path.name + ".bak")
    shutil.copy2(path, backup)
    # Write beside the file and rename over it, so a crash leaves the old file or the new one.
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(new_text)
        shutil.copymode(path, temp)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return backup
