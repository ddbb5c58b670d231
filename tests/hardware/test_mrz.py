"""ICAO 9303 MRZ parsing against the specimen documents, OCR tolerance and check-digit failures."""

from __future__ import annotations

import re
from datetime import date

import pytest

from hardware.mrz import MrzFormatError, TravelDocument, check_digit, compose_td3, parse_mrz

TODAY = date(2026, 6, 1)

# The specimens of ICAO Doc 9303 (parts 4–7): Anna Maria Eriksson of Utopia.
TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
TD1 = ("I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6", "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")
TD2 = ("I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907UTO7408122F1204159<<<<<<<6")
MRV_A = ("V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L8988901C4XXX4009078F96121096ZE184226B<<<<<<")
MRV_B = ("V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "L8988901C4XXX4009078F9612109<<<<<<<<")


def test_td3_specimen_fields_and_checks():
    mrz = parse_mrz(TD3, today=TODAY)
    assert mrz.format == "TD3"
    assert mrz.valid, mrz.problems
    assert (mrz.document_code, mrz.issuing_state, mrz.nationality) == ("P", "UTO", "UTO")
    assert (mrz.surname, mrz.given_names) == ("ERIKSSON", "ANNA MARIA")
    assert mrz.document_number == "L898902C3"
    assert mrz.birth_date == date(1974, 8, 12)
    assert mrz.expiry_date == date(2012, 4, 15)
    assert mrz.sex == "F"
    assert mrz.optional_data == ("ZE184226B",)
    names = {c.name for c in mrz.checks}
    assert names == {"document_number", "birth_date", "expiry_date", "personal_number", "composite"}
    assert all(c.valid for c in mrz.checks)
    assert mrz.corrections == ()


@pytest.mark.parametrize(
    ("lines", "fmt", "number", "nationality", "birth", "expiry", "composite"),
    [
        (TD1, "TD1", "D23145890", "UTO", date(1974, 8, 12), date(2012, 4, 15), True),
        (TD2, "TD2", "D23145890", "UTO", date(1974, 8, 12), date(2012, 4, 15), True),
        (MRV_A, "MRV-A", "L8988901C", "XXX", date(1940, 9, 7), date(1996, 12, 10), False),
        (MRV_B, "MRV-B", "L8988901C", "XXX", date(1940, 9, 7), date(1996, 12, 10), False),
    ],
)
def test_other_specimens(lines, fmt, number, nationality, birth, expiry, composite):
    mrz = parse_mrz(lines, today=TODAY)
    assert mrz.format == fmt
    assert mrz.valid, mrz.problems
    assert (mrz.surname, mrz.given_names) == ("ERIKSSON", "ANNA MARIA")
    assert (mrz.document_number, mrz.nationality, mrz.issuing_state) == (number, nationality, "UTO")
    assert (mrz.birth_date, mrz.expiry_date, mrz.sex) == (birth, expiry, "F")
    assert ("composite" in {c.name for c in mrz.checks}) is composite


def _replace(line: str, column: int, char: str) -> str:
    return line[:column] + char + line[column + 1 :]


@pytest.mark.parametrize(
    ("column", "field", "check"),
    [(3, "document_number", "document_number"), (15, "birth_date", "birth_date"), (22, "expiry_date", "expiry_date")],
)
def test_a_wrong_character_fails_its_check_digit_and_the_composite(column, field, check):
    line2 = TD3[1]
    wrong = str((int(line2[column]) + 1) % 10) if line2[column].isdigit() else "X"
    mrz = parse_mrz((TD3[0], _replace(line2, column, wrong)), today=TODAY)
    assert not mrz.valid
    failed = {c.name for c in mrz.checks if not c.valid}
    assert failed == {check, "composite"}
    assert any(check in problem for problem in mrz.problems)


def test_composite_catches_a_field_altered_together_with_its_check_digit():
    birth = "640812"  # not every such change is caught (mod 10); this one is
    line2 = TD3[1][:13] + birth + check_digit(birth) + TD3[1][20:]
    mrz = parse_mrz((TD3[0], line2), today=TODAY)
    assert [c.name for c in mrz.checks if not c.valid] == ["composite"]
    assert not mrz.valid


def test_ocr_confusions_in_digit_fields_are_corrected_and_reported():
    line2 = TD3[1]
    read = _replace(_replace(_replace(line2, 15, "O"), 25, "I"), 43, "O")  # 74O812, 1204I5, composite O
    mrz = parse_mrz((TD3[0], read), today=TODAY)
    assert mrz.valid, mrz.problems
    assert mrz.birth_date == date(1974, 8, 12)
    assert [(c.field, c.line, c.column, c.found, c.corrected) for c in mrz.corrections] == [
        ("birth_date", 2, 16, "O", "0"),
        ("expiry_date", 2, 26, "I", "1"),
        ("composite_check", 2, 44, "O", "0"),
    ]
    assert mrz.lines == (TD3[0], read)  # what the reader sent is kept as sent


def test_digits_in_letter_fields_are_corrected():
    line1 = TD3[0].replace("ERIKSSON", "ER1KSS0N").replace("UTO", "UT0", 1)
    mrz = parse_mrz((line1, TD3[1]), today=TODAY)
    assert mrz.valid
    assert (mrz.surname, mrz.issuing_state) == ("ERIKSSON", "UTO")
    assert {(c.field, c.found, c.corrected) for c in mrz.corrections} == {
        ("issuing_state", "0", "O"),
        ("name", "1", "I"),
        ("name", "0", "O"),
    }


def test_document_number_is_never_guessed():
    # O and 0 are both legal in a document number; the check digit must fail rather than be "fixed".
    mrz = parse_mrz(("I<UTOD23145890<<<<<<<<<<<<<<<<".replace("0<", "O<", 1)[:30], *TD1[1:]), today=TODAY)
    assert mrz.document_number == "D2314589O"
    assert not mrz.valid
    assert not [c for c in mrz.corrections if c.field == "document_number"]


def test_long_document_number_continues_in_optional_data():
    number = "D231458907AB"  # 12 characters: 9 in the field, the rest plus check digit in optional data 1
    line1 = ("I<UTO" + number[:9] + "<" + number[9:] + check_digit(number)).ljust(30, "<")
    line2 = "7408122F1204159UTO<<<<<<<<<<<"
    composite = check_digit(line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29])
    mrz = parse_mrz((line1, line2 + composite, TD1[2]), today=TODAY)
    assert mrz.valid, mrz.problems
    assert mrz.document_number == number


def test_unknown_birth_day_is_allowed_and_left_empty():
    doc = TravelDocument("P", "D", "Mustermann", "Erika", "C01X00T47", "D", date(1964, 8, 12), "F", date(2031, 10, 31))
    line1, line2 = compose_td3(doc)
    birth = "64<<<<"
    line2 = line2[:13] + birth + check_digit(birth) + line2[20:43]
    line2 += check_digit(line2[0:10] + line2[13:20] + line2[21:43])
    mrz = parse_mrz((line1, line2), today=TODAY)
    assert mrz.valid, mrz.problems
    assert mrz.birth_date is None
    assert (mrz.nationality, mrz.issuing_state) == ("DEU", "DEU")  # Germany's "D", normalised


def test_century_follows_what_each_date_can_be():
    doc = TravelDocument("P", "UTO", "Young", "Ada", "X1", "UTO", date(2015, 3, 1), "<", date(2031, 1, 2))
    mrz = parse_mrz(compose_td3(doc), today=TODAY)
    assert (mrz.birth_date, mrz.expiry_date, mrz.sex) == (date(2015, 3, 1), date(2031, 1, 2), "X")


def test_impossible_date_is_a_problem_even_with_a_matching_check_digit():
    line2 = TD3[1]
    month = "13"
    line2 = line2[:15] + month + line2[17:19] + check_digit("74" + month + "12") + line2[20:43]
    line2 += check_digit(line2[0:10] + line2[13:20] + line2[21:43])
    mrz = parse_mrz((TD3[0], line2), today=TODAY)
    assert not mrz.valid
    assert mrz.problems == ("birth date '741312' is not a calendar date",)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ((TD3[0],), "1 line(s) of length 44"),
        ((TD3[0], TD3[1][:40]), "2 line(s) of length 44, 40"),
        ((TD3[0].lower(), TD3[1]), "line 1 has characters outside"),
        ((TD3[0], TD3[1].replace("<", " ")), "line 2 has characters outside"),
    ],
)
def test_not_an_mrz_is_a_clear_error(lines, message):
    with pytest.raises(MrzFormatError, match=re.escape(message)):
        parse_mrz(lines, today=TODAY)


def test_composed_td3_parses_back():
    doc = TravelDocument("P", "UTO", "O'Brien-Smith", "Mary Ann", "AB1234567", "UTO", date(1990, 2, 28), "F",
                         date(2030, 2, 27), "1234567890")
    mrz = parse_mrz(compose_td3(doc), today=TODAY)
    assert mrz.valid
    assert (mrz.surname, mrz.given_names) == ("O BRIEN SMITH", "MARY ANN")
    assert mrz.optional_data == ("1234567890",)


def test_json_names_every_check():
    data = parse_mrz(TD2, today=TODAY).to_json()
    assert data["checks"] == {"document_number": True, "birth_date": True, "expiry_date": True, "composite": True}
    assert data["birth_date"] == "1974-08-12"
    assert data["valid"] is True
