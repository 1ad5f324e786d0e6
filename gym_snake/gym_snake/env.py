"""`SnakeEnv`: the Gymnasium adapter of one game of snake (spaces, options, seeding, rendering).

The game itself is played by the scalar engine `gym_snake.single.SnakeGame`, which this class
inherits (so a step is one Python call); the rules and tables come from `gym_snake.core`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from gym_snake import render
from gym_snake.core import FEATURE_NAMES, FOOD, WALL, SnakeConfig
from gym_snake.single import DERIVED_STATE, SnakeGame

RENDER_MODES = ["human", "rgb_array", "ansi"]
RESET_OPTIONS = ("snake", "heading", "food")


def observation_space_for(config: SnakeConfig) -> spaces.Box:
    """The observation space of one game with this configuration."""
    if config.obs_type == "grid":
        return spaces.Box(0, FOOD, shape=(config.area,), dtype=np.uint8)
    if config.obs_type == "features":
        return spaces.Box(0.0, 1.0, shape=(len(FEATURE_NAMES),), dtype=np.float32)
    if config.obs_type == "view":
        return spaces.Box(0, WALL, shape=(config.view_side**2,), dtype=np.uint8)
    shape = (config.height * config.cell_size, config.width * config.cell_size, 3)
    return spaces.Box(0, 255, shape=shape, dtype=np.uint8)


def action_space_for(config: SnakeConfig) -> spaces.Discrete:
    return spaces.Discrete(config.n_actions)


def check_render_mode(render_mode: str | None, modes: Sequence[str]) -> None:
    if render_mode is not None and render_mode not in modes:
        raise ValueError(f"render_mode must be one of {list(modes)} or None, got {render_mode!r}")


class SnakeEnv(SnakeGame, gym.Env[np.ndarray, int]):
    """The classic snake game on a grid.

    ## Description
    A snake moves one cell per step on a `width` x `height` board. Eating the food grows it by one
    cell and a new food appears on a uniformly drawn free cell. The snake dies when it moves into a
    wall or into its own body; moving into the cell its tail leaves in the same step is allowed.
    The game is won when the snake fills the board. With `wrap_walls=True` the board is a torus:
    leaving one edge enters the opposite one and only the body kills.

    ## Action Space
    `action_mode="absolute"` (default): `Discrete(4)`, the heading to take: 0 up, 1 right, 2 down,
    3 left (`gym_snake.UP`, `RIGHT`, `DOWN`, `LEFT`). An action opposite to the current heading is
    ignored and the snake keeps going (it cannot reverse into its neck; this holds for a length-1
    snake too). `action_mode="relative"`: `Discrete(3)`, 0 turn left, 1 straight, 2 turn right
    (`gym_snake.TURN_LEFT`, `STRAIGHT`, `TURN_RIGHT`). An action outside the space raises `ValueError`.

    ## Observation Space
    - `obs_type="rgb"` (default): `Box(0, 255, (height * cell_size, width * cell_size, 3), uint8)`,
      flat colour cells: empty (18, 18, 28), body (60, 180, 90), head (250, 200, 40), food (225, 45, 45).
      The default 10x10 board with `cell_size=4` gives 40x40 images, the smallest size SB3's
      `CnnPolicy` accepts is 36x36.
    - `obs_type="grid"`: `Box(0, 3, (height * width,), uint8)`, the board's cell codes row-major:
      0 empty, 1 body, 2 head, 3 food (`gym_snake.EMPTY`, `BODY`, `HEAD`, `FOOD`). It is flat
      because SB3's checker accepts only 1-D vectors and >= 36x36 images;
      `obs.reshape(height, width)` gives the board.
    - `obs_type="features"`: `Box(0, 1, (11,), float32)`, each 0 or 1: danger straight / left /
      right (that move would end the game now: a wall, or body other than the leaving tail), the
      heading (one-hot up, right, down, left) and whether the food lies up, right, down, left of
      the head (on a torus: along the shorter way round). Names in `gym_snake.FEATURE_NAMES`.
    - `obs_type="view"`: `Box(0, 4, ((2r + 1) ** 2,), uint8)`, r = `view_radius` (default 5, as in
      PufferLib's snake): the cell codes of the (2r + 1) x (2r + 1) window centred on the head,
      row-major, with 4 (`gym_snake.WALL`) for cells outside the board (on a torus the window wraps
      round). With `action_mode="relative"` the window turns with the snake, so that its heading
      points up (row 0 lies ahead, the last column to its right); otherwise north is up.
      `obs.reshape(2r + 1, 2r + 1)` gives the window.

    With `copy=False` the "grid" observation is a read-only view of the env's board, not a copy: it
    changes on the next `step` or `reset` (as PufferLib's and `SyncVectorEnv(copy=False)`'s buffers
    do); copy it to keep it. Gymnasium's and SB3's env checkers keep observations across calls and
    so reject `copy=False`. Other observation types are fresh arrays either way.

    ## Rewards
    `food_reward` (default +1) for eating, plus `win_reward` (default 0) when that fills the board;
    `death_reward` (default -1) for dying; `step_reward` (default 0) for any other step.

    ## Starting State
    The snake lies straight, `initial_length` cells long, at a uniformly drawn position and heading
    among those where its body is inside the board and the cell ahead of its head is free, so the
    first step straight on is always safe. The food is then placed on a uniformly drawn free cell.
    `reset(options=...)` can set the start instead: `{"snake": [(row, col), ...]}` (head first,
    adjacent cells), `"heading"` (required for a one-cell snake, otherwise from the neck to the
    head by default) and `"food"` (a free `(row, col)`; drawn when absent).

    ## Episode End
    Terminated on death or win. Truncated ("starvation") after `max_steps_without_food` steps in a
    row without eating (default: width * height, the steps a tour of the whole board takes;
    0 disables it) and by the `TimeLimit` of `gym.make` (`snake-v0` registers 10,000 steps: a full
    game on the default board never needs more). After termination or starvation `step` raises
    `gymnasium.error.ResetNeeded` until `reset` is called.

    ## Info
    Every step and reset: `score` (food eaten), `length`, and the bools `death`, `win` and `starved`
    (True only on the step that ended the episode that way).

    ## Randomness
    All randomness comes from `self.np_random`, consumed as blocks of `UNIFORM_BLOCK` uniforms:
    one draw picks the start, one each food cell. The same seed and actions give the same game.

    ## Arguments
    - `width`, `height` (default 10, 2 to `MAX_SIDE` = 256), `initial_length` (default 3; needs a
      row or column of `initial_length + 1` cells), `wrap_walls` (default False)
    - `action_mode`: `"absolute"` or `"relative"`; `obs_type`: `"rgb"`, `"grid"`, `"features"` or
      `"view"`; `view_radius`: of the "view" window (default 5, 1 to 32; its lookup table of
      `area * (2r + 1) ** 2` entries, 4x that with relative actions, must stay within 2**24)
    - `copy`: return a fresh observation every step (default True); False: see Observation Space
    - `cell_size`: pixels per cell of the "rgb" observation (default 4, at most 64);
      `render_cell_size`: of rendered frames (default 32, at most 256); an rgb observation or a
      rendered frame has at most `MAX_IMAGE_PIXELS` (2**24) pixels
    - `food_reward`, `death_reward`, `step_reward`, `win_reward` (finite numbers),
      `max_steps_without_food` (0 to `MAX_STEPS_WITHOUT_FOOD` = 2**31 - 1; default: the board's area)
    - `render_mode`: `"human"` (pygame window at `metadata["render_fps"]`), `"rgb_array"` (numpy
      only, no pygame), `"ansi"` (text board) or None

    A wrong type or an out-of-range value raises `ValueError` naming the argument, the value and
    the allowed range, before anything is allocated.

    ## Version History
    - v0: initial version. Additions that change no existing behaviour: `obs_type="view"` and
      `view_radius`; `copy=False`; size bounds on every size-like argument.
    """

    action_space: spaces.Discrete[Any]  # as SnakeGame declares it (mypy wants it restated over gym.Env's)

    metadata = {"render_modes": RENDER_MODES, "render_fps": 10}

    def __init__(
        self,
        width: int = 10,
        height: int = 10,
        initial_length: int = 3,
        wrap_walls: bool = False,
        action_mode: str = "absolute",
        obs_type: str = "rgb",
        view_radius: int = 5,
        cell_size: int = 4,
        render_cell_size: int = 32,
        food_reward: float = 1.0,
        death_reward: float = -1.0,
        step_reward: float = 0.0,
        win_reward: float = 0.0,
        max_steps_without_food: int | None = None,
        render_mode: str | None = None,
        copy: bool = True,
    ) -> None:
        config = SnakeConfig(
            width=width,
            height=height,
            initial_length=initial_length,
            wrap_walls=wrap_walls,
            action_mode=action_mode,
            obs_type=obs_type,
            view_radius=view_radius,
            cell_size=cell_size,
            render_cell_size=render_cell_size,
            food_reward=food_reward,
            death_reward=death_reward,
            step_reward=step_reward,
            win_reward=win_reward,
            max_steps_without_food=max_steps_without_food,
        )
        check_render_mode(render_mode, self.metadata["render_modes"])
        if render_mode in ("rgb_array", "human"):
            config.check_frame_size()
        self.config = config
        self.render_mode = render_mode
        self.action_space = action_space_for(config)
        self.observation_space = observation_space_for(config)
        self._window: render.Window | None = None

        if not isinstance(copy, (bool, np.bool_)):
            raise ValueError(f"copy must be True or False, got {copy!r}")
        self._init_game(config, bool(copy))
        self._link()

    # ------------------------------------------------------------------ Gymnasium API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        start = self._start_from_options(options) if options else (None, 0, None)  # checked before reseeding
        if seed is not None:
            super().reset(seed=seed)
        return self._start(*start), self._info.copy()

    def render(self) -> np.ndarray | str | None:
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode= to gym.make.")
            return None
        if not self._body:
            raise gym.error.ResetNeeded("Call reset() before render().")
        board = self._board.reshape(self.config.height, self.config.width)
        if self.render_mode == "ansi":
            return render.ansi_text(board, self._heading, self._score, self.config.wrap_walls)
        snake = list(reversed(self._body))
        image = render.frame(board, snake, self._heading, self.config.render_cell_size, self.config.wrap_walls)
        if self.render_mode == "rgb_array":
            return image
        if self._window is None:
            self._window = render.Window("gym_snake", self.metadata["render_fps"])
        self._window.show(image, caption=f"score {self._score}")
        return None

    def close(self) -> None:
        if self._window is not None:
            self._window.close()
            self._window = None

    # ------------------------------------------------------------------ state access
    @property
    def snake(self) -> list[tuple[int, int]]:
        """The snake's cells as (row, column), head first."""
        width = self.config.width
        return [divmod(cell, width) for cell in reversed(self._body)]

    @property
    def heading(self) -> int:
        """The way the head points: 0 up, 1 right, 2 down, 3 left."""
        return self._heading

    @property
    def score(self) -> int:
        """Food eaten in this episode."""
        return self._score

    @property
    def food(self) -> tuple[int, int] | None:
        """The food's (row, column), or None once the board is full."""
        return None if self._food < 0 else divmod(self._food, self.config.width)

    def board(self) -> np.ndarray:
        """A (height, width) uint8 copy of the board codes."""
        return self._board.reshape(self.config.height, self.config.width).copy()

    # ------------------------------------------------------------------ reset options
    def _start_from_options(self, options: dict[str, Any]) -> tuple[tuple[int, ...], int, int | None]:
        """The snake cells (head first), heading and food cell asked for by reset options."""
        unknown = sorted(set(options) - set(RESET_OPTIONS))
        if unknown:
            raise ValueError(f"unknown reset option(s) {unknown}; allowed: {list(RESET_OPTIONS)}")
        if "snake" not in options:
            raise ValueError("reset options 'heading' and 'food' need a 'snake': [(row, col), ...] head first")
        width = self.config.width
        snake = options["snake"]
        if not isinstance(snake, (list, tuple, np.ndarray)) or not 1 <= len(snake) < self._area:
            raise ValueError(
                f"options['snake'] must be a list of 1 to {self._area - 1} (row, column) cells, head first, "
                f"got {snake!r:.80}"
            )
        cells = [self._cell_of(position, "a snake cell") for position in snake]
        if len(set(cells)) != len(cells):
            raise ValueError(f"options['snake'] visits a cell twice: {options['snake']!r}")
        for a, b in zip(cells, cells[1:]):
            if b not in (self._next[h][a] for h in range(4)):
                raise ValueError(f"snake cells {divmod(a, width)} and {divmod(b, width)} are not adjacent")
        if "heading" in options:
            heading = options["heading"]
            if isinstance(heading, bool) or not isinstance(heading, (int, np.integer)) or not 0 <= heading < 4:
                raise ValueError(f"options['heading'] must be 0 up, 1 right, 2 down or 3 left, got {heading!r}")
            heading = int(heading)
            if len(cells) > 1 and self._next[heading][cells[0]] == cells[1]:
                raise ValueError(f"options['heading']={heading} points the head back into its neck")
        elif len(cells) > 1:
            heading = next(h for h in range(4) if self._next[h][cells[1]] == cells[0])
        else:
            raise ValueError("a one-cell snake needs options['heading'] (0 up, 1 right, 2 down, 3 left)")
        food = options.get("food")
        if food is not None:
            food = self._cell_of(food, "the food")
            if food in cells:
                raise ValueError(f"options['food']={options['food']!r} is on the snake")
        return tuple(cells), heading, food

    def _cell_of(self, position: Any, what: str) -> int:
        width, height = self.config.width, self.config.height
        try:
            row, col = position
        except (TypeError, ValueError):
            row = col = None
        if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (row, col)):
            raise ValueError(f"{what} must be a (row, column) pair of integers, got {position!r}")
        if not (0 <= row < height and 0 <= col < width):
            raise ValueError(f"{what} {position!r} is outside the {height}x{width} (rows x columns) board")
        return row * width + col

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_window"] = None  # a pygame window cannot be pickled; a copy opens its own
        for derived in DERIVED_STATE:
            state.pop(derived, None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._link()
