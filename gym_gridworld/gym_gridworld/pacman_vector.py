"""`PacmanVectorEnv`: N pac-man games stepped together in numpy (`gym.make_vec("pacman-v0", num_envs=N)`)."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from gym_gridworld.core import MAX_NUM_ENVS, N_ACTIONS, check_actions, check_batch_bytes, check_int, seed_worlds
from gym_gridworld.layout import Layout, load_layout
from gym_gridworld.pacman import check_pacman_options, observation_space_for
from gym_gridworld.pacman_engine import PacmanBatch, Rules
from gym_gridworld.pacman_view import ansi_text, batch_planes, images, rgb_frame
from gym_gridworld.render import check_render_mode

INFO_KEYS = ("lives", "pellets_left", "win")


class PacmanVectorEnv(VectorEnv):
    """`num_envs` pacman-v0 games in one set of numpy arrays (`pacman_engine.PacmanBatch`).

    Made by `gym.make_vec("pacman-v0", num_envs=N)` (or directly). Spaces, rules, rewards and
    arguments are those of `PacmanEnv` (see its docstring); observations, rewards and flags come
    batched along a first axis of length `num_envs`.

    Pac-man's move, eating, ghost collisions, the ghosts' AI and the observations of all games are
    array operations; the only Python loop of a step is over the ghosts of the layout. Each game
    draws its random numbers from its own generator, seeded like a single env's `np_random`, so
    sub-env i of `reset(seed=s)` follows exactly the trajectory of `PacmanEnv` reset with `s + i`.

    ## Episode end and autoreset
    A game terminates when its level is cleared or its last life lost, and is truncated after
    `max_episode_steps` steps (`gym.make_vec` passes the registered 1000; None disables the limit).
    Autoreset is Gymnasium's default NEXT_STEP mode (`metadata["autoreset_mode"]`): the step after a
    game's episode ends resets that game, ignores its action and returns its first observation with
    reward 0, both flags False and its reset info, exactly as `SyncVectorEnv` over single envs does.

    ## Info
    `lives`, `pellets_left` (int arrays) and `win` (bool array), each with its `_key` mask (all True).

    ## Arguments
    `num_envs` (1..`MAX_NUM_ENVS` = 65536, and `num_envs` x one observation's bytes at most `MAX_BATCH_BYTES`
    = 1 GiB), `max_episode_steps` (None), `render_mode` (None, "rgb_array" or "ansi": `render()`
    returns a tuple with one frame or text per game), and `PacmanEnv`'s keyword arguments.

    ## Example
    >>> import gymnasium as gym, gym_gridworld
    >>> envs = gym.make_vec("pacman-v0", num_envs=8, obs_type="grid")
    >>> obs, info = envs.reset(seed=0)
    >>> obs.shape, info["lives"].tolist()
    ((8, 7, 12, 12), [3, 3, 3, 3, 3, 3, 3, 3])
    >>> obs, rewards, terminated, truncated, info = envs.step(np.full(8, 2))
    >>> rewards.tolist()
    [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]

    ## Version History
    - v0: initial version.
    """

    metadata = {
        "render_modes": ["rgb_array", "ansi"],
        "render_fps": 8,
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }

    def __init__(
        self,
        num_envs: int = 1,
        layout: str | os.PathLike | Layout = "small",
        obs_type: str = "rgb",
        lives: int = 3,
        frightened_steps: int = 20,
        ghost_randomness: float = 0.2,
        rewards: dict[str, float] | None = None,
        max_episode_steps: int | None = None,
        render_mode: str | None = None,
    ) -> None:
        self.num_envs = check_int("num_envs", num_envs, 1, MAX_NUM_ENVS)
        self.max_episode_steps = (
            None if max_episode_steps is None else check_int("max_episode_steps", max_episode_steps, 1)
        )
        self.layout = load_layout(layout)
        self.obs_type = check_pacman_options(obs_type, self.layout)
        self.rules = Rules.checked(lives, frightened_steps, ghost_randomness, rewards)
        self.render_mode = check_render_mode(render_mode, self.metadata)
        self.single_observation_space = observation_space_for(self.obs_type, self.layout)
        # uint8 images or int8 planes: one byte per entry
        check_batch_bytes(self.num_envs, math.prod(self.single_observation_space.shape or ()), "games")
        self.games = PacmanBatch(self.layout, self.rules, self.num_envs)
        self.single_action_space = spaces.Discrete(N_ACTIONS)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.elapsed = np.zeros(self.num_envs, dtype=np.int64)
        self.needs_reset = np.zeros(self.num_envs, dtype=bool)
        self._all = np.arange(self.num_envs)
        self._every = np.ones(self.num_envs, dtype=bool)
        self._time_limit = np.iinfo(np.int64).max if self.max_episode_steps is None else self.max_episode_steps
        self._started = False

    @property
    def sub_env_rngs(self) -> list[np.random.Generator | None]:
        """The generator of each game (None before its first reset)."""
        return list(self.games.draws.generators)

    def reset(
        self, *, seed: int | Sequence[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict]:
        """Reset every game; with an int `seed`, game i is seeded `seed + i` (a list gives one seed
        per game). Without a seed, games continue their generators (fresh entropy the first time)."""
        if options:
            raise ValueError(f"pacman-v0 takes no reset options, got {sorted(options)}")
        seed_worlds(self.games.draws, seed)
        if isinstance(seed, (int, np.integer)):
            super().reset(seed=int(seed))
        self.games.reset(self._all)
        self.elapsed[:] = 0
        self.needs_reset[:] = False
        self._started = True
        return self._observations(), self._info()

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        if not self._started:
            raise gym.error.ResetNeeded("Call reset() before step().")
        actions = check_actions(actions, self.num_envs)
        restarting = self.needs_reset
        if np.count_nonzero(restarting):  # NEXT_STEP autoreset: these games ignore their action and start afresh
            rewards = self.games.step(actions, ~restarting)
            chosen = restarting.nonzero()[0]
            self.games.reset(chosen)
            self.elapsed[chosen] = -1
        else:
            rewards = self.games.step(actions, self._every)
        self.elapsed += 1
        terminated = self.games.over.copy()
        truncated = self.elapsed >= self._time_limit  # as TimeLimit: possibly both
        self.needs_reset = terminated | truncated
        return self._observations(), rewards, terminated, truncated, self._info()

    def _observations(self) -> np.ndarray:
        if self.obs_type == "grid":
            return batch_planes(self.games)
        return images(self.games.kinds())

    def _info(self) -> dict:
        games = self.games
        info: dict[str, Any] = {
            "lives": games.lives.copy(),
            "pellets_left": games.pellets_left.copy(),
            "win": games.win.copy(),
        }
        for key in INFO_KEYS:
            info["_" + key] = self._every.copy()
        return info

    def render(self) -> tuple[np.ndarray, ...] | tuple[str, ...] | None:
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode= to gym.make_vec.")
            return None
        if not self._started:
            raise gym.error.ResetNeeded("Call reset() before render().")
        games, kinds = self.games, self.games.kinds()
        if self.render_mode == "ansi":
            return tuple(
                ansi_text(kinds[i], int(games.lives[i]), int(games.pellets_left[i]), bool(games.win[i]))
                for i in range(self.num_envs)
            )
        return tuple(rgb_frame(kinds[i], int(games.lives[i])) for i in range(self.num_envs))

    def close_extras(self, **kwargs: Any) -> None:
        """Nothing to free: no window, no subprocess."""
