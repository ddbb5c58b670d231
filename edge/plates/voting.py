"""One read per vehicle: group similar frame reads into tracks and vote, weighted by confidence.

A stopped vehicle is read in dozens of frames, not always the same way (a `B` seen as `8` in one
frame, a character lost to glare in another). Reads of one vehicle are similar texts seen close
together in time; a track collects them, and the vote picks the text with the most confidence
behind it, character by character among reads of the winning length. A track is announced once,
when enough frames agree; the plate then stays quiet while the vehicle remains, and for a hold
time after it leaves, so a parked or re-appearing plate is not announced twice.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from edge.plates.reads import FrameRead, PlateRead, RunnerUp


@dataclass(frozen=True)
class VotingPolicy:
    # Frames that must agree (by weight) before a vehicle's plate is announced.
    min_frames: int = 3
    # A vote's winner must carry at least this share of the track's total weight.
    min_share: float = 0.4
    # Reads further apart than this (edit distance) belong to different plates.
    max_distance: int = 2
    # A track with no read for this long is over (the vehicle left).
    track_timeout_s: float = 2.0
    # The same plate text is not announced again within this time after its track ended.
    repeat_hold_s: float = 60.0


def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


@dataclass
class _Track:
    reads: list[FrameRead] = field(default_factory=list)
    announced: bool = False

    @property
    def last_seen(self) -> float:
        return self.reads[-1].timestamp

    def leader(self) -> str:
        weights: dict[str, float] = defaultdict(float)
        for read in self.reads:
            weights[read.text] += read.confidence
        return max(weights, key=weights.__getitem__)


def vote(reads: list[FrameRead]) -> PlateRead:
    """The consensus of one vehicle's reads."""
    weights: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for read in reads:
        weights[read.text] += max(read.confidence, 1e-3)
        counts[read.text] += 1
    total = sum(weights.values())
    # Length first (the most supported length), then character by character within it.
    by_length: dict[int, float] = defaultdict(float)
    for text, weight in weights.items():
        by_length[len(text)] += weight
    length = max(by_length, key=by_length.__getitem__)
    same_length = [r for r in reads if len(r.text) == length]
    chars = []
    char_confidences = []
    for position in range(length):
        votes: dict[str, float] = defaultdict(float)
        for read in same_length:
            votes[read.text[position]] += read.char_confidences[position]
        winner = max(votes, key=votes.__getitem__)
        chars.append(winner)
        char_confidences.append(votes[winner] / sum(votes.values()) * max(
            r.char_confidences[position] for r in same_length if r.text[position] == winner))
    text = "".join(chars)
    best = max((r for r in reads if r.text == text), key=lambda r: r.confidence, default=None)
    if best is None:
        best = max(same_length, key=lambda r: r.confidence)
    runner_ups = tuple(
        RunnerUp(t, weights[t] / total, counts[t])
        for t in sorted(weights, key=weights.__getitem__, reverse=True) if t != text
    )
    return PlateRead(
        text=text,
        region=best.region,
        confidence=float(min(char_confidences)) * weights.get(text, 0.0) / total if char_confidences else 0.0,
        char_confidences=tuple(float(c) for c in char_confidences),
        quad=best.quad,
        best_crop=best.crop,
        runner_ups=runner_ups,
        first_seen=reads[0].timestamp,
        last_seen=reads[-1].timestamp,
        frames=len(reads),
    )


class PlateVoter:
    """Feeds on each frame's reads; returns the vehicles' plates as they become certain."""

    def __init__(self, policy: VotingPolicy | None = None) -> None:
        self.policy = policy or VotingPolicy()
        self._tracks: list[_Track] = []
        self._recent: dict[str, float] = {}  # announced text -> when its track ended

    def add(self, reads: list[FrameRead], now: float) -> list[PlateRead]:
        self._expire(now)
        for read in reads:
            self._track_for(read).reads.append(read)
        announced = []
        for track in self._tracks:
            if not track.announced and len(track.reads) >= self.policy.min_frames:
                plate = vote(track.reads)
                share = 1.0 - sum(r.share for r in plate.runner_ups)
                if share >= self.policy.min_share or len(track.reads) >= 3 * self.policy.min_frames:
                    track.announced = True
                    if not self._held(plate.text, now):
                        announced.append(plate)
                        self._recent[plate.text] = now
        return announced

    def _track_for(self, read: FrameRead) -> _Track:
        best: _Track | None = None
        best_distance = self.policy.max_distance + 1
        for track in self._tracks:
            distance = edit_distance(read.text, track.leader())
            if distance < best_distance:
                best, best_distance = track, distance
        if best is None:
            best = _Track()
            self._tracks.append(best)
        return best

    def _expire(self, now: float) -> None:
        alive = []
        for track in self._tracks:
            if now - track.last_seen > self.policy.track_timeout_s:
                if track.announced:
                    self._recent[vote(track.reads).text] = track.last_seen
            else:
                alive.append(track)
        self._tracks = alive
        hold = self.policy.repeat_hold_s
        self._recent = {text: t for text, t in self._recent.items() if now - t <= hold}

    def _held(self, text: str, now: float) -> bool:
        return any(edit_distance(text, held) <= 1 for held in self._recent)

