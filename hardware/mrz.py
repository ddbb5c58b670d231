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
