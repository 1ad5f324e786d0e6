"""GridworldVectorEnv: N gridworld-v0 worlds stepped together in numpy (`gym.make_vec`'s native env)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from gym_gridworld.core import MAX_NUM_ENVS, N_ACTIONS, check_actions, check_int, seed_worlds
from gym_gridworld.gridworld import build_game, render_frame
from gym_gridworld.render import check_render_mode


class GridworldVectorEnv(VectorEnv):
    """`num_envs` gridworld-v0 worlds in one set of numpy arrays.

    Made by `gym.make_vec("gridworld-v0", num_envs=N)` (or directly). Spaces, rewards and arguments
    are those of `GridworldEnv` (see its docstring); observations, rewards and flags come batched along
    a first axis of length `num_envs`, and infos are empty dicts.

    Movement, rewards and observations of all worlds are computed with array operations. Each world
    draws its random numbers from its own generator, seeded like a single env's `np_random`, so
    sub-env i of `reset(seed=s)` follows exactly the trajectory of `GridworldEnv` reset with `s + i`.

    ## Episode end and autoreset
    Worlds never terminate; each is truncated after `max_episode_steps` steps (`gym.make_vec` passes
    the registered 50; None disables the limit). Autoreset is Gymnasium's default NEXT_STEP mode
    (`metadata["autoreset_mode"]`): the step after a world's episode ends resets that world, ignores
    its action and returns its first observation with reward 0 and both flags False, exactly as
    `SyncVectorEnv` over single envs does.

    ## Image observations and `copy`
    With `obs_type="rgb"` the worlds are drawn on a persistent canvas where a step repaints only the
    cells that changed (the agent's old and new cell, collected objects, whole worlds that reset). By
    default (`copy=True`) `reset` and `step` return a new `(num_envs, 84, 84, 3)` array: the canvas
    then keeps one pixel row per cell row and stretches it into the new array, so writing the batch
    once is the cost (partial views, where a move changes nearly every cell, are redrawn whole into a
    new array instead). `copy=False` returns a read-only view of a whole-image canvas instead, which
    the next `step` or `reset` overwrites in place, so copy what you keep (a
    replay buffer that stores observations copies them anyway). Grid observations are always fresh.

    ## Arguments
    `num_envs` (1..`MAX_NUM_ENVS` = 65536, and `num_envs` x one observation's bytes at most
    `MAX_BATCH_BYTES` = 1 GiB: 50,724 worlds of 84x84x3 images), `max_episode_steps` (None), `copy`
    (True, see above), `render_mode` (None or "rgb_array": `render()` returns a tuple of one frame per
    world), and `GridworldEnv`'s keyword arguments (with their bounds). Bad values raise a ValueError
    naming the argument, its value and the limit, before anything is allocated.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 8, "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        num_envs: int = 1,
        size: int = 5,
        n_goals: int = 4,
        n_fires: int = 2,
        partial: bool = False,
        obs_type: str = "rgb",
        goal_reward: float = 1.0,
        fire_reward: float = -1.0,
        step_penalty: float = 0.0,
        max_episode_steps: int | None = None,
        render_mode: str | None = None,
        copy: bool = True,
    ) -> None:
        self.num_envs = check_int("num_envs", num_envs, 1, MAX_NUM_ENVS)
        if max_episode_steps is not None:
            max_episode_steps = check_int("max_episode_steps", max_episode_steps, 1)
        self.max_episode_steps = max_episode_steps
        if not isinstance(copy, (bool, np.bool_)):
            raise ValueError(f"copy must be True or False, got {copy!r}")
        self.copy = bool(copy)
        self.render_mode = check_render_mode(render_mode, self.metadata)
        self.game = build_game(
            self.num_envs, size, n_goals, n_fires, partial, obs_type, goal_reward, fire_reward, step_penalty
        )
        self.obs_type, self.partial = self.game.obs_type, self.game.partial
        self.single_observation_space = self.game.observation_space
        self.single_action_space = spaces.Discrete(N_ACTIONS)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.elapsed = np.zeros(self.num_envs, dtype=np.int64)
        self.needs_reset = np.zeros(self.num_envs, dtype=bool)
        self._all = np.arange(self.num_envs)
        self._started = False

    def reset(
        self, *, seed: int | Sequence[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict]:
        """Reset every world; with an int `seed`, world i is seeded `seed + i` (a list gives one seed
        per world). Without a seed, worlds continue their generators (fresh entropy the first time)."""
        if options:
            raise ValueError(f"gridworld-v0 takes no reset options, got {sorted(options)}")
        seed_worlds(self.game.draws, seed)
        if isinstance(seed, (int, np.integer)):
            super().reset(seed=int(seed))
        self.game.reset(self._all)
        self.elapsed[:] = 0
        self.needs_reset[:] = False
        self._started = True
        return self._observations(), {}

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        if not self._started:
            raise gym.error.ResetNeeded("Call reset() before step().")
        actions = check_actions(actions, self.num_envs)
        restarting = np.flatnonzero(self.needs_reset)
        if restarting.size:  # NEXT_STEP autoreset: these worlds ignore their action and start afresh
            rewards = self.game.step(actions, active=~self.needs_reset)
            self.game.reset(restarting)
        else:
            rewards = self.game.step(actions)
        self.elapsed += 1
        self.elapsed[restarting] = 0
        terminated = np.zeros(self.num_envs, dtype=bool)
        if self.max_episode_steps is None:
            truncated = np.zeros(self.num_envs, dtype=bool)
        else:
            truncated = self.elapsed >= self.max_episode_steps
        self.needs_reset = truncated.copy()
        return self._observations(), rewards, terminated, truncated, {}

    def _observations(self) -> np.ndarray:
        observations = self.game.observations(fresh=self.copy)
        if self.copy or self.obs_type != "rgb":  # new arrays
            return observations
        view = observations.view()  # the game's canvas, read-only for the caller
        view.flags.writeable = False
        return view

    def render(self) -> tuple[np.ndarray, ...] | None:
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode= to gym.make_vec.")
            return None
        if not self._started:
            raise gym.error.ResetNeeded("Call reset() before render().")
        kinds = self.game.kinds()
        return tuple(
            render_frame(kinds[i], divmod(int(self.game.agent[i]), self.game.side), self.game.partial)
            for i in range(self.num_envs)
        )

    def close_extras(self, **kwargs: Any) -> None:
        """Nothing to free: no window, no subprocess."""
