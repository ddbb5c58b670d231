"""`edge bench alpr` and `edge alpr` on folders in the dataset contract, made from rendered plates."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.cli import main
from edge.config import DEFAULT_CONFIG, SURE_CONFIDENCE, load_config
from edge.plates.pipeline import PlateReader, PlateReaderSettings
from tests.support.plate_images import background, crop_of, draw_plate, place

PLATES = ("AB1234", "KCA159", "ZX4071")


def _frames_folder(folder: Path) -> Path:
    folder.mkdir()
    for i, text in enumerate(PLATES):
        frame = place(background(np.random.default_rng(i)), draw_plate(text), (500 + 40 * i, 400), 200)
        cv2.imwrite(str(folder / f"f{i}.png"), frame)
        (folder / f"f{i}.txt").write_text(f"f{i}.png\t400\t360\t200\t80\t{text}\n")
    return folder


def _crops_folder(folder: Path) -> Path:
    folder.mkdir()
    rows = []
    for i, text in enumerate(PLATES):
        cv2.imwrite(str(folder / f"c{i}.png"), crop_of(draw_plate(text)))
        rows.append(f"c{i}.png,tt,{text}")
    (folder / "labels.csv").write_text("\n".join(rows) + "\n")
    return folder


def _last_json(capsys: pytest.CaptureFixture[str]) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_bench_frames_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _frames_folder(tmp_path / "frames")
    assert main(["bench", "alpr", str(folder), "--verbose"]) == 0
    result = _last_json(capsys)
    assert result["mode"] == "frames"
    assert result["images"] == 3
    assert result["exact"] == 3
    assert result["accuracy"] == 1.0
    assert result["localised"] == 1.0
    assert result["median_ms"] > 0 and result["p95_ms"] >= result["median_ms"]


def test_bench_crops_ocr_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _crops_folder(tmp_path / "crops")
    assert main(["bench", "alpr", str(folder), "--limit", "2"]) == 0
    result = _last_json(capsys)
    assert result["mode"] == "crops"
    assert result["images"] == 2
    assert result["exact"] == 2
    assert "localised" not in result


def test_bench_names_a_broken_label(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _frames_folder(tmp_path / "frames")
    (folder / "f1.txt").write_text("f1.png\t1\t2\t3\tAB12\n")
    assert main(["bench", "alpr", str(folder)]) == 2
    assert "f1.txt" in capsys.readouterr().err


def test_bench_names_a_folder_without_labels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "alpr", str(tmp_path)]) == 2
    assert "no labelled frames" in capsys.readouterr().err


def test_alpr_command_prints_reads_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _crops_folder(tmp_path / "crops")
    missing = tmp_path / "missing.png"
    assert main(["alpr", "--crop", str(folder / "c0.png"), str(missing)]) == 1
    captured = capsys.readouterr()
    line = json.loads(captured.out.strip().splitlines()[0])
    assert line["reads"][0]["text"] == "AB1234"
    assert len(line["reads"][0]["char_confidences"]) == 6
    assert "missing.png" in captured.err


def test_bench_reads_us_crop_labels_as_states(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `de` under a US bench is Delaware (all-digit plates), not Germany's letters-first format.
    folder = tmp_path / "crops"
    folder.mkdir()
    cv2.imwrite(str(folder / "d.png"), crop_of(draw_plate("508736")))
    (folder / "labels.csv").write_text("d.png,de,508736\n")
    assert main(["bench", "alpr", str(folder), "--region", "us"]) == 0
    assert _last_json(capsys)["exact"] == 1


def test_bench_reports_the_share_of_sure_reads_and_how_many_of_them_are_exact(tmp_path, capsys):
    folder = _crops_folder(tmp_path / "crops")
    (folder / "labels.csv").write_text("c0.png,tt,AB1234\nc1.png,tt,KCA159\nc2.png,tt,ZX4079\n")  # c2 is ZX4071
    assert main(["bench", "alpr", str(folder), "--sure-confidence", "0"]) == 0
    everything = _last_json(capsys)
    assert (everything["sure_confidence"], everything["sure_share"], everything["sure_precision"]) == (0, 1, 0.6667)
    assert main(["bench", "alpr", str(folder), "--sure-confidence", "1"]) == 0
    nothing = _last_json(capsys)
    assert nothing["sure_share"] == 0 and nothing["sure_precision"] is None
    assert main(["bench", "alpr", str(folder)]) == 0
    assert _last_json(capsys)["sure_confidence"] == SURE_CONFIDENCE


def test_calibrate_finds_the_lowest_confidence_of_exact_reads_and_writes_it_into_every_lane(tmp_path, capsys):
    folder = _crops_folder(tmp_path / "crops")
    config = tmp_path / "edge.toml"
    # Lane 1 keeps the demo's plates table (the key joins it), lane 2 has none (one is made).
    demo = DEFAULT_CONFIG.read_text()
    lane_2_plates = demo[demo.rindex("\nplates.") + 1:]
    assert lane_2_plates.count("\n") == 1, "the demo's last lane no longer ends with one plates key"
    config.write_text(demo.removesuffix(lane_2_plates)
                      .replace('state_dir = "../var/demo"', f'state_dir = "{tmp_path / "state"}"'))
    before = config.read_text()
    assert main(["alpr", "calibrate", str(folder), "--target-precision", "0.5", "--config", str(config)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    result = json.loads(out[-1])
    reader = PlateReader(PlateReaderSettings())
    confidences = [reader.read_crop(cv2.imread(str(folder / f"c{i}.png")), "any").confidence for i in range(3)]
    assert result["threshold"] == min(confidences)
    assert (result["images"], result["sure"], result["correct"], result["sure_share"], result["sure_precision"]) == (
        3, 3, 3, 1.0, 1.0)
    assert result["target_precision"] == 0.5 and any(line.startswith("threshold ") for line in out[:-1])
    written = load_config(config)
    assert [lane.plates.sure_confidence for lane in written.lanes] == [result["threshold"]] * 2
    assert written.lanes[0].plates.regions == load_config(DEFAULT_CONFIG).lanes[0].plates.regions
    assert (tmp_path / "edge.toml.bak").read_text() == before


def test_calibrate_refuses_an_unreachable_target_and_a_bad_folder(tmp_path, capsys):
    folder = _crops_folder(tmp_path / "crops")
    (folder / "labels.csv").write_text("c0.png,tt,AB1299\nc1.png,tt,KCA199\nc2.png,tt,ZX4099\n")  # all wrong
    assert main(["alpr", "calibrate", str(folder), "--target-precision", "0.5"]) == 2
    assert "no threshold gives 0.5 precision: the best is 0.0000" in capsys.readouterr().err
    assert main(["alpr", "calibrate", str(tmp_path)]) == 2
    assert "no labelled frames" in capsys.readouterr().err
    assert main(["alpr", "calibrate", str(folder), str(folder)]) == 2
    assert main(["alpr", str(folder / "c0.png"), "--target-precision", "0.5"]) == 2
    assert "belong to `edge alpr calibrate DIR`" in capsys.readouterr().err
