"""ICAO Doc 9303 machine-readable zone: check digits and composition.

Composition is what the simulated document reader and the synthetic travellers use to make
valid MRZ lines; parsing lives beside it so both sides share one check-digit rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

_WEIGHTS = (7, 3, 1)


def char_value(ch: str) -> int:
    """Value of one MRZ character for the check-digit sum (ICAO 9303-3, 4.9)."""
    if ch.isdigit():
        return int(ch)
    if "A" <= ch <= "Z":
        return ord(ch) - ord("A") + 10
    if ch == "<":
        return 0
    raise ValueError(f"not an MRZ character: {ch!r}")


def check_digit(field: str) -> str:
    """The check digit over `field`, as the character that follows it in the MRZ."""
    return str(sum(char_value(c) * _WEIGHTS[i % 3] for i, c in enumerate(field)) % 10)


def _pad(text: str, width: int) -> str:
    if len(text) > width:
        raise ValueError(f"{text!r} is longer than its MRZ field of {width}")
    return text + "<" * (width - len(text))


def mrz_name(surname: str, given_names: str, width: int) -> str:
    """Primary and secondary identifiers, '<<' between them, truncated to the field width."""
    def clean(s: str) -> str:
        return "<".join(part for part in "".join(c if c.isalpha() else " " for c in s.upper()).split())

    return _pad((clean(surname) + "<<" + clean(given_names))[:width], width)


def mrz_date(d: date) -> str:
    return d.strftime("%y%m%d")


@dataclass(frozen=True)
class TravelDocument:
    """The printed data of a passport-size (TD3) document, enough to compose its MRZ."""

    document_type: str  # "P" or "P<"-style two letters, e.g. "P"
    issuing_state: str  # ICAO three-letter code, e.g. "UTO"
    surname: str
    given_names: str
    document_number: str
    nationality: str
    birth_date: date
    sex: str  # "M", "F" or "<"
    expiry_date: date
    optional_data: str = ""


def compose_td3(doc: TravelDocument) -> tuple[str, str]:
    """The two 44-character lines of a TD3 (passport) MRZ, with every check digit."""
    line1 = _pad(doc.document_type, 2) + _pad(doc.issuing_state, 3) + mrz_name(doc.surname, doc.given_names, 39)
    number = _pad(doc.document_number, 9)
    birth = mrz_date(doc.birth_date)
    expiry = mrz_date(doc.expiry_date)
    optional = _pad(doc.optional_data, 14)
    optional_check = check_digit(optional) if doc.optional_data else "<"
    composite_field = number + check_digit(number) + birth + check_digit(birth) + expiry + check_digit(expiry)
    composite_field += optional + optional_check
    line2 = (
        number + check_digit(number) + _pad(doc.nationality, 3) + birth + check_digit(birth) + _pad(doc.sex, 1)
        + expiry + check_digit(expiry) + optional + optional_check
    )
    line2 += check_digit(composite_field)
    return line1, line2


# ---------------------------------------------------------------------------------------------
# Parsing: TD1, TD2, TD3 and the visa formats MRV-A / MRV-B (ICAO 9303 parts 4–7).

_MRZ_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<")

# What a reader's OCR typically puts where only digits are allowed, and the reverse for fields
# that hold only letters. Alphanumeric fields (document number, optional data) are never
# corrected: both readings are legal there, and a guessed document number could miss a watchlist hit.
_DIGIT_FOR = {"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "Z": "2", "S": "5", "G": "6", "B": "8"}
_LETTER_FOR = {"0": "O", "1": "I", "2": "Z", "5": "S", "6": "G", "8": "B"}

# Germany writes "D" (not "DEU") in issuing state and nationality.
_ICAO_SHORT_CODES = {"D": "DEU"}


class MrzFormatError(ValueError):
    """Lines that are not an MRZ of any known format (wrong count, length or characters)."""


@dataclass(frozen=True)
class Correction:
    """One character the parser changed because the field only allows digits (or only letters)."""

    field: str
    line: int  # 1-based, as printed on the document
    column: int  # 1-based
    found: str
    corrected: str


@dataclass(frozen=True)
class CheckResult:
    """One check digit: the field it covers, the digit printed and the digit computed."""

    name: str
    printed: str
    computed: str

    @property
    def valid(self) -> bool:
        return self.printed == self.computed


@dataclass(frozen=True)
class Mrz:
    """A parsed machine-readable zone. `valid` is False when any check digit or date fails."""

    format: str  # "TD1", "TD2", "TD3", "MRV-A" or "MRV-B"
    lines: tuple[str, ...]  # as read, before corrections
    document_code: str
    issuing_state: str
    surname: str
    given_names: str
    document_number: str
    nationality: str
    birth_date: date | None  # None when the document leaves day or month unknown ("<<")
    sex: str  # "M", "F" or "X" (unspecified)
    expiry_date: date | None
    optional_data: tuple[str, ...]
    checks: tuple[CheckResult, ...]
    corrections: tuple[Correction, ...]
    problems: tuple[str, ...]  # every reason the MRZ cannot be trusted; empty when valid

    @property
    def valid(self) -> bool:
        return not self.problems

    def to_json(self) -> dict:
        return {
            "format": self.format,
            "valid": self.valid,
            "document_code": self.document_code,
            "issuing_state": self.issuing_state,
            "surname": self.surname,
            "given_names": self.given_names,
            "document_number": self.document_number,
            "nationality": self.nationality,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "sex": self.sex,
            "expiry_date": self.expiry_date.isoformat() if self.expiry_date else None,
            "optional_data": list(self.optional_data),
            "checks": {c.name: c.valid for c in self.checks},
            "corrections": [
                {"field": c.field, "line": c.line, "column": c.column, "found": c.found, "corrected": c.corrected}
                for c in self.corrections
            ],
            "problems": list(self.problems),
            "lines": list(self.lines),
        }


@dataclass(frozen=True)
class _Field:
    name: str
    line: int  # 0-based
    start: int
    end: int
    kind: str  # "digits" (dates, check digits), "letters" (codes, sex, names) or "any"


# (format, line count, line length) -> the fields of that layout, positions from ICAO 9303.
def _td1_fields() -> tuple[_Field, ...]:
    return (
        _Field("document_code", 0, 0, 2, "letters"),
        _Field("issuing_state", 0, 2, 5, "letters"),
        _Field("document_number", 0, 5, 14, "any"),
        _Field("document_number_check", 0, 14, 15, "digits"),
        _Field("optional_data_1", 0, 15, 30, "any"),
        _Field("birth_date", 1, 0, 6, "digits"),
        _Field("birth_date_check", 1, 6, 7, "digits"),
        _Field("sex", 1, 7, 8, "letters"),
        _Field("expiry_date", 1, 8, 14, "digits"),
        _Field("expiry_date_check", 1, 14, 15, "digits"),
        _Field("nationality", 1, 15, 18, "letters"),
        _Field("optional_data_2", 1, 18, 29, "any"),
        _Field("composite_check", 1, 29, 30, "digits"),
        _Field("name", 2, 0, 30, "letters"),
    )


def _two_line_fields(width: int, kind: str) -> tuple[_Field, ...]:
    """TD2/TD3/MRV-A/MRV-B share line 2 up to the expiry check digit; they differ after it."""
    common = (
        _Field("document_code", 0, 0, 2, "letters"),
        _Field("issuing_state", 0, 2, 5, "letters"),
        _Field("name", 0, 5, width, "letters"),
        _Field("document_number", 1, 0, 9, "any"),
        _Field("document_number_check", 1, 9, 10, "digits"),
        _Field("nationality", 1, 10, 13, "letters"),
        _Field("birth_date", 1, 13, 19, "digits"),
        _Field("birth_date_check", 1, 19, 20, "digits"),
        _Field("sex", 1, 20, 21, "letters"),
        _Field("expiry_date", 1, 21, 27, "digits"),
        _Field("expiry_date_check", 1, 27, 28, "digits"),
    )
    tail: tuple[_Field, ...]
    if kind == "TD3":
        tail = (
            _Field("personal_number", 1, 28, 42, "any"),
            _Field("personal_number_check", 1, 42, 43, "digits"),
            _Field("composite_check", 1, 43, 44, "digits"),
        )
    elif kind == "TD2":
        tail = (_Field("optional_data", 1, 28, 35, "any"), _Field("composite_check", 1, 35, 36, "digits"))
    else:  # visas carry no composite check digit
        tail = (_Field("optional_data", 1, 28, width, "any"),)
    return common + tail


def _layout(lines: list[str]) -> tuple[str, tuple[_Field, ...]]:
    shape = (len(lines), {len(line) for line in lines})
    if shape == (3, {30}):
        return "TD1", _td1_fields()
    is_visa = bool(lines) and lines[0].startswith("V")
    if shape == (2, {44}):
        return ("MRV-A", _two_line_fields(44, "MRV")) if is_visa else ("TD3", _two_line_fields(44, "TD3"))
    if shape == (2, {36}):
        return ("MRV-B", _two_line_fields(36, "MRV")) if is_visa else ("TD2", _two_line_fields(36, "TD2"))
    lengths = ", ".join(str(len(line)) for line in lines)
    raise MrzFormatError(
        f"not an MRZ: {len(lines)} line(s) of length {lengths}; expected 3x30 (TD1), 2x36 (TD2, MRV-B) "
        "or 2x44 (TD3, MRV-A)"
    )


def _correct(lines: list[str], fields: tuple[_Field, ...]) -> tuple[list[str], list[Correction]]:
    rows = [list(line) for line in lines]
    corrections: list[Correction] = []
    for f in fields:
        table = _DIGIT_FOR if f.kind == "digits" else _LETTER_FOR if f.kind == "letters" else {}
        for col in range(f.start, f.end):
            found = rows[f.line][col]
            if found in table:
                rows[f.line][col] = table[found]
                corrections.append(Correction(f.name, f.line + 1, col + 1, found, table[found]))
    return ["".join(row) for row in rows], corrections


def _read_date(raw: str, kind: str, today: date) -> tuple[date | None, str | None]:
    """A YYMMDD field as a date, choosing the century ICAO leaves implicit.

    Birth dates are in the past; expiry dates lie within 50 years either side of today.
    """
    if "<" in raw:
        if kind == "birth" and raw[:2].isdigit():
            return None, None  # day and/or month unknown: allowed for birth dates only
        return None, f"{kind} date {raw!r} is incomplete"
    if not raw.isdigit():
        return None, f"{kind} date {raw!r} is not numeric"
    yy, mm, dd = int(raw[:2]), int(raw[2:4]), int(raw[4:])
    latest = today if kind == "birth" else date(min(today.year + 50, 9999), 12, 31)
    for year in (2000 + yy, 1900 + yy):
        try:
            candidate = date(year, mm, dd)
        except ValueError:
            continue
        if candidate <= latest:
            return candidate, None
    return None, f"{kind} date {raw!r} is not a calendar date"


def _state_code(raw: str) -> str:
    code = raw.replace("<", "")
    return _ICAO_SHORT_CODES.get(code, code)


def _names(raw: str) -> tuple[str, str]:
    primary, _, secondary = raw.partition("<<")
    return " ".join(p for p in primary.split("<") if p), " ".join(p for p in secondary.split("<") if p)


def _document_number(values: dict[str, str], optional_key: str) -> tuple[str, str]:
    """The number and its printed check digit, following ICAO's overflow rule for long numbers.

    A number longer than nine characters puts '<' in the check position and continues in the
    optional data, ending with its check digit and a filler.
    """
    number, printed = values["document_number"], values["document_number_check"]
    if printed == "<" and optional_key in values:
        overflow = values[optional_key].split("<", 1)[0]
        if overflow:
            return number + overflow[:-1], overflow[-1]
    return number, printed


def _composite_source(fmt: str, lines: list[str]) -> str:
    if fmt == "TD1":
        return lines[0][5:30] + lines[1][0:7] + lines[1][8:15] + lines[1][18:29]
    if fmt == "TD2":
        return lines[1][0:10] + lines[1][13:20] + lines[1][21:35]
    return lines[1][0:10] + lines[1][13:20] + lines[1][21:43]


def _checks(fmt: str, values: dict[str, str], lines: list[str], number: str, number_check: str) -> list[CheckResult]:
    checks = [
        CheckResult("document_number", number_check, check_digit(number)),
        CheckResult("birth_date", values["birth_date_check"], check_digit(values["birth_date"])),
        CheckResult("expiry_date", values["expiry_date_check"], check_digit(values["expiry_date"])),
    ]
    if fmt == "TD3":
        personal, printed = values["personal_number"], values["personal_number_check"]
        # An empty personal number may carry '<' or '0' as its check digit (ICAO 9303-4, 4.2.2.2).
        computed = printed if set(personal) == {"<"} and printed in "<0" else check_digit(personal)
        checks.append(CheckResult("personal_number", printed, computed))
    if fmt in ("TD1", "TD2", "TD3"):
        checks.append(CheckResult("composite", values["composite_check"], check_digit(_composite_source(fmt, lines))))
    return checks


def split_mrz_text(text: str) -> list[str]:
    """MRZ lines from text as a person or a reader gives it: one line per row, blanks ignored."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def parse_mrz(lines: list[str] | tuple[str, ...], today: date | None = None) -> Mrz:
    """Parse and verify an MRZ. Raises MrzFormatError if it is no MRZ at all.

    A well-formed MRZ whose check digits or dates fail is returned with `valid` False and the
    reasons in `problems`: the caller must ask for a re-scan, never accept it.
    """
    today = today or date.today()
    raw = list(lines)
    for line_number, line in enumerate(raw, start=1):
        bad = sorted(set(line) - _MRZ_CHARS)
        if bad:
            raise MrzFormatError(f"line {line_number} has characters outside A-Z, 0-9 and '<': {''.join(bad)!r}")
    fmt, fields = _layout(raw)
    fixed, corrections = _correct(raw, fields)
    values = {f.name: fixed[f.line][f.start:f.end] for f in fields}
    optional_key = "optional_data_1" if fmt == "TD1" else "optional_data"
    number, number_check = _document_number(values, optional_key)
    checks = _checks(fmt, values, fixed, number, number_check)
    problems = [f"{c.name} check digit is {c.printed!r}, computed {c.computed!r}" for c in checks if not c.valid]
    birth, birth_problem = _read_date(values["birth_date"], "birth", today)
    expiry, expiry_problem = _read_date(values["expiry_date"], "expiry", today)
    problems += [p for p in (birth_problem, expiry_problem) if p]
    sex = values["sex"]
    if sex not in ("M", "F", "X", "<"):
        problems.append(f"sex {sex!r} is not M, F, X or '<'")
    surname, given = _names(values["name"])
    optional = tuple(
        values[k].strip("<") for k in ("optional_data_1", "optional_data_2", "optional_data", "personal_number")
        if k in values
    )
    return Mrz(
        format=fmt,
        lines=tuple(raw),
        document_code=values["document_code"].replace("<", ""),
        issuing_state=_state_code(values["issuing_state"]),
        surname=surname,
        given_names=given,
        document_number=number.replace("<", ""),
        nationality=_state_code(values["nationality"]),
        birth_date=birth,
        sex="X" if sex == "<" else sex,
        expiry_date=expiry,
        optional_data=optional,
        checks=tuple(checks),
        corrections=tuple(corrections),
        problems=tuple(problems),
    )
