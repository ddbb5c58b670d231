"""Reading a config file: the only place that reads one, and the errors that name the key at fault."""

from __future__ import annotations

import logging
import os
import stat
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from edge.config.root import EdgeConfig

log = logging.getLogger(__name__)

DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "config" / "edge.toml"

# Sections renamed since configs were first installed: old name -> new name. Old files keep working.
RENAMED_SECTIONS = {"crossing": "checkpoint"}


class ConfigError(Exception):
    """A config file that cannot be used; the message names the file, the key and the problem."""

    def __init__(self, path: Path, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


def _key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def describe_error(error: ErrorDetails) -> str:
    """One pydantic error in words that name the key (`lanes[0].cameras.plate.fps: ...`)."""
    key = _key_path(error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return f"{key}: unknown key"
    if error["type"] == "missing":
        return f"{key}: required key is missing"
    # A whole section as "input" says nothing a person can use; a scalar value does.
    if "input" in error and not isinstance(error["input"], dict | list):
        return f"{key}: {message} (got {error['input']!r})"
    return f"{key}: {message}"


def _resolve_paths(config: EdgeConfig, base: Path) -> EdgeConfig:
    relative = [name for name in ("state_dir", "drills_dir") if not getattr(config, name).is_absolute()]
    return config.model_copy(update={name: (base / getattr(config, name)).resolve() for name in relative})


def _renamed_sections(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """The file's sections under their current names; an old name is read with a warning that says what to do."""
    data = dict(data)
    for old, new in RENAMED_SECTIONS.items():
        if old not in data:
            continue
        if new in data:
            raise ConfigError(path, [f"{old}: the old name of [{new}]: give only [{new}]"])
        log.warning("%s: section [%s] is deprecated: rename it [%s]", path, old, new)
        data[new] = data.pop(old)
    return data


def parse_config(text: str, path: Path) -> EdgeConfig:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, [f"not valid TOML: {exc}"]) from None
    except RecursionError:
        # tomllib recurses once per nested array or inline table.
        raise ConfigError(path, ["not valid TOML: nested too deep"]) from None
    try:
        config = EdgeConfig.model_validate(_renamed_sections(data, path))
    except ValidationError as exc:
        raise ConfigError(path, [describe_error(e) for e in exc.errors()]) from None
    return _resolve_paths(config, path.resolve().parent)


# A checkpoint's config is a few kB; anything far bigger is not one (a link to /dev/zero, a log file).
MAX_CONFIG_BYTES = 1024 * 1024


def load_config(path: Path | str = DEFAULT_CONFIG) -> EdgeConfig:
    path = Path(path)
    try:
        with path.open("rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                raise ConfigError(path, ["not a regular file"])
            data = file.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(path, ["file not found"]) from None
    except OSError as exc:
        raise ConfigError(path, [f"cannot read: {exc.strerror}"]) from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(path, [f"over {MAX_CONFIG_BYTES // 1024} kB: not a config file"])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(path, [f"not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    return parse_config(text, path)
