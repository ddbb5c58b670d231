"""Rendered plates of known text through the whole plate pipeline: frames, crops, ROI, voting."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge.config import PlatesConfig, RegionOfInterest
from edge.config.plate_regions import RegionFormat
from edge.plates.localiser import PlateLocaliser
from edge.plates.pipeline import PlateReader, PlateReaderSettings, grey
from edge.plates.voting import PlateVoter, VotingPolicy
from tests.support.plate_images import background, crop_of, draw_plate, draw_two_line_plate, place

# A region whose format is known: two letters, four digits (look-alikes resolve by position).
TEST_REGION = RegionFormat("tt", "Test land", ("LLDDDD", "LLLDDD"), free=False)
FORMATS = {"tt": TEST_REGION}


@pytest.fixture(scope="module")
def reader() -> PlateReader:
    return PlateReader(PlateReaderSettings(regions=("tt",)), formats=FORMATS)


@pytest.mark.parametrize(("text", "width", "tilt"), [
    ("KC4571", 100, 0.0),     # far: characters about 15 px high
    ("ZB3806", 180, 10.0),
    ("HWX155", 260, -15.0),   # tilted the other way, and a plate of the three-letter format
    ("GQ1290", 420, 15.0),    # close
])
def test_frames_read_the_plate_text_and_nothing_around_it(reader: PlateReader, text: str, width: float,
                                                           tilt: float) -> None:
    frame = place(background(np.random.default_rng(len(text) + width)), draw_plate(text), (640, 480), width, tilt)
    reads = reader.read_frame(frame, timestamp=12.5)
    assert reads, "no plate read"
    best = reads[0]
    assert best.text == text
    assert best.region == "tt"
    assert best.timestamp == 12.5
    assert len(best.char_confidences) == len(text)
    assert 0 < best.confidence <= 1
    # The read's quad lies on the plate.
    cx = sum(p[0] for p in best.quad) / 4
    cy = sum(p[1] for p in best.quad) / 4
    assert abs(cx - 640) < width / 2 and abs(cy - 480) < width / 4
    assert best.crop.shape[0] == 64


def test_a_plate_under_a_row_of_big_shapes_is_still_read(reader: PlateReader) -> None:
    # Three lamps above a small plate look like bigger "glyphs"; the plate is not small print.
    frame = place(background(np.random.default_rng(6)), draw_plate("KD5082"), (640, 470), 130)
    for x in (560, 640, 720):
        cv2.circle(frame, (x, 405), 16, (20, 20, 20), 7)
    reads = reader.read_frame(frame)
    assert [r.text for r in reads][:1] == ["KD5082"]


def test_light_on_dark_plates_are_read(reader: PlateReader) -> None:
    frame = place(background(np.random.default_rng(3)), draw_plate("MX1170", dark_on_light=False), (500, 400), 200)
    assert [r.text for r in reader.read_frame(frame)][:1] == ["MX1170"]


def test_a_plate_outside_the_roi_is_not_read() -> None:
    frame = place(background(np.random.default_rng(4)), draw_plate("AB1234"), (300, 300), 200)
    inside = PlateReader(PlateReaderSettings(regions=("tt",), roi=(100, 200, 400, 200)), formats=FORMATS)
    outside = PlateReader(PlateReaderSettings(regions=("tt",), roi=(700, 100, 500, 500)), formats=FORMATS)
    assert [r.text for r in inside.read_frame(frame)][:1] == ["AB1234"]
    assert outside.read_frame(frame) == []


def test_the_config_s_roi_bounds_the_reader_it_makes() -> None:
    # The config's RegionOfInterest is a model, not a tuple: unpacked as one it broke every read.
    frame = place(background(np.random.default_rng(4)), draw_plate("AB1234"), (300, 300), 200)
    inside = PlateReader(PlateReaderSettings(roi=(100, 200, 400, 200)))
    from_config = PlateReader.from_config(PlatesConfig(), RegionOfInterest(x=100, y=200, width=400, height=200))
    assert from_config.detect(frame) == inside.detect(frame)
    assert from_config.detect(frame)
    elsewhere = PlateReader.from_config(PlatesConfig(), RegionOfInterest(x=700, y=100, width=500, height=500))
    assert elsewhere.detect(frame) == []


def test_a_roi_outside_the_frame_is_refused() -> None:
    frame = place(background(np.random.default_rng(5)), draw_plate("AB1234"), (300, 300), 200)
    bad = PlateReader(PlateReaderSettings(regions=("tt",), roi=(2000, 100, 50, 50)), formats=FORMATS)
    with pytest.raises(ValueError, match="outside the 1280x720 frame"):
        bad.read_frame(frame)


def test_crops_read_the_main_line_not_state_name_or_slogan(reader: PlateReader) -> None:
    for text in ("PL4573", "KCA159", "DE8024"):
        read = reader.read_crop(crop_of(draw_plate(text, header="GARDEN STATE", footer="VISIT US 2024")))
        assert read is not None
        assert read.text == text


def test_an_empty_crop_reads_nothing(reader: PlateReader) -> None:
    assert reader.read_crop(np.full((80, 200, 3), 128, np.uint8)) is None


def test_bad_inputs_get_clear_errors() -> None:
    with pytest.raises(ValueError, match="unknown plate region"):
        PlateReader(PlateReaderSettings(regions=("nowhere",)))
    reader = PlateReader(PlateReaderSettings(regions=("tt",)), formats=FORMATS)
    with pytest.raises(ValueError, match="grey or BGR image"):
        reader.read_frame(np.zeros((10, 10, 2), np.uint8))


def test_a_stopped_vehicle_gives_one_plate_read(reader: PlateReader) -> None:
    voter = PlateVoter(VotingPolicy(min_frames=3))
    plate = draw_plate("RK7550")
    announced = []
    for i in range(8):
        rng = np.random.default_rng(100 + i)
        # The vehicle creeps forward and the camera noise changes from frame to frame.
        frame = place(background(rng), plate, (600 + 2 * i, 420 + i), 170 + 3 * i, 4.0)
        announced += voter.add(reader.read_frame(frame, timestamp=i * 0.1), i * 0.1)
    assert [p.text for p in announced] == ["RK7550"]
    assert announced[0].frames >= 3
    assert announced[0].best_crop.shape[0] == 64


def test_two_line_plates_are_read_where_the_format_declares_them() -> None:
    moto = RegionFormat("tm", "Two-line land", ("LLL/DLDD",), free=False)
    reader = PlateReader(PlateReaderSettings(regions=("tm",)), formats={"tm": moto})
    plate = draw_two_line_plate("KXR", "4B27")
    frame = place(background(np.random.default_rng(21)), plate, (640, 450), 160, 5.0)
    reads = reader.read_frame(frame)
    assert [r.text for r in reads][:1] == ["KXR4B27"]
    # The read's corners span both lines.
    ys = [p[1] for p in reads[0].quad]
    assert max(ys) - min(ys) > 0.6 * 160 * plate.shape[0] / plate.shape[1]
    crop = reader.read_crop(crop_of(plate))
    assert crop is not None and crop.text == "KXR4B27"


def test_single_line_regions_do_not_join_two_lines() -> None:
    frame = place(background(np.random.default_rng(22)), draw_two_line_plate("KXR", "4527"), (640, 450), 160)
    reads = PlateReader(PlateReaderSettings(regions=("tt",)), formats=FORMATS).read_frame(frame)
    assert "KXR4527" not in [r.text for r in reads]


def test_a_big_plate_is_found_at_the_coarsest_scale_first() -> None:
    # A plate close to the camera (characters ~75 px high) needs no full-resolution pass.
    frame = place(background(np.random.default_rng(23)), draw_plate("GQ1290"), (640, 400), 520)
    first = next(PlateLocaliser().coarse_to_fine(grey(frame)))
    assert any(abs((line.left + line.right) / 2 - 640) < 60 and abs(line.intercept + line.slope * 640 - 400) < 60
               and line.height > 50 for line in first)
