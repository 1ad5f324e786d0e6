"""From an observation to the row(s) of a Q-table: how tabular agents see an observation space.

| observation space                               | state index                                      |
|-------------------------------------------------|--------------------------------------------------|
| `Discrete(n, start)`                            | `obs - start`                                    |
| `MultiDiscrete`, `MultiBinary`, `Tuple` of them | mixed-radix number of the entries (row-major)   |
| any of those with more than `DENSE_LIMIT` states | rows handed out in order of first visit          |
| `ActiveTiles` (from `TileCoding`)               | one row per tiling, values summed               |
| `Box`                                           | refused: wrap the env (see `BOX_HELP`)           |

A *dense* index addresses a table allocated up front with one row per possible state. A *sparse*
index is for spaces too large for that (a 10x10 grid of cell codes has astronomically many
combinations but few reachable ones): the first distinct observation gets row 0, the next row 1, and
so on, up to `max_states`; the observations seen are kept (as small integer arrays) and saved with
the agent, so a loaded agent maps observations to the same rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from gymnasium import spaces

from agents.common.spaces import space_from_dict, space_to_dict
from agents.tabular.tiles import ActiveTiles

DENSE_LIMIT = 1 << 16
"""Spaces with at most this many states get a table allocated up front; larger ones a sparse index."""

BOX_HELP = (
    "tabular agents need a finite, discrete observation; wrap the env first: "
    "agents.tabular.Discretize(env, bins=...) for continuous values (e.g. CartPole), "
    "agents.tabular.TileCoding(env) for overlapping tilings (e.g. MountainCar), or "
    "agents.tabular.AsMultiDiscrete(env) for a Box whose entries are whole numbers "
    "(flags, direction codes, grid cell codes); on the command line: --wrap discretize, --wrap tile-coding "
    "or --wrap as-multi-discrete"
)


# ----------------------------------------------------------------------------- spaces <-> JSON
def space_to_json(space: spaces.Space) -> dict[str, Any]:
    """A JSON-able description of a tabular agent's space (`agents.common.spaces` plus `ActiveTiles`)."""
    if isinstance(space, ActiveTiles):
        return {"type": "ActiveTiles", "n_tilings": space.n_tilings, "tiles_per_tiling": space.tiles_per_tiling}
    return space_to_dict(space)


def space_from_json(data: dict[str, Any]) -> spaces.Space:
    if data["type"] == "ActiveTiles":
        return ActiveTiles(int(data["n_tilings"]), int(data["tiles_per_tiling"]))
    return space_from_dict(data)


# ----------------------------------------------------------------------------- flattening
def _radices(space: spaces.Space) -> tuple[np.ndarray, np.ndarray] | None:
    """(number of values, smallest value) of every entry of a discrete space, flattened; None if the
    space is not a product of finite discrete entries."""
    if isinstance(space, spaces.Discrete):
        return np.array([space.n], dtype=np.int64), np.array([space.start], dtype=np.int64)
    if isinstance(space, spaces.MultiDiscrete):
        return space.nvec.ravel().astype(np.int64), space.start.ravel().astype(np.int64)
    if isinstance(space, spaces.MultiBinary):
        size = int(np.prod(space.n))
        return np.full(size, 2, dtype=np.int64), np.zeros(size, dtype=np.int64)
    if isinstance(space, spaces.Tuple) and space.spaces:
        parts = [_radices(s) for s in space.spaces]
        found = [p for p in parts if p is not None]
        if len(found) < len(parts):
            return None
        return np.concatenate([p[0] for p in found]), np.concatenate([p[1] for p in found])
    return None


def _flattener(space: spaces.Space) -> Callable[[Any], np.ndarray]:
    """A function from one observation of `space` to its entries as a flat int64 array."""
    if isinstance(space, spaces.Tuple):
        children = [_flattener(s) for s in space.spaces]
        return lambda obs: np.concatenate([flatten(part) for flatten, part in zip(children, obs)])
    return lambda obs: np.asarray(obs, dtype=np.int64).ravel()


# ----------------------------------------------------------------------------- indexes
class DenseIndex:
    """Every possible state has a row: the mixed-radix number of the entries (the last entry varies
    fastest, like `np.ravel_multi_index`)."""

    mode = "dense"

    def __init__(self, space: spaces.Space, radices: np.ndarray, starts: np.ndarray) -> None:
        self.n_rows = int(np.prod(radices))
        self._flatten = _flattener(space)
        self._strides = np.concatenate([np.cumprod(radices[::-1])[::-1][1:], [1]]).astype(np.int64)
        self._offset = int(starts @ self._strides)

    def __call__(self, obs: Any, add: bool = True) -> int:
        return int(self._flatten(obs) @ self._strides) - self._offset

    def arrays(self) -> dict[str, np.ndarray]:
        return {}


class DiscreteIndex(DenseIndex):
    """`Discrete(n, start)`: the row is `obs - start`."""

    def __init__(self, space: spaces.Discrete) -> None:
        self.n_rows = int(space.n)
        self._start = int(space.start)

    def __call__(self, obs: Any, add: bool = True) -> int:
        return int(obs) - self._start


class SparseIndex:
    """Rows handed out to observations in order of first visit, up to `max_states` of them."""

    mode = "sparse"

    def __init__(self, space: spaces.Space, radices: np.ndarray, starts: np.ndarray, max_states: int) -> None:
        self.max_states = max_states
        self._flatten = _flattener(space)
        self._starts = starts
        self._key_dtype = np.min_scalar_type(int(radices.max()) - 1)
        self._rows: dict[bytes, int] = {}
        self.on_new_row: Callable[[int], None] = lambda n_rows: None  # set by the agent to grow its tables

    @property
    def n_rows(self) -> int:
        return len(self._rows)

    def __call__(self, obs: Any, add: bool = True) -> int | None:
        key = (self._flatten(obs) - self._starts).astype(self._key_dtype).tobytes()
        row = self._rows.get(key)
        if row is None and add:
            row = len(self._rows)
            if row >= self.max_states:
                raise ValueError(
                    f"more than max_states={self.max_states} distinct observations seen; raise max_states "
                    "or make the observation coarser (fewer Discretize bins, a smaller view)"
                )
            self._rows[key] = row
            self.on_new_row(row + 1)
        return row

    def arrays(self) -> dict[str, np.ndarray]:
        """The observations seen, row by row (entries minus their smallest value), for saving."""
        keys = np.frombuffer(b"".join(self._rows), dtype=self._key_dtype)
        return {"observations": keys.reshape(len(self._rows), len(self._starts))}

    def restore(self, observations: np.ndarray) -> None:
        if observations.ndim != 2 or observations.shape[1] != len(self._starts):
            raise ValueError(f"saved observations have shape {observations.shape}, expected (n, {len(self._starts)})")
        rows = observations.astype(self._key_dtype)
        self._rows = {rows[i].tobytes(): i for i in range(rows.shape[0])}


class TileIndex:
    """The rows of the active tiles, one per tiling (tiling `k` owns rows `k * tiles_per_tiling` on)."""

    mode = "tiles"

    def __init__(self, space: ActiveTiles) -> None:
        self.n_tilings = space.n_tilings
        self.n_rows = space.n_tilings * space.tiles_per_tiling
        self._offsets = np.arange(space.n_tilings, dtype=np.int64) * space.tiles_per_tiling

    def __call__(self, obs: Any, add: bool = True) -> np.ndarray:
        return self._offsets + np.asarray(obs, dtype=np.int64)

    def arrays(self) -> dict[str, np.ndarray]:
        return {}


StateIndex = DenseIndex | SparseIndex | TileIndex


def make_state_index(space: spaces.Space, max_states: int) -> StateIndex:
    """The index for `space`; a `ValueError` that says which wrapper to use for a `Box`."""
    if isinstance(space, ActiveTiles):
        return TileIndex(space)
    if isinstance(space, spaces.Box):
        raise ValueError(f"observation space {space}: {BOX_HELP}")
    radices = _radices(space)
    if radices is None:
        raise ValueError(
            f"observation space {space} is not supported by tabular agents: they need Discrete, MultiDiscrete, "
            f"MultiBinary or a Tuple of those; {BOX_HELP}"
        )
    n_states = math.prod(int(n) for n in radices[0])
    if n_states <= DENSE_LIMIT:
        return DiscreteIndex(space) if isinstance(space, spaces.Discrete) else DenseIndex(space, *radices)
    return SparseIndex(space, *radices, max_states=max_states)
