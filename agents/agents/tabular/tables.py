"""Action-value tables: `Q[s, a]` in numpy, with visit counts and the TD update they share.

`QTable` holds one row per state index; `TileTable` one row per tile, and values a state by summing
the rows of its active tiles (see `agents.tabular.tiles`). Both take the same calls, so a learner's
update rule is written once:

    values = table.values(state)                # Q(s, .) as a float64 array of n_actions
    table.update(state, action, target, rate, step)   # Q(s, a) += alpha * (target - Q(s, a))

Actions the env disallows in a state (`info["action_mask"]`) hold `-inf`, like the planners' Q*: the
greedy action and `max` then never pick them, with no masking work per step.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

State = int | np.ndarray
"""A row index (one state of a table) or an array of row indexes (the active tiles of a tile-coded state)."""

LearningRate = Callable[[int, "int | np.ndarray"], "float | np.ndarray"]
"""`rate(step, visits)`: the step size for an update at global step `step` of a pair visited `visits`
times (this update included)."""


class QTable:
    """`q[s, a]`: the action values of state index `s`; `visits[s, a]`: how often `(s, a)` was updated."""

    share = 1.0  # the fraction of the step size that each updated row takes

    def __init__(self, n_rows: int, n_actions: int, initial_value: float = 0.0) -> None:
        self.initial_value = float(initial_value) * self.share
        self.q = np.full((n_rows, n_actions), self.initial_value, dtype=np.float64)
        self.visits = np.zeros((n_rows, n_actions), dtype=np.int64)

    def values(self, state: State) -> np.ndarray:
        """Q(s, .) (a view: do not modify)."""
        return self.q[state]

    def value(self, state: State, action: int) -> float:
        return self.q[state, action]

    def best_value(self, state: State) -> float:
        """max_a Q(s, a) (indexing at argmax: twice as fast as `.max()` on a short row)."""
        values = self.values(state)
        return values[values.argmax()]

    def update(self, state: State, action: int, target: float, rate: LearningRate, step: int) -> None:
        """Move Q(s, a) towards `target` by the step size `rate(step, visits)`."""
        self.visits[state, action] += 1
        alpha = rate(step, self.visits[state, action]) * self.share
        self.q[state, action] += alpha * (target - self.value(state, action))

    def restrict(self, state: State, allowed: np.ndarray) -> None:
        """Disallowed actions get -inf; actions allowed again get the initial value back."""
        row = self.q[state]
        row[~allowed] = -np.inf
        row[allowed & np.isneginf(row)] = self.initial_value

    def resize(self, n_rows: int) -> None:
        """Keep the first `n_rows` rows, adding fresh ones as needed (for sparse state indexes)."""
        old = self.q.shape[0]
        if n_rows <= old:
            self.q, self.visits = self.q[:n_rows].copy(), self.visits[:n_rows].copy()
            return
        self.q = np.concatenate([self.q, np.full((n_rows - old, self.q.shape[1]), self.initial_value)])
        self.visits = np.concatenate([self.visits, np.zeros((n_rows - old, self.q.shape[1]), dtype=np.int64)])


class TileTable(QTable):
    """One row per tile; the state is the array of active rows (one per tiling) and its values are
    their sum. Each update moves every active row by `1 / n_tilings` of the step, so the step size
    keeps its tabular meaning. The initial value is spread over the tilings likewise."""

    def __init__(self, n_rows: int, n_actions: int, initial_value: float, n_tilings: int) -> None:
        self.share = 1.0 / n_tilings
        super().__init__(n_rows, n_actions, initial_value)

    def values(self, state: State) -> np.ndarray:
        return self.q[state].sum(axis=0)

    def value(self, state: State, action: int) -> float:
        return self.q[state, action].sum()

    def restrict(self, state: State, allowed: np.ndarray) -> None:
        raise ValueError(
            "the env masks actions (info['action_mask']) but the observation is tile-coded: a mask belongs "
            "to a state, not to a tile; use Discretize instead of TileCoding for this env"
        )
