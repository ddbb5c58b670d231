"""The demo's borrowed passports: now and then a driver hands over someone else's passport, whose
photo is Grace Hopper's, and the officer's screen says the faces do not match (REFER, both faces,
the score)."""

from __future__ import annotations

import hashlib
import json
import time

import httpx
import pytest
from websockets.sync.client import connect

from edge.config import load_config
from edge.synthetic.demo import BORROWED_PORTRAIT, presents_borrowed_passport, scene_of
from edge.synthetic.scratch import demo_config_text, free_loopback_port
from edge.synthetic.timeline import slot_index

WATCH_S = 420.0  # a borrowed passport comes about once a minute with two lanes; leave room for a loaded machine


def _documents(scene, start: float, end: float) -> dict[str, bool]:
    """Document number -> whether it is presented borrowed, for the scene's cars in [start, end)."""
    visits = (scene.visit(slot) for slot in range(slot_index(start, scene.lane_id), slot_index(end, scene.lane_id) + 1))
    return {v.traveller.document.document_number: presents_borrowed_passport(v.traveller.mrz) for v in visits if v}


def test_the_borrowed_portrait_is_the_one_its_provenance_names():
    provenance = (BORROWED_PORTRAIT.parent / "README.md").read_text()
    assert hashlib.sha256(BORROWED_PORTRAIT.read_bytes()).hexdigest() in provenance


def test_about_one_driver_in_six_presents_a_borrowed_passport(tmp_path):
    config = load_config_text(tmp_path)
    now = time.time()
    documents = {}
    for lane in config.lanes:
        documents.update(_documents(scene_of(lane), now, now + 4 * 3600))
    share = sum(documents.values()) / len(documents)
    assert len(documents) > 500 and 0.10 < share < 0.25, (len(documents), share)


def load_config_text(tmp_path):
    path = tmp_path / "edge.toml"
    path.write_text(demo_config_text(tmp_path / "state"))
    return load_config(path)


@pytest.mark.slow
@pytest.mark.live
@pytest.mark.timeout(600)
def test_a_borrowed_passport_is_referred_with_both_faces_and_the_score(tmp_path, start_service):
    port = free_loopback_port()
    config = tmp_path / "edge.toml"
    config.write_text(demo_config_text(tmp_path / "state", port))
    service = start_service(config)
    service.wait_until("/readyz", 200, timeout=120)
    start = time.time()
    documents = {}
    for lane in load_config(config).lanes:
        documents.update(_documents(scene_of(lane), start - 60, start + WATCH_S + 60))
    last: dict[str, dict] = {}  # each crossing as the officer last saw it
    with httpx.Client(base_url=service.url, timeout=20) as client:
        assert client.post("/api/login", json={"username": "officer", "password": "officer"}).status_code == 200
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
        with connect(f"ws://127.0.0.1:{port}/ws", additional_headers={"Cookie": cookie}) as ws:
            while time.time() - start < WATCH_S:
                try:
                    message = json.loads(ws.recv(timeout=5))
                except TimeoutError:
                    continue
                for lane in message.get("lanes") or [message.get("lane")]:
                    crossing = lane and lane["crossing"]
                    if crossing and crossing["document"] and crossing["face"] and crossing["decision"]:
                        seen = last.setdefault(crossing["crossing_id"], {"images": {}})
                        seen.update({**crossing, "lane_id": lane["lane_id"], "fetched": seen.get("fetched", {})})
                        base = f"/api/lanes/{lane['lane_id']}/crossings/{crossing['crossing_id']}"
                        for kind in ("portrait", "face"):  # both faces, for the officer to compare
                            if kind not in seen["fetched"] and crossing["images"][kind]:
                                seen["fetched"][kind] = client.get(f"{base}/{kind}.jpg").status_code
                borrowed = [c for c in last.values() if documents.get(c["document"]["document_number"])]
                if borrowed and any(not documents.get(c["document"]["document_number"]) for c in last.values()):
                    break
            assert borrowed, f"no borrowed passport was compared with a face in {WATCH_S:.0f} s ({len(last)} were)"
            for crossing in borrowed:
                codes = {reason["code"] for reason in crossing["decision"]["reasons"]}
                assert crossing["face"]["match"] is False and crossing["face"]["score"] < crossing["face"]["threshold"]
                assert "FACE_MISMATCH" in codes and crossing["decision"]["outcome"] != "CLEAR", crossing["decision"]
                assert crossing["fetched"] == {"portrait": 200, "face": 200}, crossing["fetched"]
    own = [c for c in last.values() if not documents.get(c["document"]["document_number"])]
    assert any(c["face"]["match"] for c in own), "the drivers' own passports never matched their faces"
