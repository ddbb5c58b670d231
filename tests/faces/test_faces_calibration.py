"""Threshold selection at a target false-match rate, error rates, dataset files, and the config rewrite."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

from edge.config import DEFAULT_CONFIG, parse_config
from edge.faces.datasets import FaceDatasetError, pair_identities, read_identities, read_pairs
from edge.faces.evaluation import false_match_rate, false_non_match_rate, identification_rates, threshold_at_rate
from edge.faces.threshold_file import ThresholdFileError, write_threshold


def test_threshold_lets_through_at_most_the_target_share_of_impostors():
    rng = np.random.default_rng(0)
    impostors = rng.normal(0.85, 0.03, 5000).astype(np.float32)
    for target in (0.001, 0.01, 0.05):
        threshold = threshold_at_rate(impostors, target)
        passed = int(np.count_nonzero(impostors >= threshold))
        assert passed <= target * len(impostors)
        # And it is the lowest such threshold: one step lower lets one more impostor through.
        lower = np.nextafter(np.float32(threshold), np.float32(-np.inf))
        assert np.count_nonzero(impostors >= lower) > passed


def test_threshold_needs_enough_impostors_to_mean_anything():
    with pytest.raises(ValueError, match="at least 1000"):
        threshold_at_rate(np.zeros(999, np.float32), 0.001)
    with pytest.raises(ValueError, match="between 0 and 1"):
        threshold_at_rate(np.zeros(10, np.float32), 0)


def test_failures_count_against_the_system():
    genuine = np.array([0.95, 0.96, 0.80], np.float32)
    assert false_non_match_rate(genuine, 0.9) == pytest.approx(1 / 3)
    assert false_non_match_rate(genuine, 0.9, failed=1) == pytest.approx(2 / 4)
    assert false_match_rate(np.array([0.95, 0.5], np.float32), 0.9, failed=2) == pytest.approx(1 / 4)
    mated = np.array([0.95, 0.97, 0.91, 0.99])
    correct = np.array([True, True, False, True])
    non_mated = np.array([0.5, 0.92, 0.3, 0.6])
    fnir, fpir = identification_rates(mated, correct, non_mated, 0.93, failed=1)
    assert fnir == pytest.approx(2 / 5)  # one wrong person at rank 1, one probe without a face
    assert fpir == pytest.approx(0.0)


def test_pairs_and_identities_files(tmp_path):
    (tmp_path / "pairs.tsv").write_text(
        "img1\timg2\tsame_identity\na/1.jpg\ta/2.jpg\t1\nb.jpg\tc.jpg\t0\nd.jpg\te.jpg\t1\n"
    )
    pairs = read_pairs(tmp_path)
    assert [p.same for p in pairs] == [True, False, True]
    ids = pair_identities(pairs)
    assert ids["a/1.jpg"] == ids["a/2.jpg"] and ids["d.jpg"] == ids["e.jpg"]
    assert len({ids["a/1.jpg"], ids["b.jpg"], ids["c.jpg"], ids["d.jpg"]}) == 4
    (tmp_path / "pairs.tsv").write_text("img1\timg2\tsame_identity\nx.jpg\ty.jpg\tyes\n")
    with pytest.raises(FaceDatasetError, match="line 2"):
        read_pairs(tmp_path)
    (tmp_path / "identities.csv").write_text("file,identity\nx.jpg,p1\ny.jpg,p2\n")
    assert read_identities(tmp_path) == {"x.jpg": "p1", "y.jpg": "p2"}
    with pytest.raises(FaceDatasetError, match=r"identities\.csv"):
        read_identities(tmp_path / "missing")


def test_rewrite_keeps_comments_and_layout_and_keeps_a_backup(tmp_path):
    config = tmp_path / "edge.toml"
    original = DEFAULT_CONFIG.read_text() + (
        "\n[faces]\n# chosen by calibration\nthreshold = 0.5   # do not edit by hand\ndetect_scale = 0.5\n"
    )
    config.write_text(original)
    backup = write_threshold(config, 0.9312)
    text = config.read_text()
    assert backup.read_text() == original
    assert "threshold = 0.9312   # do not edit by hand\n" in text
    assert text.replace("0.9312", "0.5") == original  # nothing else changed
    parsed = parse_config(text, config)
    assert parsed.faces.threshold == 0.9312 and parsed.faces.detect_scale == 0.5


def test_rewrite_adds_the_key_or_the_table(tmp_path):
    with_table = tmp_path / "a.toml"
    with_table.write_text('[faces]\nmirror = true\n\n[[lanes]]\nid = "x"\n')
    write_threshold(with_table, 0.91)
    assert tomllib.loads(with_table.read_text())["faces"] == {"mirror": True, "threshold": 0.91}
    assert tomllib.loads(with_table.read_text())["lanes"] == [{"id": "x"}]
    without = tmp_path / "b.toml"
    without.write_text('state_dir = "x"  # no newline at the end')
    write_threshold(without, 0.92)
    assert tomllib.loads(without.read_text()) == {"state_dir": "x", "faces": {"threshold": 0.92}}


def test_rewrite_refuses_a_layout_it_cannot_edit_and_leaves_the_file_alone(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("faces = 0.5\n")  # not a table: nowhere to put a threshold
    with pytest.raises(ThresholdFileError, match="by hand"):
        write_threshold(config, 0.93)
    assert config.read_text() == "faces = 0.5\n"
    assert not (tmp_path / "c.toml.bak").exists()
    dotted = tmp_path / "e.toml"
    dotted.write_text("faces.threshold = 0.5  # measured\n")  # a table made by a dotted key is edited in place
    write_threshold(dotted, 0.93)
    assert dotted.read_text() == "faces.threshold = 0.93  # measured\n"
    broken = tmp_path / "d.toml"
    broken.write_text("[faces\n")
    with pytest.raises(ThresholdFileError, match="not valid TOML"):
        write_threshold(broken, 0.93)
    with pytest.raises(ThresholdFileError, match="cannot read"):
        write_threshold(tmp_path / "missing.toml", 0.93)
