"""The config editor: values set where they are written, layout and comments kept, refusals leave the file alone."""

from __future__ import annotations

import os
import tomllib

import pytest

from edge.config import DEFAULT_CONFIG, parse_config
from edge.config.edit import ConfigEditError, edited_text, set_values

EXAMPLE = DEFAULT_CONFIG.parent / "example-lane.toml"
ROI = {"x": 10, "y": 20, "width": 300, "height": 200}


def _changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    return [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=False) if a != b]


def test_a_value_in_a_table_of_an_array_element_is_replaced_in_place_with_its_comment(tmp_path):
    text = EXAMPLE.read_text()
    new = edited_text(text, ("lanes", 0, "cameras", "plate"), {"roi": ROI})
    comment = "   # where plates appear; set it from the technician page"
    assert _changed_lines(text, new) == [
        ("roi = { x = 320, y = 260, width = 640, height = 360 }" + comment,
         "roi = { x = 10, y = 20, width = 300, height = 200 }" + comment),
    ]  # fmt: skip
    assert parse_config(new, EXAMPLE).lanes[0].cameras.plate.roi.width == 300


def test_a_missing_key_is_added_to_its_table_and_nowhere_else():
    text = EXAMPLE.read_text()
    new = edited_text(text, ("lanes", 0, "cameras", "face"), {"roi": ROI, "fps": 12.5})
    added = [line for line in new.splitlines() if line not in text.splitlines()]
    assert added == ["roi = { x = 10, y = 20, width = 300, height = 200 }", "fps = 12.5"]
    face = tomllib.loads(new)["lanes"][0]["cameras"]["face"]
    assert face == {"url": "usb:0?width=1280&height=720&fps=15", "roi": ROI, "fps": 12.5}


def test_an_inline_table_written_with_a_dotted_key_is_rewritten_for_the_right_lane():
    text = DEFAULT_CONFIG.read_text()
    new = edited_text(text, ("lanes", 1, "cameras", "plate"), {"roi": ROI, "stall_timeout_s": 3.0})
    (before, after), = _changed_lines(text, new)
    assert before.startswith("cameras.plate = ") and "seed=2" in after and "roi = { x = 10" in after
    config = parse_config(new, DEFAULT_CONFIG)
    assert config.lanes[1].cameras.plate.roi.x == 10 and config.lanes[1].cameras.plate.stall_timeout_s == 3.0
    assert config.lanes[0].cameras.plate.roi is None


def test_a_table_made_by_dotted_keys_gets_a_dotted_key_beside_them():
    text = '[[lanes]]\nid = "a"\nplates.regions = ["de"]  # the lane sees\nname = "A"\n\n[[lanes]]\nid = "b"\n'
    new = edited_text(text, ("lanes", 0, "plates"), {"sure_confidence": 0.98, "regions": ["fr"]})
    assert new == ('[[lanes]]\nid = "a"\nplates.regions = ["fr"]  # the lane sees\nplates.sure_confidence = 0.98\n'
                   'name = "A"\n\n[[lanes]]\nid = "b"\n')


def test_a_table_value_written_as_its_own_table_is_set_key_by_key():
    text = '[[lanes]]\nid = "a"\n\n[lanes.cameras.plate.roi]  # measured\nx = 1\ny = 2\nwidth = 3\nheight = 4\n'
    new = edited_text(text, ("lanes", 0, "cameras", "plate"), {"roi": ROI})
    assert "[lanes.cameras.plate.roi]  # measured\nx = 10\ny = 20\nwidth = 300\nheight = 200\n" in new


def test_multi_line_values_strings_and_windows_line_ends_are_followed():
    text = (
        '# header comment\r\nnote = """[faces]\r\nthreshold = 1\r\n"""\r\n'
        "[faces]\r\nsizes = [\r\n  1,  # one\r\n  2,\r\n]\r\n'odd key' = 'x'\r\n"
    )
    new = edited_text(text, ("faces",), {"threshold": 0.9, "odd key": "y"})
    assert new == text.replace("'odd key' = 'x'", "'odd key' = \"y\"") + "threshold = 0.9\r\n"
    assert tomllib.loads(new)["note"] == "[faces]\nthreshold = 1\n"


def test_a_missing_top_level_table_is_appended():
    assert edited_text('state_dir = "x"', ("calibration",), {"vehicle_speed_kmh": 20.0}) == (
        'state_dir = "x"\n\n[calibration]\nvehicle_speed_kmh = 20.0\n'
    )


def test_refusals_name_the_problem_and_leave_the_file_alone(tmp_path):
    config = tmp_path / "edge.toml"
    config.write_text('lanes = [{ id = "a" }]\n')  # an array of inline tables: a layout the editor leaves alone
    with pytest.raises(ConfigEditError, match=r"set it by hand:\n  name = \"A\""):
        set_values(config, ("lanes", 0), {"name": "A"})
    assert config.read_text() == 'lanes = [{ id = "a" }]\n'
    assert not (tmp_path / "edge.toml.bak").exists()
    config.write_text("faces.threshold = 0.5\n")
    with pytest.raises(ConfigEditError, match=r"has no lanes\[3\]\.cameras"):
        set_values(config, ("lanes", 3, "cameras", "plate"), {"roi": ROI})
    with pytest.raises(ConfigEditError, match="cannot be written"):
        set_values(config, ("faces",), {"threshold": float("nan")})
    config.write_text("[faces\n")
    with pytest.raises(ConfigEditError, match="not valid TOML"):
        set_values(config, ("faces",), {"threshold": 0.93})
    with pytest.raises(ConfigEditError, match="cannot read"):
        set_values(tmp_path / "missing.toml", ("faces",), {"threshold": 0.93})


def test_the_file_is_replaced_whole_with_a_backup_and_its_mode_kept(tmp_path):
    config = tmp_path / "edge.toml"
    original = EXAMPLE.read_text()
    config.write_text(original)
    config.chmod(0o640)
    backup = set_values(config, ("lanes", 0, "cameras", "plate"), {"roi": ROI})
    assert backup == tmp_path / "edge.toml.bak" and backup.read_text() == original
    assert os.stat(config).st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["edge.toml", "edge.toml.bak"]  # no temporary left
