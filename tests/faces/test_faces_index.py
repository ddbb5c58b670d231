"""1:N search: ordering, exact against HNSW, building from any iterable, refusing bad templates,
taking changes in place, and saving."""

from __future__ import annotations

import numpy as np
import pytest

from edge.config import FacesConfig
from edge.faces.encoding import face_encoder, unit
from edge.faces.enrolled_store import EnrolledStore
from edge.faces.gallery import build_gallery
from edge.faces.gallery_file import load_gallery, save_gallery
from edge.faces.index import index_kind
from edge.faces.stills import still_observer, still_template
from edge.faces.types import FaceTemplate
from tests.support import faces_images as img


def random_rows(n: int, seed: int) -> list[tuple[str, str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    vectors = unit(rng.standard_normal((n, 128)).astype(np.float32))
    return [(f"t{i}", f"person{i // 2}", vectors[i]) for i in range(n)]


def test_candidates_come_best_first_with_ranks_and_threshold_flags():
    rows = random_rows(300, seed=1)
    gallery = build_gallery(iter(rows), generation=7, kind="exact")
    probe = rows[42][2] * 0.9 + rows[17][2] * 0.3
    candidates = gallery.search(probe, k=5, threshold=0.5)
    assert gallery.generation == 7 and gallery.size == 300
    assert [c.rank for c in candidates] == [1, 2, 3, 4, 5]
    assert candidates[0].template_id == "t42" and candidates[0].person_id == "person21"
    assert candidates[1].template_id == "t17"
    scores = [c.score for c in candidates]
    assert scores == sorted(scores, reverse=True)
    assert [c.above_threshold for c in candidates] == [s >= 0.5 for s in scores]
    expected = unit(probe) @ unit(rows[42][2])
    assert candidates[0].score == pytest.approx(float(expected), abs=1e-5)


def test_hnsw_agrees_with_exact_search_on_noisy_probes():
    rows = random_rows(3000, seed=2)
    exact = build_gallery(rows, generation=1, kind="exact")
    hnsw = build_gallery(rows, generation=1, kind="hnsw")
    assert (exact.kind, hnsw.kind) == ("exact", "hnsw")
    rng = np.random.default_rng(3)
    for i in rng.integers(0, 3000, 50):
        probe = rows[i][2] + rng.standard_normal(128).astype(np.float32) * 0.05
        a, b = exact.search(probe, 3, 0.9), hnsw.search(probe, 3, 0.9)
        assert a[0].template_id == b[0].template_id == f"t{i}"
        assert a[0].score == pytest.approx(b[0].score, abs=1e-4)


def test_auto_kind_switches_at_the_configured_size():
    assert index_kind(100, "auto", exact_max=100) == "exact"
    assert index_kind(101, "auto", exact_max=100) == "hnsw"
    assert index_kind(10, "hnsw", exact_max=100) == "hnsw"


def test_k_larger_than_gallery_and_empty_gallery():
    rows = random_rows(3, seed=4)
    assert len(build_gallery(rows, 1, kind="exact").search(rows[0][2], 10, 0.5)) == 3
    assert len(build_gallery(rows, 1, kind="hnsw").search(rows[0][2], 10, 0.5)) == 3
    assert build_gallery([], 1).search(rows[0][2], 5, 0.5) == []


def test_bad_template_is_named():
    rows = [*random_rows(2, seed=5), ("broken", "p", np.zeros(64, np.float32))]
    with pytest.raises(ValueError, match=r"'broken'.*128"):
        build_gallery(rows, 1)
    nan = np.full(128, np.nan, np.float32)
    with pytest.raises(ValueError, match="'nan'"):
        build_gallery([("nan", "p", nan)], 1)


def test_real_faces_in_the_enrolled_store_are_searched_in_order(tmp_path):
    observer, encoder = still_observer(FacesConfig()), face_encoder(FacesConfig())
    threshold = FacesConfig().threshold
    with EnrolledStore(tmp_path / "enrolled.sqlite") as store:
        store.add("astronaut", still_template(img.astronaut(), observer, encoder, gated=True), "astronaut.png")
        store.add("hopper", still_template(img.hopper(), observer, encoder, gated=True), "hopper.png")
        # Strangers: random unit vectors, far from every real face (cosine near 0), so they rank last.
        for template_id, _, vector in random_rows(40, seed=6):
            store.add(f"stranger-{template_id}", FaceTemplate(vector, 0.5, 1), "random")
        assert store.generation == 42
        gallery = build_gallery(store.rows(), store.generation)
    probe = still_template(img.noise(img.hopper(), 8, seed=2), observer, encoder, gated=True)
    candidates = gallery.search(probe.vector, k=3, threshold=threshold)
    assert candidates[0].person_id == "hopper" and candidates[0].template_id == "hopper-1"
    assert candidates[0].above_threshold
    assert candidates[1].person_id == "astronaut" and not candidates[1].above_threshold


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_saved_gallery_loads_with_its_generation_and_answers_the_same(tmp_path, kind):
    rows = random_rows(500, seed=8)
    gallery = build_gallery(rows, generation=3, kind=kind)
    folder = tmp_path / "gallery"
    save_gallery(gallery, folder)
    save_gallery(gallery, folder)  # replacing a saved gallery works too
    assert load_gallery(tmp_path / "nothing") is None
    loaded = load_gallery(folder)
    assert loaded is not None and loaded.kind == kind and loaded.size == 500 and loaded.generation == 3
    probe = rows[123][2]
    assert loaded.search(probe, 3, 0.5) == gallery.search(probe, 3, 0.5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gallery"]  # no staging left behind


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_an_update_adds_removes_and_reenrols_in_place(tmp_path, kind):
    rows = random_rows(400, seed=10)
    gallery = build_gallery(rows, generation=1, kind=kind)
    fresh = random_rows(450, seed=11)[400:]  # 50 templates of people not enrolled before
    reenrolled = ("t70", "person35", fresh[0][2])  # t70 again, with another photo's vector
    newcomers = [(f"new{i}", f"newperson{i}", vector) for i, (_, _, vector) in enumerate(fresh[1:])]
    kept = [row for row in rows[20:] if row[0] != "t70"]
    change = gallery.update([*kept, reenrolled, *newcomers], generation=2)
    # t0-t19 removed and t70 replaced; 49 newcomers and t70's new vector added.
    assert (change.generation, change.removed, change.added) == (2, 21, 50)
    assert gallery.generation == 2 and gallery.size == len(kept) + 50
    for template_id, _, vector in [rows[5], rows[70]]:
        assert gallery.search(vector, 1, 0.5)[0].template_id != template_id  # removed, or changed
    assert gallery.search(reenrolled[2], 1, 0.5)[0].template_id == "t70"
    assert gallery.search(newcomers[10][2], 1, 0.5)[0].template_id == "new10"
    assert gallery.search(rows[300][2], 1, 0.5)[0].template_id == "t300"  # untouched
    assert gallery.next_label == 450  # labels of removed templates are not reused
    unchanged = gallery.update([*kept, reenrolled, *newcomers], generation=3)
    assert (unchanged.added, unchanged.removed) == (0, 0)
    # What was changed in place saves and loads like what was built.
    save_gallery(gallery, tmp_path / "gallery")
    loaded = load_gallery(tmp_path / "gallery")
    assert loaded is not None and loaded.size == gallery.size and loaded.next_label == 450
    assert loaded.search(newcomers[3][2], 3, 0.5) == gallery.search(newcomers[3][2], 3, 0.5)


def test_an_hnsw_update_grows_past_the_capacity_it_was_built_with():
    gallery = build_gallery(random_rows(100, seed=12), generation=1, kind="hnsw")
    more = [(f"more{i}", "p", vector) for i, (_, _, vector) in enumerate(random_rows(400, seed=13))]
    change = gallery.update([*random_rows(100, seed=12), *more], generation=2)
    assert change.added == 400 and gallery.size == 500
    assert gallery.search(more[399][2], 1, 0.5)[0].template_id == "more399"
    emptied = gallery.update([], generation=3)
    assert emptied.removed == 500 and gallery.size == 0 and gallery.search(more[0][2], 5, 0.5) == []


def test_damaged_gallery_is_named(tmp_path):
    folder = tmp_path / "gallery"
    save_gallery(build_gallery(random_rows(10, seed=9), generation=1, kind="exact"), folder)
    (folder / "ids.tsv").write_text("only-one-line\n")
    with pytest.raises(ValueError, match=r"ids\.tsv"):
        load_gallery(folder)
    with pytest.raises(ValueError, match="tab or newline"):
        save_gallery(build_gallery([("a\tb", "p", random_rows(1, seed=1)[0][2])], 1), tmp_path / "g2")
