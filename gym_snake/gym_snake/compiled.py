"""The compiled batched engine: `CompiledSnakeBatch`, a `SnakeBatch` whose step, resets and "view"
observation are loops over the games compiled by numba, on the same arrays.

Installed with `pip install "rlsuite-snake[fast]"` (numba); without numba the vector env uses the numpy
engine (`choose_engine("auto")` picks this one when numba imports). Both follow the rules of
`gym_snake.core` exactly: the tests play every option with both engines against the single env, bit
for bit.

Why a second batched engine: the numpy step is a few dozen whole-batch operations whatever happens
in a game, about a microsecond each at 1024 games, so the step costs some 300 us however simple it
is. A compiled loop does each game's few reads and writes directly (some 30 ns a game here), as C
engines such as PufferLib's snake do (`benchmarks/snake_bench.py` measures the two side by side).

Randomness: the kernels read each game's block of uniforms (`SnakeBatch.uniforms`) but cannot call
its `np.random.Generator`; a game whose block runs out in the middle of a reset or a food draw is
listed in `pending`, and the caller finishes it with uniforms drawn by `SnakeBatch._draw_one`, which
refills the block. Both engines therefore draw the same uniforms in the same order from the same
generators.

The first call compiles the kernels (a few seconds); numba caches the result next to this file (or in
its user cache folder when this folder is read-only).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gym_snake.core import BODY, EMPTY, FOOD, HEAD, STATE_ROWS, UNIFORM_BLOCK, Outcome, SnakeBatch, _require_choice

try:
    import numba

    AVAILABLE = True
except ImportError:  # the numpy engine is used instead
    AVAILABLE = False

MOVE, EAT, WIN, DEATH = Outcome.MOVE, Outcome.EAT, Outcome.WIN, Outcome.DEATH  # module constants for numba
ENGINES = ("auto", "numpy", "numba")
HEAD_ROW, HEAD_PTR, TAIL_PTR, LENGTH, HEADING, SCORE, SINCE_FOOD = (
    STATE_ROWS.index(name) for name in ("head", "head_ptr", "tail_ptr", "length", "heading", "score", "since_food")
)


def _jit(function: Callable[..., Any]) -> Any:
    """numba's compiled form of `function` (caching the machine code on disk where numba finds a
    writable place, else compiling in each process), or `function` itself when numba is not
    installed (then nothing calls it: the numpy engine is chosen)."""
    if not AVAILABLE:
        return function
    try:
        return numba.njit(cache=True, nogil=True, boundscheck=False)(function)
    except RuntimeError:  # "cannot cache function ...: no locator available" (read-only install and home)
        return numba.njit(nogil=True, boundscheck=False)(function)


@_jit
def place_food(cells: np.ndarray, food: np.ndarray, game: int, uniform: float, free_cells: int) -> None:
    """Put game `game`'s food on its k-th (from 0) empty cell in row-major order, k = int(uniform * free_cells)."""
    k = np.int64(uniform * free_cells)
    area = cells.shape[1] - 2
    for cell in range(area):
        if cells[game, cell] == EMPTY:
            if k == 0:
                food[game] = cell
                cells[game, cell] = FOOD
                return
            k -= 1


@_jit
def step_games(
    cells: np.ndarray,
    body: np.ndarray,
    state: np.ndarray,
    food: np.ndarray,
    uniforms: np.ndarray,
    uniform_pos: np.ndarray,
    turn: np.ndarray,
    target_of: np.ndarray,
    rewards: np.ndarray,
    starve_at: int,
    actions: np.ndarray,
    moving: np.ndarray,
    reward: np.ndarray,
    dead: np.ndarray,
    win: np.ndarray,
    starved: np.ndarray,
    terminated: np.ndarray,
    pending: np.ndarray,
) -> int:
    """`SnakeBatch.step` for every game (outputs written into the last six arrays); returns how many
    games, listed first in `pending`, ate but could not draw their next food (their block ran out)."""
    n_games, area = actions.shape[0], cells.shape[1] - 2
    n_actions, ring_mask = turn.shape[1], body.shape[1] - 1
    n_pending = 0
    for game in range(n_games):
        dead[game] = win[game] = starved[game] = terminated[game] = False
        reward[game] = rewards[MOVE]
        if not moving[game]:
            continue
        heading, head = state[HEADING, game], state[HEAD_ROW, game]
        action = actions[game]
        state[HEADING, game] = turn[heading, action]
        target = target_of[heading * n_actions + action, head]
        tail = body[game, state[TAIL_PTR, game]]
        code = cells[game, target]
        eat = code == FOOD
        plain = code == EMPTY or (code == BODY and target == tail)
        if not (eat or plain):
            dead[game] = terminated[game] = True
            reward[game] = rewards[DEATH]
            continue
        # the order of these writes makes a length-1 snake and tail-chasing come out right
        cells[game, head] = BODY
        if plain:
            cells[game, tail] = EMPTY
        cells[game, target] = HEAD
        head_ptr = (state[HEAD_PTR, game] + 1) & ring_mask
        state[HEAD_PTR, game] = head_ptr
        state[HEAD_ROW, game] = target
        body[game, head_ptr] = target
        if plain:
            state[TAIL_PTR, game] = (state[TAIL_PTR, game] + 1) & ring_mask
            state[SINCE_FOOD, game] += 1
            starved[game] = state[SINCE_FOOD, game] >= starve_at
            continue
        state[SINCE_FOOD, game] = 0
        state[LENGTH, game] += 1
        state[SCORE, game] += 1
        reward[game] = rewards[EAT]
        if state[LENGTH, game] == area:
            win[game] = terminated[game] = True
            reward[game] = rewards[WIN]
            food[game] = -1
            continue
        pos = uniform_pos[game]
        if pos == UNIFORM_BLOCK:
            pending[n_pending] = game
            n_pending += 1
            continue
        uniform_pos[game] = pos + 1
        place_food(cells, food, game, uniforms[game, pos], area - state[LENGTH, game])
    return n_pending


@_jit
def reset_game(
    cells: np.ndarray,
    body: np.ndarray,
    state: np.ndarray,
    food: np.ndarray,
    start_cells: np.ndarray,
    start_heading: np.ndarray,
    game: int,
    start_uniform: float,
    food_uniform: float,
) -> None:
    """Start a new game in row `game`: start number int(start_uniform * n_starts), then its food."""
    area = cells.shape[1] - 2
    n_starts, length = start_cells.shape
    choice = np.int64(start_uniform * n_starts)
    cells[game, :area] = EMPTY
    cells[game, area + 1] = EMPTY  # the scratch cell, as the numpy engine's empty board has it
    for k in range(length):  # the board head first, the ring buffer tail first
        cells[game, start_cells[choice, k]] = BODY
        body[game, k] = start_cells[choice, length - 1 - k]
    cells[game, start_cells[choice, 0]] = HEAD
    state[HEAD_ROW, game] = start_cells[choice, 0]
    state[HEAD_PTR, game] = length - 1
    state[TAIL_PTR, game] = 0
    state[LENGTH, game] = length
    state[HEADING, game] = start_heading[choice]
    state[SCORE, game] = 0
    state[SINCE_FOOD, game] = 0
    place_food(cells, food, game, food_uniform, area - length)


@_jit
def reset_games(
    cells: np.ndarray,
    body: np.ndarray,
    state: np.ndarray,
    food: np.ndarray,
    uniforms: np.ndarray,
    uniform_pos: np.ndarray,
    start_cells: np.ndarray,
    start_heading: np.ndarray,
    games: np.ndarray,
    pending: np.ndarray,
) -> int:
    """`reset_game` for each of `games`, drawing from their blocks; returns how many of them, listed
    first in `pending`, were left alone (fewer than two uniforms left in their block)."""
    n_pending = 0
    for game in games:
        pos = uniform_pos[game]
        if pos > UNIFORM_BLOCK - 2:
            pending[n_pending] = game
            n_pending += 1
            continue
        uniform_pos[game] = pos + 2
        reset_game(
            cells, body, state, food, start_cells, start_heading, game, uniforms[game, pos], uniforms[game, pos + 1]
        )
    return n_pending


@_jit
def view_windows(cells: np.ndarray, table: np.ndarray, state: np.ndarray, out: np.ndarray) -> None:
    """`SnakeBatch.view`: row `game` of `out` gets the cells `table[heading or 0, head]` of its board
    (the wall cell, `area`, for cells outside it)."""
    turns = table.shape[0] == 4  # the window turns with the snake (relative actions)
    for game in range(out.shape[0]):
        window = table[state[HEADING, game] if turns else 0, state[HEAD_ROW, game]]
        for j in range(window.shape[0]):
            out[game, j] = cells[game, window[j]]


# ----------------------------------------------------------------------------- the engine
def choose_engine(engine: object) -> type[SnakeBatch]:
    """The batched engine `engine` names: "numba" (`CompiledSnakeBatch`; needs numba) or "numpy"
    (`SnakeBatch`); "auto" is numba when it is installed, else numpy."""
    engine = _require_choice("engine", engine, ENGINES)
    if engine == "numba" and not AVAILABLE:
        raise ValueError(
            'engine="numba" needs numba, which is not installed: pip install "rlsuite-snake[fast]" '
            '(or engine="numpy", or "auto" to use numba only when it is there)'
        )
    return CompiledSnakeBatch if engine != "numpy" and AVAILABLE else SnakeBatch


class CompiledSnakeBatch(SnakeBatch):
    """`SnakeBatch` with its step, resets and "view" observation done by the kernels above."""

    engine = "numba"

    def _link(self) -> None:
        super()._link()
        self._pending = np.empty(self.num_games, dtype=np.int64)  # games a kernel left to the code below

    def __getstate__(self) -> dict:
        return {k: v for k, v in super().__getstate__().items() if k != "_pending"}

    def reset_games(self, games: np.ndarray) -> None:
        tables = self.tables
        n_pending = reset_games(
            self.cells, self.body, self.state, self.food, self.uniforms, self.uniform_pos,
            tables.start_cells, tables.start_heading, games, self._pending,
        )  # fmt: skip
        for game in self._pending[:n_pending].tolist():  # short of uniforms: refill, one game at a time
            start, food = self._draw_one(game), self._draw_one(game)
            reset_game(
                self.cells, self.body, self.state, self.food, tables.start_cells, tables.start_heading,
                game, start, food,
            )  # fmt: skip

    def step(
        self, actions: np.ndarray, moving: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        n = self.num_games
        reward = np.empty(n)
        dead, win, starved, terminated = (np.empty(n, dtype=bool) for _ in range(4))
        n_pending = step_games(
            self.cells, self.body, self.state, self.food, self.uniforms, self.uniform_pos,
            self.tables.turn, self._target_table, self._rewards, self._starve_at,
            actions, moving, reward, dead, win, starved, terminated, self._pending,
        )  # fmt: skip
        for game in self._pending[:n_pending].tolist():  # eaters whose block ran out: refill it
            free_cells = self.config.area - int(self.length[game])
            place_food(self.cells, self.food, game, self._draw_one(game), free_cells)
        return reward, dead, win, starved, terminated

    def view(self, out: np.ndarray | None = None) -> np.ndarray:
        if out is None:
            out = np.empty((self.num_games, self.config.view_side**2), dtype=np.uint8)
        view_windows(self.cells, self._view_table, self.state, out)
        return out
