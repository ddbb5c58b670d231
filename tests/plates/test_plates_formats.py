"""Region formats: look-alikes resolved by position, strict and free regions, length limits."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from edge.config import PlatesConfig
from edge.config.plate_regions import BUILTIN_REGIONS, RegionFormat
from edge.plates.formats import ALPHABET, LOOKALIKE_WEIGHT, read_plate


def recogniser_output(chars: list[dict[str, float]]) -> np.ndarray:
    """A CTC output that sees each entry's characters (with those probabilities), blanks between."""
    rows = []
    for seen in chars:
        row = np.full(len(ALPHABET) + 1, 1e-4)
        for char, p in seen.items():
            row[1 + ALPHABET.index(char)] = p
        row[0] = max(1e-4, 1.0 - sum(seen.values()))
        rows += [row, row]
        blank = np.full(len(ALPHABET) + 1, 1e-4)
        blank[0] = 1.0
        rows.append(blank)
    return np.array(rows, dtype=np.float32)


def sure(text: str) -> list[dict[str, float]]:
    return [{c: 0.97} for c in text]


def test_digit_positions_turn_letter_lookalikes_into_digits() -> None:
    # California DLLLDDD: the recogniser saw S for 5 and O for 0, confidently.
    seen = sure("SBBM2O9")
    decoded = read_plate(recogniser_output(seen), BUILTIN_REGIONS["us-ca"])
    assert decoded is not None
    assert decoded.text == "5BBM209"


def test_letter_positions_turn_digit_lookalikes_into_letters() -> None:
    region = RegionFormat("xx", "Test land", ("LLDDDLL",), free=False)
    decoded = read_plate(recogniser_output(sure("8C21006")), region)
    assert decoded is not None
    assert decoded.text == "BC210OG"


def test_lookalike_probabilities_add_up_in_the_confidence() -> None:
    region = RegionFormat("xx", "Test land", ("DDD",), free=False)
    seen = [{"1": 0.97}, {"S": 0.6, "5": 0.35}, {"2": 0.97}]
    decoded = read_plate(recogniser_output(seen), region)
    assert decoded is not None
    assert decoded.text == "152"
    # The look-alike counts, at a discount: the network did see S rather than 5.
    assert decoded.char_confidences[1] == pytest.approx(0.35 + LOOKALIKE_WEIGHT * 0.6, abs=1e-3)
    assert decoded.confidence == pytest.approx(min(decoded.char_confidences))


def test_a_plain_misread_is_not_a_lookalike() -> None:
    # H is no digit's look-alike: a digit slot takes the best digit, with a low confidence.
    region = RegionFormat("xx", "Test land", ("DDD",), free=False)
    decoded = read_plate(recogniser_output([{"1": 0.97}, {"H": 0.9, "4": 0.05}, {"2": 0.97}]), region)
    assert decoded is not None
    assert decoded.text == "142"
    assert decoded.char_confidences[1] < 0.1


def test_stray_marks_beside_the_plate_are_dropped_to_fit_the_format() -> None:
    # A low-confidence stray character before a Brazilian plate (LLLDDDD).
    seen = [{"4": 0.3}, *sure("ABC1234")]
    decoded = read_plate(recogniser_output(seen), BUILTIN_REGIONS["br"])
    assert decoded is not None
    assert decoded.text == "ABC1234"


def test_strict_region_reads_nothing_that_does_not_fit() -> None:
    assert read_plate(recogniser_output(sure("AB12")), BUILTIN_REGIONS["br"]) is None


def test_free_region_keeps_a_personalised_plate() -> None:
    decoded = read_plate(recogniser_output(sure("ILEGO")), BUILTIN_REGIONS["us-ca"])
    assert decoded is not None
    assert decoded.text == "ILEGO"


def test_length_limits_cut_the_least_confident_characters() -> None:
    seen = [{"7": 0.2}, *sure("ABC123"), {"1": 0.25}, {"X": 0.15}]
    decoded = read_plate(recogniser_output(seen), RegionFormat("yy", "Short", max_length=6))
    assert decoded is not None
    assert decoded.text == "ABC123"
    assert read_plate(recogniser_output(sure("A")), BUILTIN_REGIONS["us"]) is None


def test_of_two_patterns_the_one_agreeing_with_what_was_seen_wins() -> None:
    # `WA56660` fits LLDDDDD as seen, and LLLLDDD only with 5 -> S and 6 -> G swapped.
    region = RegionFormat("xx", "Two formats", ("LLLLDDD", "LLDDDDD"), free=False)
    decoded = read_plate(recogniser_output(sure("WA56660")), region)
    assert decoded is not None
    assert decoded.text == "WA56660"


def test_region_matches_its_patterns() -> None:
    assert BUILTIN_REGIONS["br"].matches("ABC1D23")
    assert BUILTIN_REGIONS["br"].matches("ABC1234")
    assert not BUILTIN_REGIONS["br"].matches("AB1234")


def test_bad_formats_are_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="pattern 'LLX'"):
        RegionFormat("xx", "Bad", ("LLX",))
    with pytest.raises(ValueError, match="strict region needs at least one pattern"):
        RegionFormat("xx", "Bad", (), free=False)


def test_config_names_unknown_regions_and_accepts_its_own_formats() -> None:
    with pytest.raises(ValidationError, match="unknown plate region"):
        PlatesConfig(regions=["zz"])
    config = PlatesConfig(regions=["xx-1"], formats=[{"code": "xx-1", "name": "Test", "patterns": ["LLDD"],
                                                     "free": False}])
    formats = config.region_formats()
    decoded = read_plate(recogniser_output(sure("AB0O")), formats["xx-1"])
    assert decoded is not None
    assert decoded.text == "AB00"
    with pytest.raises(ValidationError, match="pattern 'L1'"):
        PlatesConfig(formats=[{"code": "xx", "name": "Bad", "patterns": ["L1"]}])


def test_a_weakly_seen_character_is_read_where_the_format_needs_it() -> None:
    # The network gave the sixth character less than the blank (a greedy read drops it), but a
    # Brazilian plate (LLLDDDD) has seven characters, and `3` is the best fit in that place.
    seen = [*sure("ABC12"), {"3": 0.3, "8": 0.05}, {"4": 0.97}]
    decoded = read_plate(recogniser_output(seen), BUILTIN_REGIONS["br"])
    assert decoded is not None
    assert decoded.text == "ABC1234"
    assert decoded.char_confidences[5] == pytest.approx(0.3, abs=1e-3)


def test_one_run_of_a_character_is_one_character() -> None:
    # `A` seen over four steps without a blank between is one A, not two (CTC spelling); a `1`
    # is not a `1` followed by its look-alike `I` either.
    for run, fits in (("A", "LL"), ("1", "DL")):
        rows = recogniser_output([{run: 0.9999}, {"B": 0.97}])
        steps = np.concatenate([rows[:2], rows[:2], rows[2:]])
        region = RegionFormat("xx", "Two or three", (fits + "L", fits), free=False)
        decoded = read_plate(steps, region)
        assert decoded is not None
        assert decoded.text == ("AB" if run == "A" else "1B")
