"""The authority's publisher: versions, the publication folder and its index, refusing what a crossing would."""

from __future__ import annotations

import json

import pytest

from edge.watchlist.bundle import read_header
from edge.watchlist.publish import PublishError
from edge.watchlist.sources import INDEX_FORMAT, scan_folder
from tests.support.watchlist_authority import Authority, delete, plate


def _files(authority: Authority) -> list[str]:
    return sorted(p.relative_to(authority.out).as_posix() for p in authority.out.rglob("*") if p.is_file())


def test_versions_count_up_and_the_index_lists_every_bundle(authority):
    authority.full("vehicles", [plate("V1", "ABC123")])
    authority.delta("vehicles", [plate("V2", "DEF456")])
    authority.full("persons", [])
    assert _files(authority) == [
        "index.json",
        "persons/full-00000001.wlb",
        "vehicles/delta-00000001-00000002.wlb",
        "vehicles/full-00000001.wlb",
    ]
    index = json.loads((authority.out / "index.json").read_text())
    assert index["format"] == INDEX_FORMAT
    assert sorted(index["bundles"], key=lambda b: b["file"]) == [
        {"file": o.file, "list_id": o.list_id, "kind": o.kind, "version": o.version, "base_version": o.base_version,
         "size": o.size}
        for o in sorted(scan_folder(authority.out), key=lambda o: o.file)
    ]
    manifest = read_header(authority.out / "vehicles" / "delta-00000001-00000002.wlb")[0]
    assert (manifest.version, manifest.base_version, manifest.record_count, manifest.state_count) == (2, 1, 1, 2)


def test_a_new_full_snapshot_supersedes_the_old_one_and_old_deltas_are_pruned(tmp_path):
    authority = Authority(tmp_path / "a", keep_deltas=2)
    authority.full("vehicles", [plate("V1", "ABC123")])
    for n in range(2, 5):
        authority.delta("vehicles", [plate(f"V{n}", f"NEW{n}00")])
    authority.full("vehicles", [plate("V1", "ABC123")])
    authority.close()
    assert _files(authority) == [
        "index.json",
        "vehicles/delta-00000003-00000004.wlb",
        "vehicles/full-00000005.wlb",
    ]


def test_publishing_refuses_what_a_crossing_would_refuse(authority):
    with pytest.raises(PublishError, match="publish a full snapshot first"):
        authority.delta("vehicles", [plate("V1", "ABC123")])
    authority.full("vehicles", [plate("V1", "ABC123")])
    with pytest.raises(PublishError, match="deletes plate 'V9', which vehicles lacks"):
        authority.delta("vehicles", [delete("plate", "V9")])
    with pytest.raises(PublishError, match="share an id"):
        authority.full("vehicles", [plate("V1", "ABC123"), plate("V1", "ABC124")])
    with pytest.raises(PublishError, match="list id"):
        authority.full("Vehicles!", [])
    # Nothing half-made was left behind, and the version did not move.
    assert _files(authority) == ["index.json", "vehicles/full-00000001.wlb"]
    assert not list(authority.out.rglob(".*"))
    assert authority.delta("vehicles", [delete("plate", "V1")]).name == "delta-00000001-00000002.wlb"
