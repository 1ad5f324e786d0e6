"""`SnakeVectorEnv`: N games of snake stepped together in numpy (`gym.make_vec("snake-v0", n)`).

Sub-env i is the game a single `SnakeEnv` seeded `seed + i` plays, step for step: the same rules
and tables (`gym_snake.core`), the same draws from a generator seeded the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from gymnasium import error, spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from gym_snake import render
from gym_snake.compiled import choose_engine
from gym_snake.core import MAX_NUM_ENVS, SnakeConfig, check_batch_size, require_int
from gym_snake.env import action_space_for, check_render_mode, observation_space_for
from gym_snake.single import action_meaning

INFO_KEYS = ("score", "length", "death", "win", "starved")


class SnakeVectorEnv(VectorEnv):
    """`num_envs` snake games (see `gym_snake.SnakeEnv` for the game, spaces and rewards) stepped
    in one batch: movement, collisions, food and observations of all games are numpy operations
    with no Python loop over games.

    ## Autoreset
    `AutoresetMode.NEXT_STEP` (Gymnasium's default): the step that ends a sub-env's episode returns
    its final observation with `terminated`/`truncated` set; the next `step` ignores that
    sub-env's action and returns the first observation of a new episode, reward 0, both flags False
    and the reset info.

    ## Spaces
    `single_observation_space` and `single_action_space` are those of `SnakeEnv` with the same
    options; `observation_space` and `action_space` batch them (`MultiDiscrete` actions: pass an
    integer array of shape `(num_envs,)`).

    ## Info
    Arrays of shape `(num_envs,)` for `score`, `length`, `death`, `win`, `starved`, each with its
    Gymnasium `_key` mask (all True, or the reset mask after a partial reset).

    ## Seeding
    `reset(seed=s)` seeds sub-env i with `s + i` (a list gives one seed per sub-env, None keeps a
    sub-env's generator or draws a fresh seed for a new one). Sub-env i's generator is
    `sub_env_rngs[i]`, made like a single env's `np_random`.

    ## Arguments
    - `num_envs`: number of games, 1 to `MAX_NUM_ENVS` (2**20); the batch's state
      (`num_envs * (width * height + 2)` cells) and its observations (`num_envs` times one game's
      observation bytes) are each limited to `MAX_BATCH_CELLS` (2**26); a bigger batch raises
      `ValueError` before anything is allocated
    - `max_episode_steps`: truncate an episode after this many steps (None: never); `gym.make_vec`
      passes the registered limit, as `TimeLimit` does for a single env
    - `render_mode`: `"rgb_array"` (a tuple of frames) or `"ansi"` (a tuple of texts) or None
    - `copy` (default True): False returns the "grid" and "view" observations as read-only views of
      buffers the env overwrites on the next `step` or `reset` (the "grid" one is a strided view of
      the boards), saving a copy per step; copy them to keep them
    - `engine` (default `"auto"`): how the games are stepped, with identical results: `"numba"`
      (compiled loops over the games for the step, resets and the "view" observation,
      `gym_snake.compiled`; needs `pip install "rlsuite-snake[fast]"`; the first env of a process
      compiles them, a few seconds, cached on disk after that), `"numpy"` (whole-batch array
      operations), or `"auto"`: numba when it is installed
    - every keyword argument of `SnakeEnv` (`width`, `height`, `obs_type`, ...)

    ## Version History
    - v0: initial version. Later additions that change no existing behaviour: `obs_type="view"`,
      `copy=False`, size bounds, `engine`.
    """

    single_action_space: spaces.Discrete

    metadata = {"render_modes": ["rgb_array", "ansi"], "render_fps": 10, "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        num_envs: int = 1,
        max_episode_steps: int | None = None,
        render_mode: str | None = None,
        copy: bool = True,
        engine: str = "auto",
        **options: Any,
    ) -> None:
        unknown = sorted(set(options) - set(SnakeConfig.option_names()))
        if unknown:
            raise ValueError(f"unknown option(s) {unknown}; allowed: {list(SnakeConfig.option_names())}")
        config = SnakeConfig(**options)
        num_envs = require_int("num_envs", num_envs, 1, MAX_NUM_ENVS)
        if max_episode_steps is not None and (
            isinstance(max_episode_steps, bool)
            or not isinstance(max_episode_steps, (int, np.integer))
            or max_episode_steps < 1
        ):
            raise ValueError(f"max_episode_steps must be an integer >= 1 or None, got {max_episode_steps!r}")
        check_render_mode(render_mode, self.metadata["render_modes"])
        if render_mode == "rgb_array":
            config.check_frame_size()
        check_batch_size(config, num_envs)
        if not isinstance(copy, (bool, np.bool_)):
            raise ValueError(f"copy must be True or False, got {copy!r}")

        self.config = config
        self.num_envs = int(num_envs)
        self.max_episode_steps = max_episode_steps
        self.render_mode = render_mode
        self.single_action_space = action_space_for(config)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.single_observation_space = observation_space_for(config)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)

        self._games = choose_engine(engine)(config, self.num_envs)
        self._elapsed = np.zeros(self.num_envs, dtype=np.int64)
        self._time_limit = np.iinfo(np.int64).max if max_episode_steps is None else int(max_episode_steps)
        self._ended = np.zeros(self.num_envs, dtype=bool)  # ended last step: reset on this one (NEXT_STEP)
        self._started = False
        self._all = np.ones(self.num_envs, dtype=bool)
        self.copy = bool(copy)
        self._link()

    def _link(self) -> None:
        """The observer, and with copy=False the read-only views it returns (rebuilt after unpickling)."""
        games = self._games
        grid: Callable[[], np.ndarray]
        view: Callable[[], np.ndarray]
        if self.copy:
            grid, view = games.grid, games.view
        else:
            board = games.cells[:, : self.config.area]
            shape = self.observation_space.shape
            assert shape is not None  # a Box
            self._view_buffer = np.zeros(shape, dtype=np.uint8)
            board.flags.writeable = False
            view_buffer = self._view_buffer.view()
            view_buffer.flags.writeable = False

            def board_obs() -> np.ndarray:
                return board

            def view_obs() -> np.ndarray:
                games.view(out=self._view_buffer)
                return view_buffer

            grid, view = board_obs, view_obs

        observers = {"grid": grid, "features": games.features, "rgb": self._rgb_obs, "view": view}
        self._observe = observers[self.config.obs_type]

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("_observe", "_view_buffer")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._link()

    @property
    def sub_env_rngs(self) -> list[np.random.Generator | None]:
        """The generator of each sub-env (None before its first reset)."""
        return list(self._games.rngs)

    # ------------------------------------------------------------------ Gymnasium API
    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        seeds = self._seeds(seed)
        mask = self._reset_mask(options)
        if isinstance(seed, (int, np.integer)):
            super().reset(seed=int(seed))
        games = self._games
        for i in np.flatnonzero(mask):
            if seeds[i] is not None or games.rngs[i] is None:
                games.set_rng(i, seeding.np_random(seeds[i])[0])
        chosen = np.flatnonzero(mask)
        games.reset_games(chosen)
        self._elapsed[chosen] = 0
        self._ended[chosen] = False
        self._started = True
        no_outcome = np.zeros(self.num_envs, dtype=bool)
        return self._observe(), self._info(no_outcome, no_outcome, no_outcome, mask)

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        actions = self._checked_actions(actions)
        if not self._started:
            raise error.ResetNeeded("Call reset() before step().")
        games = self._games
        resetting = self._ended
        moving = ~resetting
        reward, death, win, starved, terminated = games.step(actions, moving)
        self._elapsed += moving
        if np.count_nonzero(resetting):
            chosen = resetting.nonzero()[0]
            games.reset_games(chosen)
            self._elapsed[chosen] = 0
            reward[chosen] = 0.0
        truncated = starved | (self._elapsed >= self._time_limit)
        self._ended = terminated | truncated
        return self._observe(), reward, terminated, truncated, self._info(death, win, starved, self._all)

    def render(self) -> tuple[np.ndarray, ...] | tuple[str, ...] | None:
        if self.render_mode is None:
            return None
        if not self._started:
            raise error.ResetNeeded("Call reset() before render().")
        games, config = self._games, self.config
        boards = games.grid().reshape(self.num_envs, config.height, config.width)
        if self.render_mode == "ansi":
            return tuple(
                render.ansi_text(board, int(heading), int(score), config.wrap_walls)
                for board, heading, score in zip(boards, games.heading, games.score)
            )
        return tuple(
            render.frame(board, games.snake(i), int(games.heading[i]), config.render_cell_size, config.wrap_walls)
            for i, board in enumerate(boards)
        )

    # ------------------------------------------------------------------ helpers
    def _rgb_obs(self) -> np.ndarray:
        config = self.config
        boards = self._games.cells[:, : config.area].reshape(self.num_envs, config.height, config.width)
        return render.observation_image(boards, config.cell_size)

    def _info(self, death: np.ndarray, win: np.ndarray, starved: np.ndarray, mask: np.ndarray) -> dict[str, Any]:
        games = self._games
        values = (games.score.copy(), games.length.copy(), death, win, starved)
        info: dict[str, Any] = dict(zip(INFO_KEYS, values))
        for key in INFO_KEYS:
            info["_" + key] = mask.copy()
        return info

    def _checked_actions(self, actions: Any) -> np.ndarray:
        array = np.asarray(actions)
        n = self.single_action_space.n
        # viewed as unsigned, a negative action is a huge one: one reduction instead of min and max
        if (
            array.shape != (self.num_envs,)
            or array.dtype.kind not in "iu"
            or array.view(f"u{array.itemsize}").max() >= n
        ):
            raise ValueError(
                f"actions must be an integer array of shape ({self.num_envs},) with values in "
                f"{action_meaning(n, self.config.action_mode)}, got {actions!r}"
            )
        return array.astype(np.int64, copy=False)

    def _seeds(self, seed: int | list[int | None] | None) -> list[int | None]:
        if seed is None:
            return [None] * self.num_envs
        if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
            return [int(seed) + i for i in range(self.num_envs)]
        allowed = f"seed must be None, an int or a list of {self.num_envs} ints/None"
        if not isinstance(seed, (list, tuple, np.ndarray)):
            raise ValueError(f"{allowed}, got {seed!r}")
        seeds = list(seed)
        if len(seeds) != self.num_envs:
            raise ValueError(f"{allowed}, got {len(seeds)} seeds")
        return seeds

    def _reset_mask(self, options: dict[str, Any] | None) -> np.ndarray:
        options = dict(options or {})
        mask = options.pop("reset_mask", None)
        if options:
            raise ValueError(
                f"unknown reset option(s) {sorted(options)}; SnakeVectorEnv.reset accepts only 'reset_mask'"
            )
        if mask is None:
            return self._all
        if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_ or mask.shape != (self.num_envs,):
            raise ValueError(f"options['reset_mask'] must be a bool array of shape ({self.num_envs},), got {mask!r}")
        if not self._started and not mask.all():
            raise error.ResetNeeded("The first reset() must reset every sub-env (no reset_mask, or an all-True one).")
        return mask.copy()
