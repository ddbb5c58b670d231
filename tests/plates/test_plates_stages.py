"""Each plate stage on its own: the two decoders, the row detector, the cut, the detector's peak
decoding. (The stages with models are tested in test_plates_models.py.)"""

from __future__ import annotations

import numpy as np
import pytest

from edge.config.plate_regions import BUILTIN_REGIONS, RegionFormat
from edge.plates.decoders import FormatDecoder, GreedyDecoder
from edge.plates.detector import INPUT_SIZE, PAD_GREY, STRIDE, decode_peaks, letterbox
from edge.plates.formats import ALPHABET
from edge.plates.localiser import RowDetector
from edge.plates.pipeline import grey
from edge.plates.rectify import cut_plate
from edge.plates.stages import Evidence, PlateCandidate, Reading
from tests.support.plate_images import background, draw_plate, place

STRICT = RegionFormat("tt", "Test land", ("LLDDDD", "LLLDDD"), free=False)
FREE = RegionFormat("ff", "Free land", (), min_length=2, max_length=8)


def line(text: str, sure: float = 0.96) -> np.ndarray:
    """CTC output of a recogniser that read `text`: each character two steps, "no character" between."""
    steps = [0]
    for char in text:
        steps += [1 + ALPHABET.index(char), 1 + ALPHABET.index(char), 0]
    probs = np.full((len(steps), 37), (1 - sure) / 36, np.float32)
    probs[np.arange(len(steps)), steps] = sure
    return probs


def evidence(*readings: np.ndarray) -> Evidence:
    quad = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
    return Evidence(tuple(Reading(p, None, quad, np.zeros((64, 64), np.uint8)) for p in readings))


def test_the_format_decoder_resolves_look_alikes_by_the_region_pattern() -> None:
    probs = line("ABO123")  # the recogniser saw O where a two-letters-four-digits region has a digit
    two_four = RegionFormat("tf", "Two-four land", ("LLDDDD",), free=False)
    found = FormatDecoder().decode(evidence(probs), [two_four])
    assert found is not None and (found.decoded.text, found.region) == ("AB0123", "tf")
    # The look-alike counts at half weight: the third character is the least sure.
    assert found.decoded.confidence == found.decoded.char_confidences[2] < 0.6


def test_the_format_decoder_picks_the_region_that_explains_the_read_best() -> None:
    found = FormatDecoder().decode(evidence(line("ABC1D23")), [BUILTIN_REGIONS["de"], BUILTIN_REGIONS["br"]])
    assert found is not None
    assert (found.decoded.text, found.region, found.reading) == ("ABC1D23", "br", 0)


def test_the_greedy_decoder_reads_what_the_network_saw_without_formats() -> None:
    found = GreedyDecoder().decode(evidence(line("AB0O123")), [STRICT, FREE])
    assert found is not None
    # No pattern turns the O into a zero; the read fits the free region, not the strict one.
    assert (found.decoded.text, found.region) == ("AB0O123", "ff")
    assert min(found.decoded.char_confidences) == pytest.approx(0.96)
    assert GreedyDecoder().decode(evidence(line("")), [FREE]) is None


def test_of_several_readings_the_one_that_explains_most_characters_wins() -> None:
    for decoder in (FormatDecoder(), GreedyDecoder()):
        found = decoder.decode(evidence(line("1234"), line("KC1234")), [FREE])
        assert found is not None and (found.decoded.text, found.reading) == ("KC1234", 1)


def test_a_square_plate_is_read_as_two_lines_not_as_its_clearest_line() -> None:
    # A two-line plate in a region without two-line patterns: the whole image reads only the big
    # lower line, surely; its halves read both lines. A fragment must not pass for the plate.
    quad = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
    pixels = np.zeros((64, 64), np.uint8)
    whole = Reading(line("327", sure=0.99), None, quad, pixels)
    halves = Reading(line("TBF", sure=0.9), line("0327", sure=0.9), quad, pixels)
    found = FormatDecoder().decode(Evidence((whole, halves)), [FREE])
    assert found is not None and (found.decoded.text, found.reading) == ("TBF0327", 1)
    # A strict region reads halves only by its two-line patterns: none here, so no fragment either.
    only_top = FormatDecoder().decode(Evidence((halves,)), [STRICT])
    assert only_top is None


def test_the_row_detector_finds_the_plate_and_widens_its_row_to_the_plate() -> None:
    frame = place(background(np.random.default_rng(2)), draw_plate("KC4571"), (640, 420), 240)
    found = RowDetector().detect(grey(frame))
    assert found
    corners = np.array(found[0].quad)
    assert abs(corners[:, 0].mean() - 640) < 30 and abs(corners[:, 1].mean() - 420) < 40
    # Wider than the characters' row alone (about 190 px of the 240 px plate).
    assert np.ptp(corners[:, 0]) > 200
    assert 0 < found[0].score <= 1


def test_a_cut_is_the_box_with_its_margins_inside_the_image() -> None:
    gray = np.arange(100 * 200, dtype=np.uint32).reshape(100, 200).astype(np.uint8)
    plate = cut_plate(gray, PlateCandidate(((50.0, 40.0), (150.0, 40.0), (150.0, 60.0), (50.0, 60.0)), 0.9),
                      margin=(0.1, 0.5))
    assert plate is not None
    assert plate.origin == (40.0, 30.0)
    assert plate.pixels.shape == (40, 120)
    edge = cut_plate(gray, PlateCandidate(((180.0, 90.0), (230.0, 90.0), (230.0, 120.0), (180.0, 120.0)), 0.5))
    assert edge is not None and edge.pixels.shape[1] == 200 - edge.origin[0]
    assert cut_plate(gray, PlateCandidate(((300.0, 10.0), (310.0, 10.0), (310.0, 20.0), (300.0, 20.0)), 0.5)) is None


def test_letterbox_keeps_the_aspect_and_pads_below_and_right() -> None:
    gray = np.full((720, 1280), 200, np.uint8)
    fitted, scale = letterbox(gray)
    assert fitted.shape == (INPUT_SIZE[1], INPUT_SIZE[0])
    assert scale == pytest.approx(INPUT_SIZE[0] / 1280)
    assert fitted[: round(720 * scale) - 1].min() == 200
    assert (fitted[round(720 * scale) + 1:] == PAD_GREY).all()


def test_peaks_become_boxes_best_first_and_neighbours_of_a_peak_do_not() -> None:
    h, w = INPUT_SIZE[1] // STRIDE, INPUT_SIZE[0] // STRIDE
    heat = np.zeros((h, w), np.float32)
    heat[10, 20], heat[10, 21], heat[30, 50] = 0.6, 0.5, 0.9
    size = np.zeros((2, h, w), np.float32)
    size[:, 30, 50] = np.log([20.0, 5.0])  # 80 x 20 px
    offset = np.full((2, h, w), 0.5, np.float32)
    found = decode_peaks(heat, size, offset, threshold=0.3, limit=5)
    assert [round(p.score, 2) for p in found] == [0.9, 0.6]
    x0, y0, x1, y1 = found[0].box
    assert (x0 + x1) / 2 == pytest.approx((50 + 0.5) * STRIDE) and (y0 + y1) / 2 == pytest.approx((30 + 0.5) * STRIDE)
    assert (x1 - x0, y1 - y0) == pytest.approx((80.0, 20.0))
    assert decode_peaks(heat, size, offset, threshold=0.95, limit=5) == []


def test_a_peak_whose_box_lies_mostly_inside_a_better_one_is_the_same_plate() -> None:
    h, w = INPUT_SIZE[1] // STRIDE, INPUT_SIZE[0] // STRIDE
    heat = np.zeros((h, w), np.float32)
    size = np.zeros((2, h, w), np.float32)
    offset = np.zeros((2, h, w), np.float32)
    heat[20, 40], size[:, 20, 40] = 0.9, np.log([30.0, 8.0])  # a plate 120 x 32 px
    heat[20, 50], size[:, 20, 50] = 0.5, np.log([8.0, 6.0])  # a peak on its right end: 32 x 24 px inside it
    heat[40, 50], size[:, 40, 50] = 0.4, np.log([8.0, 6.0])  # another plate below
    found = decode_peaks(heat, size, offset, threshold=0.3, limit=5)
    assert [round(p.score, 2) for p in found] == [0.9, 0.4]
