"""Tile coding: several offset grids over a continuous observation, for tabular-style learning with
generalisation between nearby states (Sutton & Barto, section 9.5.4).

    env = TileCoding(gym.make("MountainCar-v0"), n_tilings=8, tiles_per_dim=8)
    obs, _ = env.reset(seed=0)        # array of 8 tile indices, one per tiling
    agent = make_agent("sarsa", env, {"learning_rate": "0.1", "epsilon": "0.0"})

A tabular agent given an `ActiveTiles` observation keeps one weight per (tile, action) and values an
action by summing the weights of the active tiles, one per tiling (a linear function of binary
features); each update moves every active tile by `learning_rate / n_tilings` of the TD error, so
`learning_rate` keeps its tabular meaning. With `n_tilings=1` this is exactly a `Discretize` table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from agents.tabular.discretize import box_bounds

MAX_TILINGS = 1024  # tilings of one TileCoding (each observation becomes this many active tiles)
MAX_TILES_PER_TILING = 2**62  # (tiles_per_dim + 1) ** dimensions: tile indices are int64


class ActiveTiles(spaces.MultiDiscrete):
    """`MultiDiscrete([tiles_per_tiling] * n_tilings)`: entry `i` is the active tile of tiling `i`.

    A distinct type so that tabular agents sum over the tilings instead of treating every
    combination of tiles as a state of its own; any other agent sees a plain `MultiDiscrete` (SB3
    one-hot encodes it, which is exactly the tile-coded binary feature vector).
    """

    def __init__(self, n_tilings: int, tiles_per_tiling: int, seed: Any = None) -> None:
        super().__init__(np.full(n_tilings, tiles_per_tiling, dtype=np.int64), seed=seed)

    @property
    def n_tilings(self) -> int:
        return int(self.nvec.shape[0])

    @property
    def tiles_per_tiling(self) -> int:
        return int(self.nvec[0])

    def __repr__(self) -> str:
        return f"ActiveTiles(n_tilings={self.n_tilings}, tiles_per_tiling={self.tiles_per_tiling})"


class TileCoding(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """Encode a `Box` observation as the active tile of each of `n_tilings` offset grids.

    ## Tilings
    Each dimension's range `[low, high]` is cut into `tiles_per_dim` tiles of equal width; tiling `k`
    is that grid shifted by `k / n_tilings` of a tile width times the displacement vector
    `(1, 3, 5, ...)` (odd numbers, Sutton & Barto's recommendation, so that tilings are not all shifted
    along the diagonal), and wrapped within one tile. A shifted grid needs one extra tile per
    dimension, so a tiling has `(tiles_per_dim + 1) ** n_dims` tiles. Values outside `[low, high]`
    are clipped to the edge.

    ## Observation Space
    `ActiveTiles(n_tilings, (tiles_per_dim + 1) ** n_dims)`: an int64 array, one tile index per tiling.

    ## Bounds
    As for `Discretize`: given `low`/`high`, else `KNOWN_BOUNDS` for the env id, else the space's own
    (finite) bounds; MountainCar's space bounds (position -1.2..0.6, velocity -0.07..0.07) work as they are.

    ## Arguments
    - `env`: an env with a flat `Box` observation space.
    - `n_tilings`: number of offset tilings (default 8, at most `MAX_TILINGS` = 1024).
    - `tiles_per_dim`: tiles per dimension in each tiling (default 8), with (tiles_per_dim + 1) ** dimensions at
      most `MAX_TILES_PER_TILING` (2**62).
    - `low`, `high`: bounds (a number or one per dimension).

    ## Version History
    - v0: initial version.
    """

    def __init__(
        self,
        env: gym.Env,
        n_tilings: int = 8,
        tiles_per_dim: int = 8,
        low: float | Sequence[float] | None = None,
        high: float | Sequence[float] | None = None,
    ) -> None:
        gym.utils.RecordConstructorArgs.__init__(
            self, n_tilings=n_tilings, tiles_per_dim=tiles_per_dim, low=low, high=high
        )
        gym.ObservationWrapper.__init__(self, env)
        for name, value in (("n_tilings", n_tilings), ("tiles_per_dim", tiles_per_dim)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"TileCoding: {name} must be a positive integer, got {value!r}")
        self.low, self.high = box_bounds(env, low, high, "TileCoding")
        if self.low.ndim != 1:
            raise ValueError(f"TileCoding needs a flat (1-D) Box observation, got shape {self.low.shape}")
        n_dims = self.low.shape[0]
        if n_tilings > MAX_TILINGS:
            raise ValueError(f"TileCoding: n_tilings must be at most {MAX_TILINGS}, got {n_tilings}")
        if (int(tiles_per_dim) + 1) ** n_dims > MAX_TILES_PER_TILING:  # the tile index must fit in an int64
            raise ValueError(
                f"TileCoding: {n_dims} dimensions of {tiles_per_dim} tiles (+1 for the offsets) make more than "
                f"{MAX_TILES_PER_TILING:,} tiles per tiling; lower tiles_per_dim"
            )
        self.n_tilings, self.tiles_per_dim = int(n_tilings), int(tiles_per_dim)
        self._scale = self.tiles_per_dim / (self.high - self.low)  # observation units -> tile widths
        displacement = 2 * np.arange(n_dims) + 1
        # offset of tiling k in dimension d, in tile widths, in [0, 1)
        self._offsets = (np.arange(self.n_tilings)[:, None] * displacement[None, :] / self.n_tilings) % 1.0
        side = self.tiles_per_dim + 1
        self._strides = side ** np.arange(n_dims - 1, -1, -1, dtype=np.int64)
        self.observation_space = ActiveTiles(self.n_tilings, side**n_dims)

    def observation(self, observation: Any) -> np.ndarray:
        values = np.asarray(observation, dtype=np.float64)
        if np.isnan(values).any():
            raise ValueError(f"TileCoding: observation contains NaN: {observation!r}")
        position = (np.clip(values, self.low, self.high) - self.low) * self._scale  # in [0, tiles_per_dim]
        coordinates = np.floor(position + self._offsets).astype(np.int64)  # (n_tilings, n_dims)
        return coordinates @ self._strides
