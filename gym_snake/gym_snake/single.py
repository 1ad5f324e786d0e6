"""The scalar engine: one game of snake played with Python ints, for `gym_snake.env.SnakeEnv`.

`SnakeGame` holds one game's state (a `bytearray` board plus one WALL cell that moves off the board
lead to, a `deque` of body cells, the heading, the food) and steps it, reading the rule tables of
`gym_snake.core`; a step costs about a microsecond. The batched engine (`gym_snake.core.SnakeBatch`)
plays the same rules for N games in numpy; the tests check that both give the same games, bit for
bit. `SnakeEnv` (the Gymnasium adapter: spaces, options, seeding, rendering) inherits from this
class, so a step is one Python call.
"""

from __future__ import annotations

import itertools
import sys
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from gym_snake import render
from gym_snake.core import (
    BODY,
    DIRECTION_NAMES,
    EMPTY,
    FEATURE_TABLE,
    FOOD,
    HEAD,
    RELATIVE_ACTION_NAMES,
    SIGN_ZERO,
    UNIFORM_BLOCK,
    WALL,
    SnakeConfig,
    feature_index,
    tables_for,
)

END_FLAGS = {"death": "death", "win": "win", "starvation": "starved"}  # info key set on the last step
SHORT_SNAKE = 24  # up to this length, food placement scans the sorted body instead of the board


def action_meaning(n_actions: int | np.integer, action_mode: str) -> str:
    """'0..n-1 (0 up, 1 right, ...)': the allowed actions and what they do, for error messages."""
    names = DIRECTION_NAMES if action_mode == "absolute" else RELATIVE_ACTION_NAMES
    return f"0..{n_actions - 1} (" + ", ".join(f"{i} {name}" for i, name in enumerate(names)) + ")"


class SnakeGame:
    """One game of snake: its state, its step and its observations, in Python ints.

    The host class provides `np_random` (a `numpy.random.Generator`, as `gymnasium.Env` does),
    `action_space` and `render_mode`, and calls `_init_game(config)` once, `_start(...)` on reset.
    `step(action)` returns Gymnasium's `(obs, reward, terminated, truncated, info)`.
    """

    config: SnakeConfig
    np_random: np.random.Generator
    action_space: gym.spaces.Discrete[Any]  # samples np.int64; Any: step also takes Python ints (Env[..., int])
    render_mode: str | None
    render: Callable[[], Any]

    def _init_game(self, config: SnakeConfig, copy: bool = True) -> None:
        """Set up the tables and an empty state; `copy=False` makes the "grid" observation a
        read-only view of the board instead of a copy."""
        tables = tables_for(config)
        self._copy = copy
        self._next = tables.next_cell_list
        self._turn = tables.turn_list
        self._starts = tables.start_list
        self._cell_row, self._cell_col = tables.cell_row.tolist(), tables.cell_col.tolist()
        self._row_sign, self._col_sign = tables.row_sign.tolist(), tables.col_sign.tolist()
        self._reward_move, self._reward_eat, self._reward_win, self._reward_death = tables.rewards
        self._feature_rows = list(FEATURE_TABLE)
        self._area = config.area
        self._starvation_limit = config.starvation_limit or sys.maxsize

        # Game state: the board codes (plus one WALL cell that moves off the board lead to), the
        # body cells tail..head, the heading, the food cell (-1 once the board is full), the score
        # and the steps left before starvation. `_moves` (built in `_link`) maps the current
        # heading's valid actions to (new heading, next-cell table, moves of the new heading); it
        # is empty while stepping is refused, which folds the action range check and the
        # "episode over" check into one dict lookup.
        self._cells = bytearray(config.area + 1)
        self._cells[config.area] = WALL
        self._empty_board = bytes(config.area)
        self._body: deque[int] = deque()
        self._heading = 0
        self._food = -1
        self._score = 0
        self._hunger = self._starvation_limit
        self._info: dict[str, Any] = {}
        self._end = (
            "reset"  # why stepping is refused: "reset" (never reset), "death", "win", "starvation"; "" while playing
        )
        self._uniforms: list[float] = []
        self._uniform_pos = UNIFORM_BLOCK
        self._uniform_source: np.random.Generator | None = None

    # ------------------------------------------------------------------ playing
    def _start(self, snake: Sequence[int] | None, heading: int, food: int | None) -> np.ndarray:
        """Set up a new game and return its first observation: the given snake (cells head first),
        heading and food (None: drawn), or with `snake=None` a start drawn from the tables."""
        cells = self._cells
        cells[: self._area] = self._empty_board
        tail_first: Sequence[int]
        sorted_snake: Sequence[int]
        if snake is not None:
            tail_first, sorted_snake = snake[::-1], sorted(snake)
        else:
            snake, heading, tail_first, sorted_snake = self._starts[int(self._uniform() * len(self._starts))]
        for cell in snake:
            cells[cell] = BODY
        cells[snake[0]] = HEAD
        self._body = deque(tail_first)
        self._heading = heading
        if food is None:
            self._place_food(sorted_snake)
        else:
            self._food = food
            cells[food] = FOOD
        self._score = 0
        self._hunger = self._starvation_limit
        self._end = ""
        self._moves = self._moves_by_heading[heading]
        self._info = {"score": 0, "length": len(snake), "death": False, "win": False, "starved": False}
        return self._observe()

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict]:
        if type(action) is not int:
            action = self._checked_action(action)
        move = self._moves.get(action)
        if move is None:
            raise self._refusal(action)
        self._heading, next_cell, self._moves = move
        body, cells = self._body, self._cells
        head = body[-1]
        target = next_cell[head]
        code = cells[target]
        if code == EMPTY or (code == BODY and target == body[0]):  # a move (into the leaving tail is fine)
            cells[head] = BODY
            cells[body.popleft()] = EMPTY
            cells[target] = HEAD
            body.append(target)
            self._hunger -= 1
            if self._hunger:
                return self._observe(), self._reward_move, False, False, self._info.copy()
            return self._finish("starvation", self._reward_move)
        if code == FOOD:
            cells[head] = BODY
            cells[target] = HEAD
            body.append(target)
            self._score += 1
            self._hunger = self._starvation_limit
            # `_info` is what every step returns (as a copy) until the score or length changes again
            self._info = {"score": self._score, "length": len(body), "death": False, "win": False, "starved": False}
            if len(body) == self._area:
                self._food = -1
                return self._finish("win", self._reward_win)
            self._place_food()
            return self._observe(), self._reward_eat, False, False, self._info.copy()
        # a wall or the body: the snake stays where it was, facing the way it tried to go
        return self._finish("death", self._reward_death)

    def _finish(self, end: str, reward: float) -> tuple[np.ndarray, float, bool, bool, dict]:
        """End the episode (death, win or starvation) and return the step's results."""
        self._end = end
        self._moves = {}
        info = self._info.copy()
        info[END_FLAGS[end]] = True
        return self._observe(), reward, end != "starvation", end == "starvation", info

    # ------------------------------------------------------------------ observations
    def _features_obs(self) -> np.ndarray:
        body, cells, next_cell = self._body, self._cells, self._next
        head, tail, heading = body[-1], body[0], self._heading
        danger_bits = 0
        for turn in (0, 3, 1):  # straight, left, right
            target = next_cell[(heading + turn) % 4][head]
            code = cells[target]
            danger_bits = danger_bits * 2 + (code == WALL or (code == BODY and target != tail))
        food = self._food
        if food < 0:
            row_sign = col_sign = SIGN_ZERO
        else:
            row_sign = self._row_sign[self._cell_row[food] - self._cell_row[head] + self.config.height - 1]
            col_sign = self._col_sign[self._cell_col[food] - self._cell_col[head] + self.config.width - 1]
        return self._feature_rows[feature_index(danger_bits, heading, row_sign, col_sign)].copy()

    def _view_obs(self) -> np.ndarray:
        return self._cells_array[self._view_cells[self._heading][self._body[-1]]]

    def _rgb_obs(self) -> np.ndarray:
        return render.observation_image(
            self._board.reshape(self.config.height, self.config.width), self.config.cell_size
        )

    # ------------------------------------------------------------------ randomness and food
    def _uniform(self) -> float:
        """The next uniform of this game's stream (drawn from np_random in blocks, see core)."""
        rng = self.np_random
        if self._uniform_pos == UNIFORM_BLOCK or self._uniform_source is not rng:
            self._uniforms = rng.random(UNIFORM_BLOCK).tolist()
            self._uniform_pos = 0
            self._uniform_source = rng
        u = self._uniforms[self._uniform_pos]
        self._uniform_pos += 1
        return u

    def _place_food(self, sorted_body: Sequence[int] | None = None) -> None:
        """Food on the k-th empty cell (row-major), k drawn uniformly: the rule of core.SnakeBatch.
        `sorted_body`, when the caller knows it, is the snake's cells in increasing order."""
        body = self._body
        k = int(self._uniform() * (self._area - len(body)))  # the draw rule of core
        if sorted_body is not None or len(body) <= SHORT_SNAKE:
            for occupied in sorted_body or sorted(body):  # skip the occupied cells at or before k
                if occupied > k:
                    break
                k += 1
            self._food = k
        else:
            self._food = int((self._board == EMPTY).nonzero()[0][k])
        self._cells[self._food] = FOOD

    # ------------------------------------------------------------------ checks
    def _checked_action(self, action: Any) -> int:
        """A Python int for any integer the action space contains; a ValueError otherwise."""
        if isinstance(action, np.integer) or (not isinstance(action, bool) and self.action_space.contains(action)):
            return int(action)  # its range is checked by the lookup in step()
        raise self._refusal(action)

    def _refusal(self, action: Any) -> Exception:
        if self._end == "reset":
            return gym.error.ResetNeeded("Call reset() before step().")
        if self._end:
            return gym.error.ResetNeeded(f"The episode is over ({self._end}); call reset() before step().")
        n = self.action_space.n
        return ValueError(
            f"action {action!r} is not in the action space Discrete({n}): expected an integer in "
            f"{action_meaning(n, self.config.action_mode)}"
        )

    # ------------------------------------------------------------------ derived state
    def _link(self) -> None:
        """(Re)build what is derived from the state: the board view, the observer and the moves."""
        self._cells_array = np.frombuffer(self._cells, dtype=np.uint8)  # the board and its wall cell
        self._board = self._cells_array[: self._area]
        grid: Callable[[], np.ndarray]
        if self._copy:
            grid = self._board.copy
        else:  # the same read-only view of the board every time, from a C-level callable
            board_view = self._board.view()
            board_view.flags.writeable = False
            grid = itertools.repeat(board_view).__next__
        view_cells = tables_for(self.config).view_cells
        if view_cells is not None:  # the (area, view_side**2) table of each heading
            self._view_cells = [view_cells[h % len(view_cells)] for h in range(4)]
        observers = {"grid": grid, "features": self._features_obs, "rgb": self._rgb_obs, "view": self._view_obs}
        observe = observers[self.config.obs_type]
        # every reset and step ends by observing; in "human" mode that is also when the window updates
        self._observe = self._render_and_observe if self.render_mode == "human" else observe
        self._observe_board = observe
        moves: list[dict[int, tuple]] = [{} for _ in range(4)]
        for heading in range(4):
            for action, new_heading in enumerate(self._turn[heading]):
                moves[heading][action] = (new_heading, self._next[new_heading], moves[new_heading])
        self._moves_by_heading = moves
        self._moves = {} if self._end else moves[self._heading]

    def _render_and_observe(self) -> np.ndarray:
        self.render()
        return self._observe_board()


# rebuilt by _link, not pickled
DERIVED_STATE = ("_cells_array", "_board", "_view_cells", "_observe", "_observe_board", "_moves_by_heading", "_moves")
