"""The sure-read rule (confidence at the lane's threshold and a format of its regions) and the calibration
that sets the threshold: the lowest confidence whose reads are exact at the target precision."""

from __future__ import annotations

import pytest

from edge.config import SURE_CONFIDENCE, PlateFormatConfig, PlatesConfig
from edge.config.plate_regions import BUILTIN_REGIONS
from edge.plates.certainty import CalibrationError, SureRule, calibrate, fits, min_sure_reads


@pytest.mark.parametrize(
    ("region", "text", "fitting"),
    [
        ("br", "ABC1D23", True),  # Mercosul, one line
        ("br", "ABC1234", True),  # the old grey plates
        ("br", "ABC12", False),  # strict: no pattern, no free reading
        ("br", "ABCD123", False),
        ("us", "A", False),  # personalised plates, but within 2..8 characters
        ("us", "HELLO", True),
        ("us", "ABCDEFGHI", False),
        ("us-ca", "7ABC123", True),  # the state's pattern
        ("us-ca", "LUCKY7", True),  # free within its lengths
        ("us-ca", "ABCDEFGH", False),  # California's plates have at most 7
        ("nl", "12ABC3", False),  # A, C are not Dutch plate letters
        ("nl", "12BDF3", True),
    ],
)
def test_a_read_fits_a_region_by_pattern_or_as_a_personalised_plate_within_its_lengths(region, text, fitting):
    assert fits(text, BUILTIN_REGIONS[region]) is fitting


def test_formats_of_the_config_count_a_free_one_with_only_its_own_letters_a_two_line_one_as_one_text():
    free = PlateFormatConfig(code="xx", name="X", letters="ABC", min_length=2, max_length=4)
    rule = SureRule.for_lane(PlatesConfig(regions=["xx"], formats=[free]))
    assert rule.fits("AB12") and not rule.fits("AZ12") and not rule.fits("ABC123")
    two_lines = PlateFormatConfig(code="yy", name="Y", patterns=["LL/DDD"], free=False)
    rule = SureRule.for_lane(PlatesConfig(regions=["yy"], formats=[two_lines]))
    assert rule.fits("AB123") and not rule.fits("AB12")


def test_the_rule_takes_the_lanes_threshold_and_every_region_of_the_lane():
    default = SureRule.for_lane(PlatesConfig(regions=["br", "fr"]))
    assert default.threshold == SURE_CONFIDENCE
    assert default.is_sure("AB123CD", SURE_CONFIDENCE)  # France; at the threshold is sure
    assert default.is_sure("ABC1D23", SURE_CONFIDENCE)  # Brazil
    assert not default.is_sure("ABC1D23", SURE_CONFIDENCE - 0.01)
    assert not default.is_sure("HELLO", 1.0)  # no region of the lane issues it
    strict = SureRule.for_lane(PlatesConfig(regions=["br"], sure_confidence=0.995))
    assert not strict.is_sure("ABC1D23", 0.99) and strict.is_sure("ABC1D23", 0.995)


def test_min_sure_reads_lets_one_wrong_read_show():
    assert (min_sure_reads(0.5), min_sure_reads(0.9), min_sure_reads(0.99), min_sure_reads(0.999)) == (2, 10, 100, 1000)


def test_the_lowest_threshold_that_holds_the_target_wins_and_unreadable_images_count_in_the_share():
    right = [(0.80 + i / 100, True) for i in range(20)]  # 0.80 .. 0.99, all exact
    pairs = [*right, (0.795, False), *[(0.5, False)] * 5, *[(None, False)] * 3, (None, True)]
    found = calibrate(pairs, 0.9)
    # At 0.795: 21 reads, 20 exact (95%); at 0.5 the five wrong ones would give 20 of 26.
    assert found.threshold == 0.795
    assert (found.images, found.sure, found.correct) == (30, 21, 20)
    assert found.sure_share == pytest.approx(21 / 30) and found.sure_precision == pytest.approx(20 / 21)


def test_precision_exactly_at_the_target_is_enough_even_below_a_wrong_top_read():
    pairs = [(0.99, False), *[(0.98 - i / 100, True) for i in range(9)], *[(0.6, False)] * 5]
    found = calibrate(pairs, 0.9)
    assert found.threshold == pytest.approx(0.90) and (found.sure, found.correct) == (10, 9)


def test_a_tie_is_never_split():
    # Taking only the exact read of the three at 0.7 would give 10 of 10; the three together give 10 of 12.
    pairs = [*[(0.95, True)] * 9, (0.7, True), (0.7, False), (0.7, False)]
    with pytest.raises(CalibrationError, match=r"best is 0\.8333"):
        calibrate(pairs, 0.9)
    tied_right = [*[(0.95, True)] * 9, (0.7, True), (0.7, True), (0.7, False)]
    assert calibrate(tied_right, 0.9).threshold == 0.7


def test_too_few_reads_to_measure_the_target_are_refused():
    with pytest.raises(CalibrationError, match="needs at least 100 reads"):
        calibrate([(0.99, True)] * 99, 0.99)
    assert calibrate([(0.99, True)] * 100, 0.99).sure == 100


def test_an_unreachable_target_is_refused_with_what_the_set_reaches():
    pairs = [(c / 100, c % 2 == 0) for c in range(50, 100)]  # every other read wrong
    with pytest.raises(CalibrationError, match=r"no threshold gives 0.9 precision: the best is 0\.5"):
        calibrate(pairs, 0.9)


@pytest.mark.parametrize("target", [0.0, 1.0, 1.5])
def test_the_target_must_be_a_precision_below_one(target):
    with pytest.raises(ValueError, match="between 0 and 1"):
        calibrate([(0.9, True)] * 10, target)
