"""The lanes' face gallery over the real watchlist cache: built once, saved, loaded at the next start,
and changed in place by signed bundles."""

from __future__ import annotations

import logging
import time

import numpy as np
import pytest

from edge.config import FacesConfig
from edge.faces.encoding import unit
from edge.faces.watchlist_gallery import WatchlistGallery
from edge.watchlist.apply import apply_bundle
from tests.support.watchlist_authority import delete, person


def face(seed: int) -> list[float]:
    return unit(np.random.default_rng(seed).standard_normal(128).astype(np.float32)).tolist()


def enrolled(template_id: str, seed: int) -> dict:
    return {"id": template_id, "quality": 0.9, "vector": face(seed)}


def apply(store, authority, bundle) -> None:
    result = apply_bundle(store, bundle, authority.keyring(), source="test")
    assert result.applied, result.detail


def best(gallery, seed: int) -> str:
    return gallery.search(np.asarray(face(seed), np.float32), 1, 0.9)[0].template_id


@pytest.fixture
def persons(store, authority):
    apply(store, authority, authority.full("persons", [
        person("P1", "Doe", "Jane", faces=[enrolled("a", 1), enrolled("b", 2)]),
        person("P2", "Roe", "Rick", faces=[enrolled("c", 3)]),
    ]))
    return store


def test_built_once_saved_then_loaded_and_brought_up_to_date_at_the_next_start(tmp_path, persons, authority):
    folder = tmp_path / "gallery"
    first = WatchlistGallery(FacesConfig(), persons, folder)
    built = first.current()
    assert (built.size, built.generation) == (3, persons.face_generation())
    assert best(built, 1) == "persons/a" and built.search(np.asarray(face(3)), 1, 0.9)[0].person_id == "persons/P2"
    first.close()
    assert (folder / "meta.json").is_file()

    # While the service was stopped: P2 deleted, P3 enrolled.
    apply(persons, authority, authority.delta("persons", [
        delete("person", "P2"), person("P3", "Poe", "Pat", faces=[enrolled("d", 4)]),
    ]))
    second = WatchlistGallery(FacesConfig(), persons, folder)
    loaded = second.current()
    assert (loaded.size, loaded.generation) == (3, persons.face_generation())
    assert best(loaded, 4) == "persons/d" and best(loaded, 3) != "persons/c"
    # Labels go on from the saved gallery's: it was changed in place, not built again.
    assert loaded.next_label == 4
    second.close()


def test_a_bundle_while_running_is_taken_in_behind_the_lanes(tmp_path, persons, authority):
    gallery = WatchlistGallery(FacesConfig(), persons, tmp_path / "gallery")
    before = gallery.current()
    apply(persons, authority, authority.delta("persons", [
        person("P1", "Doe", "Jane", faces=[enrolled("e", 5)]),  # re-enrolled with another photo
    ]))
    generation = persons.face_generation()
    deadline = time.monotonic() + 60
    while gallery.current().generation != generation:
        assert time.monotonic() < deadline, "the gallery never caught up with the store"
        time.sleep(0.05)
    after = gallery.current()
    assert after is before  # the same gallery, changed in place
    assert after.size == 2 and best(after, 5) == "persons/e" and best(after, 1) != "persons/a"
    gallery.close()


def test_growing_past_exact_max_switches_to_the_graph(tmp_path, persons, authority):
    gallery = WatchlistGallery(FacesConfig(exact_max=3), persons, None)
    assert gallery.current().kind == "exact"
    apply(persons, authority, authority.delta("persons", [
        person("P4", "Loe", "Lou", faces=[enrolled("f", 6), enrolled("g", 7)]),
    ]))
    change = gallery.update()
    assert change is not None and gallery.current().kind == "hnsw" and gallery.current().size == 5
    assert best(gallery.current(), 7) == "persons/g"
    gallery.close()


def test_a_damaged_saved_gallery_is_named_and_built_again(tmp_path, persons, caplog):
    folder = tmp_path / "gallery"
    WatchlistGallery(FacesConfig(), persons, folder).current()
    (folder / "meta.json").write_text("{not json")
    with caplog.at_level(logging.WARNING):
        rebuilt = WatchlistGallery(FacesConfig(), persons, folder)
        assert rebuilt.current().size == 3
    assert "saved face gallery unusable" in caplog.text and "meta.json" in caplog.text
    rebuilt.close()
