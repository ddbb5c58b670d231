"""Decode the recogniser's CTC output against patterns of per-position character classes.

Greedy decoding (best class per step, then merge) commits to what each step looked like most,
and a character the network saw only weakly, or a sticker it saw strongly, then spoils the read.
Here every pattern a region allows is a path through the CTC trellis, and a Viterbi pass finds,
for all of them at once, the most likely alignment *and* character per position, with the
characters a position allows (look-alikes folded into them, see `formats`).

The blank of the trellis may also absorb a "stray" character (a sticker, a bolt, an emblem
between groups) at a price of `STRAY` times its probability per step, so a plate with a mark
beside it still reads as the pattern rather than being forced to read the mark.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# What a step of stray ink costs relative to seeing it as a character: low enough that a real,
# clearly seen character is never explained away, high enough to drop a mark the pattern has no room for.
STRAY = 0.05
_FLOOR = 1e-9
IMPOSSIBLE = -1e9


@dataclass(frozen=True)
class Path:
    """The best reading of one pattern: characters (indices into the output columns) and score."""

    chars: tuple[int, ...]
    confidences: tuple[float, ...]
    log_prob: float


class Viterbi:
    """Best alignments of several patterns against one line's CTC output, found in one pass.

    `emissions[k]` is T x C: the probability of output character c at each step for a position of
    kind k (look-alikes already folded in; 0 where the kind forbids c). `blank` (T) is the
    probability of no character at each step. `kinds` is P x K: the kind of each pattern position,
    -1 past a pattern's end. Patterns sharing a prefix may share a row: `score(p, length)` reads
    any prefix of a row.
    """

    def __init__(self, emissions: np.ndarray, blank: np.ndarray, kinds: np.ndarray) -> None:
        steps = blank.shape[0]
        patterns, positions = kinds.shape
        chars = emissions.shape[2]
        log_e = np.log(np.maximum(emissions, _FLOOR))
        log_e[emissions <= 0] = IMPOSSIBLE
        # T x P x K x C: each pattern position's emission, from its kind.
        self.log_e = np.where((kinds >= 0)[None, :, :, None],
                              np.moveaxis(log_e[np.maximum(kinds, 0)], 2, 0), IMPOSSIBLE)
        # The blank also absorbs stray ink, at its price.
        stray = STRAY * emissions.max(axis=(0, 2))
        log_b = np.log(np.maximum(np.maximum(blank, stray), _FLOOR))
        self.choice = np.zeros((steps, patterns, positions, chars), np.int8)
        self.first = np.zeros((steps, patterns, positions), np.int16)
        self.second = np.zeros((steps, patterns, positions), np.int16)
        self.closed = np.zeros((steps, patterns, positions), bool)
        c_state = np.full((patterns, positions, chars), IMPOSSIBLE)
        c_state[:, 0, :] = self.log_e[0, :, 0, :]
        b_state = np.full((patterns, positions + 1), IMPOSSIBLE)
        b_state[:, 0] = log_b[0]
        char_index = np.arange(chars)
        for t in range(1, steps):
            first = c_state.argmax(axis=2)
            best = np.take_along_axis(c_state, first[..., None], axis=2)[..., 0]
            masked = c_state.copy()
            np.put_along_axis(masked, first[..., None], IMPOSSIBLE, axis=2)
            second = masked.argmax(axis=2)
            runner = np.take_along_axis(masked, second[..., None], axis=2)[..., 0]
            # Entering position k from the previous position's character: any character but
            # this one (a repeat needs a blank between, as CTC spells it).
            entering = np.full_like(c_state, IMPOSSIBLE)
            same = first[:, :-1, None] == char_index
            entering[:, 1:, :] = np.where(same, runner[:, :-1, None], best[:, :-1, None])
            options = np.stack([c_state, np.broadcast_to(b_state[:, :-1, None], c_state.shape), entering])
            self.choice[t] = options.argmax(axis=0)
            c_state = options.max(axis=0) + self.log_e[t]
            self.first[t], self.second[t] = first, second
            closing = best > b_state[:, 1:]
            self.closed[t] = closing
            b_state = np.concatenate([b_state[:, :1], np.maximum(b_state[:, 1:], best)], axis=1) + log_b[t]
        self.c_final, self.b_final = c_state, b_state

    def score(self, pattern: int, length: int) -> float:
        """Log-probability of the best reading of the pattern's first `length` positions (to the end)."""
        return float(max(self.b_final[pattern, length], self.c_final[pattern, length - 1].max()))

    def path(self, pattern: int, length: int) -> Path:
        """The characters behind `score(pattern, length)`; a confidence is the character's best step."""
        in_char = self.c_final[pattern, length - 1].max() >= self.b_final[pattern, length]
        k = length - 1 if in_char else length
        c = int(self.c_final[pattern, length - 1].argmax()) if in_char else -1
        chars = [-1] * length
        peaks = [IMPOSSIBLE] * length
        for t in range(len(self.choice) - 1, -1, -1):
            if in_char:
                chars[k] = c
                peaks[k] = max(peaks[k], float(self.log_e[t, pattern, k, c]))
                if t == 0:
                    break
                step = self.choice[t, pattern, k, c]
                if step == 1:
                    in_char = False
                elif step == 2:
                    first = int(self.first[t, pattern, k - 1])
                    c = first if first != c else int(self.second[t, pattern, k - 1])
                    k -= 1
            elif t > 0 and k > 0 and self.closed[t, pattern, k - 1]:
                k -= 1
                c = int(self.first[t, pattern, k])
                in_char = True
        confidences = tuple(float(min(1.0, np.exp(p))) if p > IMPOSSIBLE / 2 else 0.0 for p in peaks)
        return Path(tuple(chars), confidences, self.score(pattern, length))
