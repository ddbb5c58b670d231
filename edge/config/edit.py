"""Setting values in a crossing's TOML config without disturbing anything else in it.

Config files are written by people: comments, order and layout are theirs. So a value is
changed where it is written (its trailing comment kept), added to its table, or a missing
top-level table is appended; a backup of the old file is kept beside it (FILE.bak), and the
new text is parsed back and compared with the old document plus exactly the requested change.
Any other difference (a layout this editor does not understand) refuses the edit and leaves the
file alone, with the line to set by hand.

Tables are named by their path in the parsed document, array elements by index:
("faces",) is `[faces]`, ("lanes", 0, "cameras", "plate") is the plate camera of the first
`[[lanes]]`, whether written as `[lanes.cameras.plate]` or `cameras.plate = { ... }`.
"""

from __future__ import annotations

import copy
import json
import math
import re
import shutil
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.atomic_file import replace_file

TablePath = tuple[str | int, ...]
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_BARE_VALUE = re.compile(r"[^\s#,\]}]+")


class ConfigEditError(Exception):
    """The file could not be updated; it is left as it was."""


class _Unreadable(Exception):
    """The text is not in a shape the scanner follows; the edit is refused."""


@dataclass(frozen=True)
class _Header:
    path: TablePath
    line_end: int  # index just past the header line (its newline included)


@dataclass(frozen=True)
class _KeyValue:
    table: TablePath
    key: tuple[str, ...]
    value_start: int
    value_end: int
    line_end: int


# -- writing TOML values ------------------------------------------------------------------------


def _key(name: str) -> str:
    return name if _BARE_KEY.fullmatch(name) else json.dumps(name)


def literal(value: Any) -> str:
    """A Python value (bool, int, float, str, list, dict) as TOML text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ConfigEditError(f"{value!r} cannot be written to a config file")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON's escapes are valid in TOML basic strings
    if isinstance(value, list | tuple):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_key(str(k))} = {literal(v)}" for k, v in value.items()) + " }"
    raise ConfigEditError(f"a {type(value).__name__} cannot be written to a config file")


def dotted(path: TablePath) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else _key(p) for p in path).replace(".[", "[")


# -- reading the layout -------------------------------------------------------------------------


def _string_end(text: str, i: int) -> int:
    quote = text[i]
    if text.startswith(quote * 3, i):
        end = text.find(quote * 3, i + 3)
        if end < 0:
            raise _Unreadable
        while text.startswith(quote, end + 3):  # up to two quotes may close a multi-line string
            end += 1
        return end + 3
    j = i + 1
    while j < len(text) and text[j] != "\n":
        if text[j] == "\\" and quote == '"':
            j += 2
            continue
        if text[j] == quote:
            return j + 1
        j += 1
    raise _Unreadable


def _value_end(text: str, i: int) -> int:
    if i >= len(text):
        raise _Unreadable
    if text[i] in "\"'":
        return _string_end(text, i)
    if text[i] in "[{":
        depth, j = 0, i
        while j < len(text):
            c = text[j]
            if c in "\"'":
                j = _string_end(text, j)
                continue
            if c == "#":  # a comment inside a multi-line array
                j = text.find("\n", j)
                if j < 0:
                    break
                continue
            if c in "[{":
                depth += 1
            elif c in "]}":
                depth -= 1
                if depth == 0:
                    return j + 1
            j += 1
        raise _Unreadable
    bare = _BARE_VALUE.match(text, i)
    if bare is None:
        raise _Unreadable
    return bare.end()


def _skip_blanks(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t":
        i += 1
    return i


def _parse_key(text: str, i: int) -> tuple[tuple[str, ...], int]:
    parts = []
    while True:
        i = _skip_blanks(text, i)
        if i < len(text) and text[i] in "\"'":
            end = _string_end(text, i)
            parts.append(tomllib.loads(f"k = {text[i:end]}")["k"])
            i = end
        else:
            bare = _BARE_KEY.match(text, i)
            if bare is None:
                raise _Unreadable
            parts.append(bare.group())
            i = bare.end()
        i = _skip_blanks(text, i)
        if i < len(text) and text[i] == ".":
            i += 1
            continue
        return tuple(parts), i


def _line_end(text: str, i: int) -> int:
    """Index just past the end of the line at i, which may only hold blanks and a comment."""
    i = _skip_blanks(text, i)
    if i < len(text) and text[i] not in "#\r\n":
        raise _Unreadable
    end = text.find("\n", i)
    return len(text) if end < 0 else end + 1


def _scan(text: str) -> list[_Header | _KeyValue]:
    entries: list[_Header | _KeyValue] = []
    arrays: dict[TablePath, int] = {}  # arrays of tables seen so far: how many elements
    table: TablePath = ()

    def resolve(names: tuple[str, ...]) -> TablePath:
        path: TablePath = ()
        for name in names:
            path = (*path, name)
            if path in arrays:
                path = (*path, arrays[path] - 1)
        return path

    i = 0
    while i < len(text):
        i = _skip_blanks(text, i)
        if i >= len(text):
            break
        if text[i] in "#\r\n":
            i = _line_end(text, i)
            continue
        if text[i] == "[":
            is_array = text.startswith("[[", i)
            names, j = _parse_key(text, i + (2 if is_array else 1))
            closing = "]]" if is_array else "]"
            if not text.startswith(closing, j):
                raise _Unreadable
            if is_array:
                parent = (*resolve(names[:-1]), names[-1])
                arrays[parent] = arrays.get(parent, 0) + 1
                table = (*parent, arrays[parent] - 1)
            else:
                table = resolve(names)
            i = _line_end(text, j + len(closing))
            entries.append(_Header(table, i))
            continue
        key, j = _parse_key(text, i)
        if not text.startswith("=", j):
            raise _Unreadable
        start = _skip_blanks(text, j + 1)
        end = _value_end(text, start)
        i = _line_end(text, end)
        entries.append(_KeyValue(table, key, start, end, i))
    return entries


# -- editing ------------------------------------------------------------------------------------


def _lookup(data: Any, path: TablePath) -> Any:
    for part in path:
        data = data[part]
    return data


def _set_one(text: str, table: TablePath, key: str, value: Any) -> str:
    entries = _scan(text)
    newline = "\r\n" if "\r\n" in text else "\n"
    headers = [e for e in entries if isinstance(e, _Header)]
    if isinstance(value, Mapping) and any(h.path == (*table, key) for h in headers):
        # The value is a table of its own ([...roi]): set its keys there.
        for sub_key, sub_value in value.items():
            text = _set_one(text, (*table, key), sub_key, sub_value)
        return text
    if any(h.path == table for h in headers):
        body = [e for e in entries if isinstance(e, _KeyValue) and e.table == table]
        for entry in body:
            if entry.key == (key,):
                return text[: entry.value_start] + literal(value) + text[entry.value_end :]
        after = body[-1].line_end if body else next(h.line_end for h in headers if h.path == table)
        lead = "" if after == 0 or text[after - 1] == "\n" else newline
        return text[:after] + f"{lead}{_key(key)} = {literal(value)}{newline}" + text[after:]
    # A table made by dotted keys in its parent (`plates.regions = [...]` under `[[lanes]]`).
    by_dots = [e for e in entries if isinstance(e, _KeyValue) and len(e.key) > 1 and e.table + e.key[:-1] == table]
    for entry in by_dots:
        if entry.key[-1] == key:
            return text[: entry.value_start] + literal(value) + text[entry.value_end :]
    if by_dots:
        last = by_dots[-1]
        lead = "" if text[last.line_end - 1] == "\n" else newline
        prefix = ".".join(_key(part) for part in last.key[:-1])
        return text[: last.line_end] + f"{lead}{prefix}.{_key(key)} = {literal(value)}{newline}" + text[last.line_end :]
    for inline in (e for e in entries if isinstance(e, _KeyValue)):
        if inline.table + inline.key == table and text[inline.value_start] == "{":
            merged = {**_lookup(tomllib.loads(text), table), key: value}
            return text[: inline.value_start] + literal(merged) + text[inline.value_end :]
    if all(isinstance(part, str) for part in table) and table:
        lead = "" if not text or text.endswith("\n") else newline
        return f"{text}{lead}{newline}[{dotted(table)}]{newline}{_key(key)} = {literal(value)}{newline}"
    return text  # nowhere to put it: the comparison below refuses the edit


def _expected(data: dict, table: TablePath, values: Mapping[str, Any]) -> dict:
    expected = copy.deepcopy(data)
    target: Any = expected
    for part in table:
        target = target.setdefault(part, {}) if isinstance(part, str) else target[part]
    target.update(copy.deepcopy(dict(values)))
    return expected


def _plain(value: Any) -> Any:
    """Tuples as lists, the way they come back from TOML."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def edited_text(text: str, table: TablePath, values: Mapping[str, Any]) -> str:
    """`text` with `values` set in `table`; raises ConfigEditError when the layout does not allow it."""
    values = _plain(values)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigEditError(f"is not valid TOML: {exc}") from None
    try:
        _lookup(data, table[:-1])
    except (KeyError, IndexError, TypeError):
        raise ConfigEditError(f"has no {dotted(table[:-1]) or 'top level'} to put [{dotted(table)}] in") from None
    new_text = text
    try:
        for key, value in values.items():
            new_text = _set_one(new_text, table, key, value)
        ok = tomllib.loads(new_text) == _expected(data, table, values)
    except (_Unreadable, tomllib.TOMLDecodeError, KeyError, IndexError, TypeError):
        ok = False
    if not ok:
        wanted = "\n".join(f"  {_key(k)} = {literal(v)}" for k, v in values.items())
        raise ConfigEditError(
            f"could not set [{dotted(table)}] in this file's layout; set it by hand:\n{wanted}"
        )
    return new_text


def set_values(path: Path, table: TablePath, values: Mapping[str, Any]) -> Path:
    """Set `values` in `table` of the TOML file at `path`, keeping a backup; returns the backup's path."""
    return set_tables(path, [(table, values)])


def set_tables(path: Path, edits: Sequence[tuple[TablePath, Mapping[str, Any]]]) -> Path:
    """Make every (table, values) edit in the TOML file at `path`, all or none, keeping one backup of
    the file as it was; returns the backup's path."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigEditError(f"{path}: cannot read: {exc.strerror}") from None
    new_text = text
    try:
        for table, values in edits:
            new_text = edited_text(new_text, table, values)
    except ConfigEditError as exc:
        raise ConfigEditError(f"{path}: {exc}") from None
    backup = path.with_name(path.name + ".bak")
    try:
        shutil.copy2(path, backup)
        replace_file(path, new_text, lambda temp: shutil.copymode(path, temp))
    except OSError as exc:
        raise ConfigEditError(f"{path}: cannot write: {exc.strerror or exc}") from None
    return backup
