"""`edge faces enrol|calibrate` and `edge bench faces|search`, run as the CLI runs them, on generated folders."""

from __future__ import annotations

import json
import sqlite3
import tomllib
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.cli import main
from edge.config import DEFAULT_CONFIG
from edge.synthetic.scratch import demo_config_text
from tests.support import faces_images as img

pytestmark = pytest.mark.slow  # real processes and waits: seconds per test


def write(path: Path, rgb: np.ndarray) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path.name


@pytest.fixture(scope="module")
def faces_folder(tmp_path_factory) -> Path:
    """Two people, a few spoilt photos each, with pairs.tsv and identities.csv."""
    folder = tmp_path_factory.mktemp("faces")
    people = {
        "astronaut": [
            img.astronaut(),
            img.jpeg(img.astronaut(), 40),
            img.noise(img.astronaut(), 8, 1),
            img.gain(img.astronaut(), 0.8),
        ],
        "hopper": [img.hopper(), img.noise(img.hopper(), 8, 2), img.scaled(img.hopper(), 0.7)],
    }
    names = {
        p: [f"{p}/{write(folder / p / f'{i}.png', rgb)}" for i, rgb in enumerate(images)]
        for p, images in people.items()
    }
    a, h = names["astronaut"], names["hopper"]
    rows = [(a[0], a[1], 1), (a[2], a[3], 1), (h[0], h[1], 1), (a[0], h[0], 0), (a[1], h[2], 0)]
    (folder / "pairs.tsv").write_text("img1\timg2\tsame_identity\n" + "".join(f"{x}\t{y}\t{s}\n" for x, y, s in rows))
    (folder / "identities.csv").write_text(
        "file,identity\n" + "".join(f"{n},{p}\n" for p, files in names.items() for n in files)
    )
    return folder


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def test_bench_faces_prints_the_design_keys(capsys, faces_folder):
    code, out = run(capsys, "bench", "faces", str(faces_folder), "--impostors", "all")
    result = last_json(out)
    assert code == 0
    for key in ("pairs", "genuine", "impostors", "fmr", "fnmr", "threshold", "failed_to_detect", "median_ms"):
        assert key in result
    assert result["genuine"] == 3 and result["impostors"] == 12 and result["pairs"] == 15
    assert result["failed_to_detect"] == 0
    assert result["fmr"] == 0 and result["fnmr"] == 0


def test_bench_faces_identify_enrols_one_per_identity(capsys, faces_folder):
    code, out = run(capsys, "bench", "faces", str(faces_folder), "--identify")
    result = last_json(out)
    assert code == 0
    assert result["identities"] == 2 and result["probes"] == 5 and result["non_mated_searches"] == 7
    assert result["fnir"] == 0 and result["fpir"] == 0
    assert result["single_best_rank1"] == 1 and result["fused_rank1"] == 1


def test_bench_faces_fused_compares_fused_frames_with_single_ones(capsys, faces_folder):
    # Only the astronaut has 4 photos: each is the document once, the other 3 fused are the live face.
    code, out = run(capsys, "bench", "faces", str(faces_folder), "--fused", "3")
    result = last_json(out)
    assert code == 0 and (result["identities"], result["documents"], result["live_frames"]) == (1, 4, 3)
    assert (result["fused"]["genuine"], result["fused"]["impostors"]) == (4, 4 * 3)  # against Hopper's 3 photos
    assert (result["single"]["genuine"], result["single"]["impostors"]) == (12, 12 * 3)
    for protocol in ("fused", "single"):
        assert result[protocol]["fnmr_at_config_threshold"] == 0 and result[protocol]["fmr_at_config_threshold"] == 0
        assert "fnmr_at_target" not in result[protocol]  # 12 impostors cannot show an FMR of 0.1%


def test_calibrate_writes_the_threshold_into_the_config(capsys, faces_folder, tmp_path):
    config = tmp_path / "edge.toml"
    config.write_text(demo_config_text(tmp_path / "state"))
    before = config.read_text()
    code, out = run(capsys, "faces", "calibrate", str(faces_folder), "--target-fmr", "0.1", "--config", str(config))
    result = last_json(out)
    assert code == 0
    assert result["impostors"] == 12 and result["genuine"] == 3
    written = tomllib.loads(config.read_text())["faces"]["threshold"]
    assert written == result["threshold"]
    assert Path(str(config) + ".bak").read_text() == before
    # Comments of the original file survive.
    assert all(line in config.read_text() for line in before.splitlines() if line.startswith("#"))


def test_calibrate_refuses_too_few_impostors(capsys, faces_folder, tmp_path):
    config = tmp_path / "edge.toml"
    config.write_text(DEFAULT_CONFIG.read_text())
    code, out = run(capsys, "faces", "calibrate", str(faces_folder), "--config", str(config))
    assert code == 2 and "at least 1000" in out
    assert config.read_text() == DEFAULT_CONFIG.read_text()


def test_enrol_folder_stores_good_faces_and_refuses_poor_ones(capsys, faces_folder, tmp_path):
    folder = tmp_path / "people"
    write(folder / "astronaut" / "good.png", img.astronaut())
    write(folder / "astronaut" / "blurred.png", img.blur(img.astronaut(), 3.0))
    write(folder / "hopper" / "good.png", img.hopper())
    write(folder / "nobody" / "wall.png", np.full((240, 320, 3), 120, np.uint8))
    (folder / "hopper" / "notes.txt").write_text("not an image")
    store = tmp_path / "enrolled.sqlite"
    code, out = run(capsys, "faces", "enrol", str(folder), "--store", str(store))
    assert code == 1  # something was refused
    assert "refused" in out and "hold still" in out and "no face found" in out
    with sqlite3.connect(store) as conn:
        rows = conn.execute(
            "SELECT template_id, person_id, quality, length(vector) FROM templates ORDER BY 1"
        ).fetchall()
    assert [r[:2] for r in rows] == [("astronaut-1", "astronaut"), ("hopper-1", "hopper")]
    assert all(0 < r[2] <= 1 and r[3] == 128 * 4 for r in rows)


def test_enrol_images_of_one_person(capsys, faces_folder, tmp_path):
    store = tmp_path / "enrolled.sqlite"
    images = [str(faces_folder / "hopper" / "0.png"), str(faces_folder / "hopper" / "missing.png")]
    code, out = run(capsys, "faces", "enrol", *images, "--person", "gh", "--store", str(store))
    assert code == 1 and "enrolled" in out and "no such file" in out
    code, out = run(capsys, "faces", "enrol", str(faces_folder / "hopper" / "0.png"), "--store", str(store))
    assert code == 2 and "--person" in out


def test_bench_search_reports_latency_and_recall(capsys):
    code, out = run(capsys, "bench", "search", "--size", "2000", "--queries", "50", "--kind", "hnsw")
    result = last_json(out)
    assert code == 0
    assert set(result) >= {"size", "p50_ms", "p99_ms", "rss_mb", "recall_at_1"}
    assert result["size"] == 2000 and result["kind"] == "hnsw"
    assert result["recall_at_1"] >= 0.9


def test_bench_names_a_missing_image_and_a_broken_pairs_file(capsys, tmp_path):
    (tmp_path / "pairs.tsv").write_text("img1\timg2\tsame_identity\na.png\tb.png\t1\n")
    code, out = run(capsys, "bench", "faces", str(tmp_path))
    assert code == 2 and "a.png: no such file" in out
    (tmp_path / "pairs.tsv").write_text("first\tsecond\n")
    code, out = run(capsys, "bench", "faces", str(tmp_path))
    assert code == 2 and "header" in out
