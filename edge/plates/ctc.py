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
FLOOR = 1e-9
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
    probability of no character at each step. `patterns` are strings of kind indices (one digit per
    position). Patterns share their common prefixes (a trie), and every prefix of a pattern can be
    read too: `score(p, length)`. Characters of one family (`families`: an id per character, by
    default each its own) never follow each other without a blank: with look-alikes folded, `1`
    and `I` are one glyph, which must not read as two characters.
    """

    def __init__(self, emissions: np.ndarray, blank: np.ndarray, patterns: list[str],
                 families: np.ndarray | None = None) -> None:
        # The trie: node 0 is the root (nothing read yet); each other node is one more position.
        parents, kinds = [0], [0]
        children: dict[tuple[int, str], int] = {}
        self._nodes: list[list[int]] = []
        for pattern in patterns:
            node, path = 0, list[int]()
            for kind in pattern:
                node = children.setdefault((node, kind), len(parents))
                if node == len(parents):
                    parents.append(path[-1] if path else 0)
                    kinds.append(int(kind))
                path.append(node)
            self._nodes.append(path)
        self._parents = np.array(parents)
        self._families = np.arange(emissions.shape[2]) if families is None else families
        # The blank also absorbs stray ink, at its price.
        stray = STRAY * emissions.max(axis=(0, 2))
        log_b, log_e = _compress(np.log(np.maximum(np.maximum(blank, stray), FLOOR)),
                                 np.log(np.maximum(emissions, FLOOR)))
        allowed = emissions.max(axis=1) > 0  # kinds x C
        log_e = np.where(allowed[:, None, :], log_e, IMPOSSIBLE)
        # T x N x C: each node's emission, from its kind; the root emits no character.
        self.log_e = np.moveaxis(log_e[np.array(kinds)], 1, 0)
        self.log_e[:, 0, :] = IMPOSSIBLE
        steps, nodes, chars = self.log_e.shape
        self.c_history = np.empty((steps, nodes, chars))
        self.b_history = np.empty((steps, nodes))
        c_state = np.where((self._parents == 0)[:, None], self.log_e[0], IMPOSSIBLE)
        c_state[0] = IMPOSSIBLE
        b_state = np.full(nodes, IMPOSSIBLE)
        b_state[0] = log_b[0]
        self.c_history[0], self.b_history[0] = c_state, b_state
        parent = self._parents
        for t in range(1, steps):
            best = c_state.max(axis=1)
            # Entering a node from its parent's character: any character but this one (a
            # repeated character needs a blank between, as CTC spells it).
            entering = _best_other(c_state, self._families)[parent]
            entering[0] = IMPOSSIBLE
            c_state = np.maximum(np.maximum(c_state, b_state[parent][:, None]), entering) + self.log_e[t]
            b_state = np.maximum(b_state, best) + log_b[t]
            self.c_history[t], self.b_history[t] = c_state, b_state

    def score(self, pattern: int, length: int) -> float:
        """Log-probability of the best reading of the pattern's first `length` positions (to the end)."""
        node = self._nodes[pattern][length - 1]
        return float(max(self.b_history[-1, node], self.c_history[-1, node].max()))

    def path(self, pattern: int, length: int) -> Path:
        """The characters behind `score(pattern, length)`; a confidence is the character's best step."""
        c_hist, b_hist = self.c_history, self.b_history
        node = self._nodes[pattern][length - 1]
        last = len(c_hist) - 1
        in_char = c_hist[last, node].max() >= b_hist[last, node]
        c = int(c_hist[last, node].argmax())
        k = length - 1
        chars = [-1] * length
        peaks = [IMPOSSIBLE] * length
        for t in range(last, -1, -1):
            parent = int(self._parents[node])
            if in_char:
                chars[k] = c
                peaks[k] = max(peaks[k], float(self.log_e[t, node, c]))
                if t == 0:
                    break
                # Where the step into (node, c) at t came from: the same state, the blank
                # before this position, or another character at the position before.
                stay, from_blank = c_hist[t - 1, node, c], b_hist[t - 1, parent]
                previous = np.where(self._families == self._families[c], IMPOSSIBLE, c_hist[t - 1, parent])
                other = float(previous.max()) if parent else IMPOSSIBLE
                if other > max(stay, from_blank):
                    node, k, c = parent, k - 1, int(previous.argmax())
                elif from_blank > stay:
                    node, k, in_char = parent, k - 1, False
            elif t > 0 and node and c_hist[t - 1, node].max() > b_hist[t - 1, node]:
                c = int(c_hist[t - 1, node].argmax())
                in_char = True
        confidences = tuple(float(min(1.0, np.exp(p))) if p > IMPOSSIBLE / 2 else 0.0 for p in peaks)
        return Path(tuple(chars), confidences, self.score(pattern, length))


def _best_other(states: np.ndarray, families: np.ndarray) -> np.ndarray:
    """For each node and character c, the node's best state among characters of other families (N x C)."""
    # The best few characters of each node, best first: one of them lies outside c's family.
    depth = min(states.shape[1], 4)
    top = np.argsort(-states, axis=1)[:, :depth]  # N x depth
    top_values = np.take_along_axis(states, top, axis=1)
    outside = families[top][:, None, :] != families[None, :, None]  # N x C x depth
    first = outside.argmax(axis=2)
    values = top_values[np.arange(len(states))[:, None], first]
    return np.where(outside.any(axis=2), values, IMPOSSIBLE)


# Steps the recogniser gives to "no character" this surely carry no character worth a path; a run of
# them is collapsed into one step (emissions multiplied), which shortens the pass several times.
_SURE_BLANK = 0.995


def _compress(log_b: np.ndarray, log_e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Runs of sure-blank steps collapsed into one step each (T' x ..., emissions summed in log space)."""
    sure = log_b >= np.log(_SURE_BLANK)
    if not sure.any():
        return log_b, log_e
    # Each step joins the group of the previous step when both are sure blanks.
    starts = ~(sure & np.concatenate([[False], sure[:-1]]))
    group = np.cumsum(starts) - 1
    count = int(group[-1]) + 1
    grouped_b = np.zeros(count)
    np.add.at(grouped_b, group, log_b)
    grouped_e = np.zeros((log_e.shape[0], count, log_e.shape[2]))
    np.add.at(grouped_e, (slice(None), group), log_e)  # type: ignore[arg-type]  # numpy's stubs: no tuple index
    return grouped_b, grouped_e
