"""The demo checkpoint's simulated world: devices, a stage hand, and a watchlist to find hits in.

With `[demo] simulators = true` the service gives every synthetic lane (and a training lane, demo or
not) a simulated barrier (Modbus RTU) and
document reader, each a real `python -m hardware.sim` process on a loopback TCP port, and a stage
hand thread that plays the synthetic scene's timeline to them: the loop is occupied while the
scene's car stands on it, and the driver's passport (with its portrait) is presented when the
scene hands it over. The product reads those devices over their real protocols exactly as it
reads real ones; only this module (the simulated world) looks at the scene's ground truth.

The demo checkpoint also gets a signed demo watchlist (a generated authority key, kept in the demo
state dir) listing some of the scene's upcoming plates and passports, so that the demo shows hits.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import cv2
import skimage.data

from edge.config import EdgeConfig, LaneConfig, WatchlistKey
from edge.lane.crossing import ActionRefused
from edge.synthetic import Scene, scene_for
from edge.synthetic.timeline import SLOT_S, slot_index
from edge.synthetic.waiting import TRAINING_CARS_WAIT_S, WaitingCars
from edge.watchlist.keys import generate_private_key, load_private_key, private_key_pem, public_key_text
from edge.watchlist.publish import Publisher
from hardware.settings import BarrierSettings, ReaderSettings, SerialLinkSettings
from hardware.sim.client import SimError, SimProcess

log = logging.getLogger(__name__)

_KEY_ID = "demo-authority"
# One driver in six hands over someone else's passport (its photo is Grace Hopper's), so that the
# demo shows the officer a face that does not match its document.
_BORROWED_EVERY = 6
BORROWED_PORTRAIT = Path(__file__).resolve().parent / "portraits" / "grace_hopper.jpg"
_WATCHLIST_HOURS = 2  # how far ahead the demo watchlist lists the scene's vehicles
_STAGE_TICK_S = 0.1
# An answer that has not opened the barrier after this long sends the waiting car away.
_TURN_AWAY_AFTER_S = 3.0


def scene_of(lane: LaneConfig) -> Scene | None:
    """The synthetic scene a lane's plate camera shows (its URL names the lane and the seed); None for a real camera."""
    url = urlsplit(lane.cameras.plate.url)
    if url.scheme != "synthetic":
        return None
    seed = int(dict(parse_qsl(url.query)).get("seed", 0))
    return scene_for(url.netloc, seed)


def _portrait_jpeg() -> bytes:
    # The document photo: the same public-domain portrait the scene's drivers are made from.
    face = cv2.cvtColor(skimage.data.astronaut()[0:300, 120:360], cv2.COLOR_RGB2BGR)
    ok, jpeg = cv2.imencode(".jpg", face, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise RuntimeError("could not encode the demo portrait")
    return jpeg.tobytes()


def presents_borrowed_passport(mrz: tuple[str, ...]) -> bool:
    """Whether the driver presenting this passport is not its holder: the demo's choice, the same
    for a passport every time it is presented."""
    return zlib.crc32("".join(mrz).encode()) % _BORROWED_EVERY == 0


@dataclass
class _LaneWorld:
    lane_id: str
    scene: Scene
    barrier: SimProcess
    reader: SimProcess
    last_document: tuple[str, ...] | None = None  # the MRZ lines last presented, for a replay
    reader_lock: threading.Lock = field(default_factory=threading.Lock)  # the stage and a replay share it
    waiting: WaitingCars | None = None  # cars wait at the barrier ([demo] cars_wait_s)
    answered: tuple[str, float] | None = None  # (crossing, when) the officer answered the waiting car
    sent_away: str | None = None  # the crossing whose answer last sent a car away


# What a waiting car's driver sees of the officer: the lane's crossing id and the officer's action on
# it (confirm, refer, deny, override), or None before the officer has acted.
OfficerAnswer = Callable[[str], tuple[str, str] | None]


class DemoWorld:
    """The simulated devices and stage hands of every synthetic lane; stop() ends them all."""

    def __init__(self, worlds: list[_LaneWorld], own_portrait: Path | None = None):
        self._worlds = worlds
        self._own_portrait = own_portrait
        self._answers: OfficerAnswer | None = None
        self._borrowed: Callable[[str, tuple[str, ...]], bool | None] | None = None
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._stage, args=(w,), name=f"stage-{w.lane_id}", daemon=True)
                         for w in worlds]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        for world in self._worlds:
            world.barrier.close()
            world.reader.close()

    def follow_officers(self, answers: OfficerAnswer) -> None:
        """Let waiting cars see the officer's answers (set once the lanes run)."""
        self._answers = answers

    def follow_drills(self, borrowed: Callable[[str, tuple[str, ...]], bool | None]) -> None:
        """Let training drills say whose passport a driver hands over (`borrowed(lane, mrz)`; None: the
        demo's own rule)."""
        self._borrowed = borrowed

    def replay_document(self, lane_id: str) -> None:
        """Present the lane's last document to its simulated reader again (the technician's reader
        test). Raises ActionRefused with the reason it cannot, as the service's device test expects."""
        world = next((w for w in self._worlds if w.lane_id == lane_id), None)
        if world is None:
            raise ActionRefused(f"lane {lane_id} has no simulated reader")
        with world.reader_lock:
            if world.last_document is None:
                raise ActionRefused("no document has been presented on this lane yet; wait for the first car")
            try:
                self._present(world, world.last_document)
            except SimError as exc:
                raise ActionRefused(str(exc)) from exc

    def _present(self, world: _LaneWorld, lines: tuple[str, ...]) -> None:
        """Hand a passport to the lane's reader, with its holder's photo or, if borrowed, another's.
        The caller holds the world's reader lock."""
        if self._own_portrait is not None:
            drilled = self._borrowed(world.lane_id, lines) if self._borrowed is not None else None
            borrowed = presents_borrowed_passport(lines) if drilled is None else drilled
            photo = BORROWED_PORTRAIT if borrowed else self._own_portrait
            world.reader.command(f"portrait file {photo}")
        world.reader.command("present " + " ".join(lines))
        world.last_document = lines

    def _stage(self, world: _LaneWorld) -> None:
        occupied: bool | None = None
        last = time.time()
        while not self._stop.wait(_STAGE_TICK_S):
            now = time.time()
            try:
                truth = world.scene.truth_at(now)
                if truth.loop_occupied != occupied:
                    occupied = truth.loop_occupied
                    world.barrier.command(f"loop {'on' if occupied else 'off'}")
                for _, lines in world.scene.document_presented(last, now):
                    with world.reader_lock:
                        self._present(world, tuple(lines))
                if world.waiting is not None and truth.phase == "stopped":
                    self._driver_follows(world, now)
            except SimError as exc:
                # A simulator that died (Ctrl-C reaches the whole process group) is the demo's
                # problem, not the lane's: the lane sees its device go offline.
                if not (world.barrier.alive() and world.reader.alive()):
                    log.warning("demo simulators of %s stopped: %s", world.lane_id, exc)
                    return
                log.warning("demo stage hand of %s: %s", world.lane_id, exc)
            last = now


    def _driver_follows(self, world: _LaneWorld, now: float) -> None:
        """A waiting car drives through once the barrier is up, and turns away once the officer has
        answered without opening it (a refer or a deny; a confirm of a referral)."""
        assert world.waiting is not None
        if world.barrier.command("stats")["arm"] != "down":
            world.waiting.release(now)
            return
        answer = self._answers(world.lane_id) if self._answers is not None else None
        if answer is None or answer[0] == world.sent_away:
            world.answered = None
            return
        if world.answered is None or world.answered[0] != answer[0]:
            world.answered = (answer[0], now)  # the barrier may still be about to open: give it time
        elif now - world.answered[1] >= _TURN_AWAY_AFTER_S and world.waiting.release(now):
            world.sent_away, world.answered = answer[0], None


def _publish_watchlist(config: EdgeConfig, folder: Path) -> WatchlistKey:
    """Sign and publish the demo lists; returns the key the crossing must trust."""
    key_file = folder / "authority.key"
    if key_file.exists():
        key = load_private_key(key_file)
    else:
        key = generate_private_key()
        folder.mkdir(parents=True, exist_ok=True)
        key_file.write_bytes(private_key_pem(key))
        key_file.chmod(0o600)
    vehicles, documents = [], []
    now = time.time()
    for lane in config.lanes:
        scene = scene_of(lane)
        if scene is None:
            continue
        first = slot_index(now - 600, lane.id)
        for slot in range(first, first + int(_WATCHLIST_HOURS * 3600 / 20)):
            visit = scene.visit(slot)
            if visit is None:
                continue
            # A few vehicles and passports are listed, so the demo shows each kind of outcome.
            if slot % 5 == 0:
                vehicles.append({"id": f"{lane.id}-{slot}", "plate": visit.plate.text, "action": "deny",
                                 "reason": "reported stolen", "source": "demo case"})
            elif slot % 7 == 0:
                vehicles.append({"id": f"{lane.id}-{slot}", "plate": visit.plate.text, "action": "refer",
                                 "reason": "insurance lapsed", "source": "demo case"})
            if slot % 6 == 0:
                doc = visit.traveller.document
                documents.append({"id": f"{lane.id}-{slot}", "number": doc.document_number,
                                  "issuer": doc.issuing_state, "action": "deny",
                                  "reason": "passport reported lost", "source": "demo case"})
    publisher = Publisher(folder / "published", folder / "authority", key, _KEY_ID, valid_for_s=7 * 86400)
    try:
        publisher.publish_full("demo-vehicles", folder / "vehicles", enumerate(vehicles, 1), kind="plate")
        publisher.publish_full("demo-documents", folder / "documents", enumerate(documents, 1), kind="document")
    finally:
        publisher.close()
    return WatchlistKey(id=_KEY_ID, public_key=public_key_text(key))


def start_demo(config: EdgeConfig) -> tuple[EdgeConfig, DemoWorld]:
    """The config with the simulated devices (and, for the demo checkpoint, the demo watchlist)
    filled in, and the running world."""
    folder = config.state_dir / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    watchlist = config.watchlist
    if config.demo.simulators:  # a training lane at a real checkpoint keeps the real watchlist
        key = _publish_watchlist(config, folder)
        watchlist = config.watchlist.model_copy(update={
            "sources": [str(folder / "published")], "trusted_keys": [key], "sync_interval_s": 60.0})
    portrait = folder / "portrait.jpg"
    portrait.write_bytes(_portrait_jpeg())
    worlds, lanes = [], []
    try:
        for lane in config.lanes:
            scene = scene_of(lane)
            # Every synthetic lane of the demo checkpoint, and a training lane anywhere (it names no real device).
            if scene is None or not (config.demo.simulators or lane.training):
                lanes.append(lane)
                continue
            barrier = SimProcess("barrier", "--tcp", "0")
            reader = SimProcess("reader", "--tcp", "0", "--framing", "stx")
            wait_s = config.demo.cars_wait_s or (TRAINING_CARS_WAIT_S if lane.training else 0.0)
            # A training lane's next car comes as soon as the last has gone: a drill is not a timetable.
            waiting = scene.wait_at_barrier(wait_s, time.time(), 0.0 if lane.training else SLOT_S) if wait_s else None
            worlds.append(_LaneWorld(lane.id, scene, barrier, reader, waiting=waiting))
            reader.command(f"portrait file {portrait}")
            lanes.append(lane.model_copy(update={
                "barrier": BarrierSettings(link=SerialLinkSettings(url=barrier.url)),
                "reader": ReaderSettings(link=SerialLinkSettings(url=reader.url), framing="stx"),
            }))
    except Exception:
        DemoWorld(worlds).stop()
        raise
    log.info("simulated barrier and reader for %d lane(s)%s", len(worlds),
             f"; demo watchlist signed by {_KEY_ID}" if config.demo.simulators else "")
    world = DemoWorld(worlds, portrait)
    world.start()
    return config.model_copy(update={"lanes": lanes, "watchlist": watchlist}), world
