"""Observation wrappers that turn a `Box` observation into a `MultiDiscrete` one a table can index.

- `Discretize`: continuous values (CartPole, MountainCar) into equal-width bins per dimension.
- `AsMultiDiscrete`: a `Box` whose entries are already small integers (0/1 flags, direction codes,
  grid cell codes, stored as float32 or uint8) viewed as the `MultiDiscrete` it really is.

Both are plain `gymnasium.ObservationWrapper`s: stateless, deterministic, picklable, and usable with
any agent (SB3's agents one-hot encode `MultiDiscrete` observations).

    env = Discretize(gym.make("CartPole-v1"))     # the course notes' bins: 10 per dimension
    env.observation_space                         # MultiDiscrete([10 10 10 10])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

# Bounds for Box dimensions that are infinite (or needlessly wide) in the env's own space, by env id.
# CartPole: the course notes' bins: cart position +-2.4, cart velocity +-5, pole angle +-0.209 rad
# (12 degrees, where the episode ends), pole angular velocity +-5.
KNOWN_BOUNDS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "CartPole-v0": ((-2.4, -5.0, -0.209, -5.0), (2.4, 5.0, 0.209, 5.0)),
    "CartPole-v1": ((-2.4, -5.0, -0.209, -5.0), (2.4, 5.0, 0.209, 5.0)),
}


def box_bounds(
    env: gym.Env, low: float | Sequence[float] | None, high: float | Sequence[float] | None, wrapper: str
) -> tuple[np.ndarray, np.ndarray]:
    """The per-dimension bounds a wrapper bins `env`'s Box observation between.

    Given `low`/`high` (a number or one per dimension) win; otherwise the env id's entry in
    `KNOWN_BOUNDS`; otherwise the observation space's own bounds, which must then be finite.
    """
    space = env.observation_space
    if not isinstance(space, spaces.Box):
        raise ValueError(f"{wrapper} needs a Box observation space, got {space}")
    env_id = env.spec.id if env.spec is not None else None
    known = KNOWN_BOUNDS.get(env_id) if env_id is not None else None
    default_low, default_high = known if known is not None else (space.low, space.high)
    bounds = []
    for name, given, default in (("low", low, default_low), ("high", high, default_high)):
        value = np.asarray(default if given is None else given, dtype=np.float64)
        try:
            bounds.append(np.broadcast_to(value, space.shape).astype(np.float64))
        except ValueError:
            raise ValueError(
                f"{wrapper}: {name} has shape {value.shape}; give one number or one per dimension {space.shape}"
            ) from None
    low_arr, high_arr = bounds
    infinite = np.flatnonzero(~(np.isfinite(low_arr) & np.isfinite(high_arr)))
    if infinite.size:
        raise ValueError(
            f"{wrapper}: the observation space {space} is unbounded in dimension(s) {infinite.tolist()}; "
            "pass finite low= and high= (a number or one per dimension)"
        )
    if np.any(high_arr <= low_arr):
        raise ValueError(f"{wrapper}: high must exceed low in every dimension, got low={low_arr}, high={high_arr}")
    return low_arr, high_arr


class Discretize(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """Bin each dimension of a `Box` observation into equal-width bins.

    ## Observation Space
    `MultiDiscrete(bins)` with the Box's shape: entry `i` is the bin of dimension `i`, from 0 (lowest)
    to `bins[i] - 1`. A value below `low[i]` falls in bin 0 and one above `high[i]` in the last bin
    (the edge bins are open-ended), so the bounds only need to cover the values that matter.

    ## Bounds
    `low`/`high` if given (a number or one per dimension); otherwise the env id's entry in
    `KNOWN_BOUNDS` (CartPole-v0/v1: the course notes' +-2.4, +-5, +-0.209, +-5); otherwise the
    observation space's bounds, which must be finite (else a `ValueError` asks for `low`/`high`).

    ## Arguments
    - `env`: an env with a `Box` observation space.
    - `bins`: bins per dimension, a number for all dimensions or one per dimension (each >= 1; default 10).
    - `low`, `high`: see Bounds.

    A NaN in an observation raises a `ValueError` (it belongs to no bin).

    ## Version History
    - v0: initial version.
    """

    def __init__(
        self,
        env: gym.Env,
        bins: int | Sequence[int] = 10,
        low: float | Sequence[float] | None = None,
        high: float | Sequence[float] | None = None,
    ) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, bins=bins, low=low, high=high)
        gym.ObservationWrapper.__init__(self, env)
        self.low, self.high = box_bounds(env, low, high, "Discretize")
        shape = self.low.shape
        bins_arr = np.asarray(bins)
        if bins_arr.dtype.kind not in "iu" or np.any(bins_arr < 1):
            raise ValueError(f"Discretize: bins must be positive integers (one, or one per dimension), got {bins!r}")
        try:
            self.bins = np.broadcast_to(bins_arr, shape).astype(np.int64)
        except ValueError:
            raise ValueError(
                f"Discretize: bins has shape {bins_arr.shape}; give one number or one per dimension {shape}"
            ) from None
        self._scale = self.bins / (self.high - self.low)
        self._last_bin = self.bins - 1
        self.observation_space = spaces.MultiDiscrete(self.bins)

    def observation(self, observation: Any) -> np.ndarray:
        values = np.asarray(observation, dtype=np.float64)
        if np.isnan(values).any():
            raise ValueError(f"Discretize: observation contains NaN: {observation!r}")
        index = np.floor((values - self.low) * self._scale)
        return np.clip(index, 0, self._last_bin).astype(np.int64)


class AsMultiDiscrete(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """View a `Box` observation whose entries are integers as a `MultiDiscrete` observation.

    For observations that are discrete by nature but stored in a `Box`: feature vectors of 0/1 flags
    and direction codes (snake's `obs_type="features"`), grids of cell codes (gridworld's
    `obs_type="grid"`). Nothing is binned or rounded: an entry that is not a whole number raises a
    `ValueError` (use `Discretize` for continuous values).

    ## Observation Space
    `MultiDiscrete(high - low + 1, start=low)` with the Box's shape; the observation is the same numbers
    as `int64`. A table indexes it densely when it has few combinations (mixed-radix index) and by the
    observations actually seen otherwise (see `agents.tabular.state_index`).

    ## Arguments
    - `env`: an env with a `Box` observation space whose bounds are finite whole numbers.

    ## Version History
    - v0: initial version.
    """

    def __init__(self, env: gym.Env) -> None:
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.ObservationWrapper.__init__(self, env)
        space = env.observation_space
        if not isinstance(space, spaces.Box):
            raise ValueError(f"AsMultiDiscrete needs a Box observation space, got {space}")
        low, high = space.low.astype(np.float64), space.high.astype(np.float64)
        if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
            raise ValueError(
                f"AsMultiDiscrete: the Box {space} is unbounded; its values cannot be enumerated (use Discretize)"
            )
        if np.any(low != np.floor(low)) or np.any(high != np.floor(high)):
            raise ValueError(
                f"AsMultiDiscrete: the Box {space} has non-integer bounds (use Discretize for continuous values)"
            )
        self.observation_space = spaces.MultiDiscrete((high - low + 1).astype(np.int64), start=low.astype(np.int64))

    def observation(self, observation: Any) -> np.ndarray:
        values = np.asarray(observation)
        integers = values.astype(np.int64)
        if values.dtype.kind == "f" and not np.array_equal(integers, values):
            bad = np.argwhere(integers != values)[0]
            raise ValueError(
                f"AsMultiDiscrete: observation entry {tuple(bad.tolist())} = "
                f"{values[tuple(bad)].item()!r} is not a whole "
                "number; use Discretize for continuous observations"
            )
        return integers
