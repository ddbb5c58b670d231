"""Lookups: plates exact and fuzzy (advisory), documents, persons by transliterated name, face templates."""

from __future__ import annotations

import time

import numpy as np

from edge.watchlist import normalize
from edge.watchlist.apply import apply_bundle
from edge.watchlist.lookup import Lookup, Match
from edge.watchlist.records import Action
from edge.watchlist.templates import enrolled_faces, iter_faces
from tests.support.watchlist_authority import DAY, delete, document, person, plate

NOW = time.time()
FACE_A = [((i * 7) % 13 - 6) / 20 for i in range(128)]
FACE_B = [((i * 5) % 11 - 5) / 20 for i in range(128)]


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _load(store, authority, list_id, records):
    result = apply_bundle(store, authority.full(list_id, records), authority.keyring(), source="test")
    assert result.applied, result.detail


def _plates(lookup: Lookup, read: str, fuzzy: bool = True) -> list[tuple[str, str, bool]]:
    return [(h.record.plate, h.match.value, h.advisory) for h in lookup.plate(read, now=NOW, fuzzy=fuzzy)]


def test_plate_exact_lookalike_and_one_edit_hits(store, authority):
    _load(store, authority, "vehicles", [plate("V1", "ABC123"), plate("V2", "B8O1234"), plate("V3", "KLM777")])
    lookup = Lookup(store)
    assert _plates(lookup, "abc 123") == [("ABC123", "exact", False)]
    assert _plates(lookup, "A8C123") == [("ABC123", "lookalike", True)]  # B read as 8
    assert _plates(lookup, "8B01234") == [("B8O1234", "lookalike", True)]  # three look-alikes at once
    assert _plates(lookup, "ABC1234") == [("ABC123", "edit1", True)]  # one extra character
    assert _plates(lookup, "ABC12") == [("ABC123", "edit1", True)]  # one missing
    assert _plates(lookup, "ABX123") == [("ABC123", "edit1", True)]  # one substituted
    assert _plates(lookup, "A8X123") == [("ABC123", "edit1+lookalike", True)]
    assert _plates(lookup, "AXX123") == []  # two edits: no hit
    assert _plates(lookup, "KLM771") == [("KLM777", "edit1", True)]
    assert _plates(lookup, "A8C123", fuzzy=False) == []
    assert _plates(lookup, "ABC123", fuzzy=False) == [("ABC123", "exact", False)]
    assert _plates(lookup, "--") == []


def test_hits_from_every_list_firm_before_advisory_strictest_first(store, authority):
    _load(store, authority, "stolen", [plate("S1", "ABC123", action="alert"), plate("S2", "ABC124", action="deny")])
    _load(store, authority, "wanted", [plate("W1", "ABC123", action="deny")])
    hits = Lookup(store).plate("ABC123", now=NOW)
    assert [(h.list_id, h.record.id, h.match, h.action) for h in hits] == [
        ("wanted", "W1", Match.EXACT, Action.DENY),
        ("stolen", "S1", Match.EXACT, Action.ALERT),
        ("stolen", "S2", Match.EDIT1, Action.DENY),
    ]
    assert [h.list_version for h in hits] == [1, 1, 1]


def test_records_outside_their_validity_window_do_not_hit(store, authority):
    _load(store, authority, "vehicles", [
        plate("V1", "FUT111", valid_from=_iso(NOW + DAY)),
        plate("V2", "OLD222", valid_until=_iso(NOW - DAY)),
        plate("V3", "NOW333", valid_from=_iso(NOW - DAY), valid_until=_iso(NOW + DAY)),
    ])
    lookup = Lookup(store)
    assert _plates(lookup, "FUT111") == []
    assert _plates(lookup, "OLD222") == []
    assert _plates(lookup, "NOW333") == [("NOW333", "exact", False)]
    assert [h.record.id for h in lookup.plate("FUT111", now=NOW + 2 * DAY)] == ["V1"]


def test_document_by_number_and_issuer(store, authority):
    _load(store, authority, "documents", [document("D1", "X1234567", "UTO"), document("D2", "X1234567", "D")])
    lookup = Lookup(store)
    hits = lookup.document("x123 4567", "D<<", now=NOW)
    assert [(h.record.id, h.match, h.advisory) for h in hits] == [("D2", Match.EXACT, False)]
    # A reader that did not get the issuing state: every issuer's document, as advisory hits.
    hits = lookup.document("X1234567", None, now=NOW)
    assert sorted((h.record.id, h.advisory) for h in hits) == [("D1", True), ("D2", True)]
    assert lookup.document("X1234568", "UTO", now=NOW) == []


def test_person_names_meet_across_transliterations_and_order(store, authority):
    _load(store, authority, "persons", [
        person("P1", "Müller", "Anna-Maria", dob="1980-05-17", nationality="D"),
        person("P2", "Иванов", "Сергей", dob="1975"),
        person("P3", "Ødegård", "Åse", nationality="NOR"),
    ])
    lookup = Lookup(store)

    def ids(surname, given, **kw):
        return [(h.record.id, h.match.value, h.advisory) for h in lookup.person(surname, given, now=NOW, **kw)]

    assert ids("MUELLER", "ANNA MARIA", dob="1980-05-17") == [("P1", "name+dob", False)]
    assert ids("MULLER", "ANNA MARIA", dob="1980-05-17") == [("P1", "name+dob", False)]
    assert ids("ANNA MARIA", "MÜLLER") == [("P1", "name", True)]  # order-free; no dob: advisory
    assert ids("MUELLER", "ANNA MARIA", dob="1980-05-18") == []
    assert ids("MUELLER", "ANNA MARIA", nationality="FRA") == []
    assert ids("IVANOV", "SERGEI", dob="1975-03-02") == [("P2", "name+dob", False)]  # list knows the year only
    assert ids("ODEGARD", "ASE") == [("P3", "name", True)]
    assert ids("OEDEGAARD", "AASE") == [("P3", "name", True)]


def test_name_normal_forms():
    assert normalize.ascii_name("Ñúñez-García, José") == "NUNEZ GARCIA JOSE"
    assert normalize.ascii_name("Παπαδόπουλος") == "PAPADOPOULOS"
    assert normalize.ascii_name("Straße") == "STRASSE"
    assert normalize.name_key("Müller", "Anna") == normalize.name_key("ANNA", "MUELLER") == "ANNA MULLER"
    assert normalize.plate_skeleton("B8O0DQ1IL") == "880000111"


def test_a_delta_changes_what_lookups_return(store, authority):
    _load(store, authority, "vehicles", [plate("V1", "ABC123"), plate("V2", "XYZ987"), document("D1", "N1", "UTO")])
    delta = authority.delta("vehicles", [plate("V1", "ABC999"), delete("plate", "V2"), plate("V3", "NEW111")])
    assert apply_bundle(store, delta, authority.keyring(), source="test").applied
    lookup = Lookup(store)
    assert _plates(lookup, "ABC123", fuzzy=False) == []
    assert _plates(lookup, "ABC999", fuzzy=False) == [("ABC999", "exact", False)]
    assert _plates(lookup, "XYZ987") == []
    assert _plates(lookup, "NEW111") == [("NEW111", "exact", False)]
    assert [h.record.id for h in lookup.document("N1", "UTO", now=NOW)] == ["D1"]
    state = store.lists()["vehicles"]
    assert (state.version, state.record_count) == (2, 3)
    assert store.check_content().consistent


def test_face_templates_for_the_index_and_the_generation_that_tells_it_to_rebuild(store, authority):
    _load(store, authority, "persons", [
        person("P1", "Doe", "Jane", faces=[{"id": "a", "quality": 0.9, "vector": FACE_A},
                                           {"id": "b", "quality": 0.5, "vector": FACE_B}]),
        person("P2", "Roe", "Rick"),
    ])
    generation = store.face_generation()
    faces = list(iter_faces(store))
    assert [(f.list_id, f.person_id, f.template_id, f.quality) for f in faces] == [
        ("persons", "P1", "a", 0.9), ("persons", "P1", "b", 0.5)
    ]
    assert np.allclose(faces[0].vector, np.asarray(FACE_A, dtype=np.float32))
    assert faces[0].vector.dtype == np.float32 and faces[0].vector.shape == (128,)
    with enrolled_faces(store) as (read_generation, count, rows):
        assert (read_generation, count) == (generation, 2)
        keys = [(f.list_id, f.person_id, f.template_id) for f in rows]
    assert keys == [("persons", "P1", "a"), ("persons", "P1", "b")]

    # A list without faces changing does not move the generation; a person's template changing does.
    _load(store, authority, "vehicles", [plate("V1", "ABC123")])
    assert store.face_generation() == generation
    delta = authority.delta("persons", [person("P1", "Doe", "Jane", faces=[{"id": "c", "quality": 0.7,
                                                                             "vector": FACE_B}])])
    assert apply_bundle(store, delta, authority.keyring(), source="test").applied
    assert store.face_generation() > generation
    assert [(f.person_id, f.template_id) for f in iter_faces(store)] == [("P1", "c")]

    hit = Lookup(store).face_owner("persons", "P1", now=NOW)
    assert hit is not None and hit.match is Match.FACE and hit.advisory and hit.record.surname == "Doe"
    assert Lookup(store).face_owner("persons", "P9", now=NOW) is None
