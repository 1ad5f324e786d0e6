"""The rules of snake, in one place, and the batched numpy engine that plays N games at once.

Everything that decides what happens in a game lives here and is shared by the scalar engine of
the single env (`gym_snake.single.SnakeGame`, played by `gym_snake.env.SnakeEnv`) and the vector env
(`gym_snake.vector.SnakeVectorEnv`):

- the constants: cell codes, directions, actions;
- `SnakeConfig`: every option, validated once;
- `SnakeTables`: lookup tables derived from a config (the cell a move leads to, the heading an action
  gives, the possible starts, the feature encoding), built once and shared read-only;
- the random-draw rule: each game consumes a stream of uniforms drawn in blocks of `UNIFORM_BLOCK`
  from its own `np.random.Generator` (`rng.random(UNIFORM_BLOCK)`), and a uniform u picks index
  `int(u * n)` of n choices; a reset takes one uniform for the start (an index into
  `SnakeTables.start_cells`) and one for the food, eating takes one for the next food (the k-th
  empty cell in row-major order);
- the reward rule (`SnakeTables.rewards`, indexed by `Outcome`);
- `SnakeBatch`: the state of N games as numpy arrays and a loop-free step over all of them
  (`gym_snake.compiled.CompiledSnakeBatch` steps the same arrays in compiled loops).

Why two engines: a numpy step costs tens of microseconds whatever the batch size (the vector env
at batch 1 makes 0.01-0.02M steps/s), so a single env built on a batch of one would be some 50x
slower than a plain Python step. The single env therefore
steps one game with Python ints, a `bytearray` board and a `deque` body, reading the same tables;
the vector env steps N games with `SnakeBatch`. The test suite checks, over thousands of random
steps and many seeds, for every observation type and option and both batched engines, that sub-env
i of the vector env equals a single env seeded `seed + i`, bit for bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from functools import lru_cache
from numbers import Real
from typing import TypeVar

import numpy as np

# ----------------------------------------------------------------------------- constants
# Cell codes of the board ("grid" observation). WALL appears in the engines' padding cell and in
# the "view" observation, for cells outside the board.
EMPTY, BODY, HEAD, FOOD, WALL = 0, 1, 2, 3, 4

# Headings, clockwise; also the absolute actions (action_mode="absolute", Discrete(4)).
UP, RIGHT, DOWN, LEFT = 0, 1, 2, 3
DIRECTION_NAMES = ("up", "right", "down", "left")
DIRECTION_DELTAS = ((-1, 0), (0, 1), (1, 0), (0, -1))  # (row, column) step of each heading

# Relative actions (action_mode="relative", Discrete(3)): turn left, keep going, turn right.
TURN_LEFT, STRAIGHT, TURN_RIGHT = 0, 1, 2
RELATIVE_ACTION_NAMES = ("turn left", "straight", "turn right")

OBS_TYPES = ("rgb", "grid", "features", "view")
ACTION_MODES = ("absolute", "relative")

UNIFORM_BLOCK = 64  # uniforms drawn from a game's generator at a time

# Size bounds, checked before anything is allocated (a bigger value raises ValueError naming it).
MAX_SIDE = 256  # width and height, in cells
MAX_CELL_SIZE = 64  # cell_size, pixels per cell of the "rgb" observation
MAX_RENDER_CELL_SIZE = 256  # render_cell_size, pixels per cell of rendered frames
MAX_IMAGE_PIXELS = 2**24  # pixels of one "rgb" observation or rendered frame (48 MiB of uint8 RGB)
MAX_VIEW_RADIUS = 32  # view_radius of the "view" observation
MAX_VIEW_TABLE = 2**24  # entries of the "view" lookup table: area x (2r+1)**2, x 4 headings when rotated
MAX_NUM_ENVS = 2**20  # games in one vector env
MAX_STEPS_WITHOUT_FOOD = 2**31 - 1  # far beyond any game; the compiled engine takes it as an int64 argument
MAX_BATCH_CELLS = 2**26  # board cells, and observation bytes, of all the games of a vector env


class Outcome:
    """What a step did to a game; indexes `SnakeTables.rewards`."""

    MOVE, EAT, WIN, DEATH = 0, 1, 2, 3


# The "features" observation: 11 float32 values in {0, 1}.
FEATURE_NAMES = (
    "danger_straight", "danger_left", "danger_right",
    "heading_up", "heading_right", "heading_down", "heading_left",
    "food_up", "food_right", "food_down", "food_left",
)  # fmt: skip
SIGN_NEGATIVE, SIGN_ZERO, SIGN_POSITIVE = 0, 1, 2  # how a food offset is encoded in a feature index


def _feature_table() -> np.ndarray:
    """Row `feature_index(danger_bits, heading, row_sign, col_sign)` is that feature vector."""
    table = np.zeros((8, 4, 3, 3, len(FEATURE_NAMES)), dtype=np.float32)
    for bits in range(8):
        for heading in range(4):
            for row_sign in range(3):
                for col_sign in range(3):
                    row = table[bits, heading, row_sign, col_sign]
                    row[0:3] = [(bits >> 2) & 1, (bits >> 1) & 1, bits & 1]
                    row[3 + heading] = 1.0
                    row[7] = row_sign == SIGN_NEGATIVE  # food in a row above the head
                    row[8] = col_sign == SIGN_POSITIVE  # ... in a column to the right
                    row[9] = row_sign == SIGN_POSITIVE
                    row[10] = col_sign == SIGN_NEGATIVE
    flat = table.reshape(-1, len(FEATURE_NAMES))
    flat.flags.writeable = False
    return flat


FEATURE_TABLE = _feature_table()


Index = TypeVar("Index", int, np.ndarray)


def feature_index(danger_bits: Index, heading: Index, row_sign: Index, col_sign: Index) -> Index:
    """The row of FEATURE_TABLE for danger bits (straight=4, left=2, right=1), a heading and the
    sign codes of the food's row and column offsets from the head. Works on ints and on arrays."""
    return ((danger_bits * 4 + heading) * 3 + row_sign) * 3 + col_sign


# ----------------------------------------------------------------------------- configuration
def require_int(name: str, value: object, minimum: int, maximum: int | None = None) -> int:
    """`value` as an int, or a ValueError naming `name`, the value and the allowed range."""
    allowed = f">= {minimum}" if maximum is None else f">= {minimum} and <= {maximum}"
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer {allowed}, got {value!r} of type {type(value).__name__}")
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be an integer {allowed}, got {value}")
    return int(value)


def _require_pixels(what: str, names: str, height: int, width: int) -> None:
    pixels = height * width
    if pixels > MAX_IMAGE_PIXELS:
        raise ValueError(
            f"{what} would be {height}x{width} = {pixels} pixels, more than the limit of {MAX_IMAGE_PIXELS} "
            f"(MAX_IMAGE_PIXELS); lower {names}"
        )


def _require_real(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a finite number, got {value!r} of type {type(value).__name__}")
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int beyond float's range
        finite = False
    if not finite:
        raise ValueError(f"{name} must be a finite number, got {value!r:.60}")
    return float(value)


def _require_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return str(value)


@dataclass(frozen=True)
class SnakeConfig:
    """Every option of a snake game, validated on construction (see `SnakeEnv` for their meaning).

    A wrong type or a value out of range raises `ValueError` naming the option, the value and what
    is allowed, before anything is allocated: `width` and `height` are at most `MAX_SIDE` (256),
    `cell_size` at most `MAX_CELL_SIZE` (64), `render_cell_size` at most `MAX_RENDER_CELL_SIZE`
    (256), `view_radius` at most `MAX_VIEW_RADIUS` (32) with a view lookup table of at most
    `MAX_VIEW_TABLE` (2**24) entries (see `view_table_entries`), and an "rgb" observation (and a
    rendered frame, checked by `check_frame_size` when the env renders images) has at most
    `MAX_IMAGE_PIXELS` (2**24) pixels.
    """

    width: int = 10
    height: int = 10
    initial_length: int = 3
    wrap_walls: bool = False
    action_mode: str = "absolute"
    obs_type: str = "rgb"
    view_radius: int = 5
    cell_size: int = 4
    render_cell_size: int = 32
    food_reward: float = 1.0
    death_reward: float = -1.0
    step_reward: float = 0.0
    win_reward: float = 0.0
    max_steps_without_food: int | None = None

    def __post_init__(self) -> None:
        set_field = object.__setattr__  # the dataclass is frozen; store the normalised values
        for name in ("width", "height"):
            set_field(self, name, require_int(name, getattr(self, name), 2, MAX_SIDE))
        set_field(self, "initial_length", require_int("initial_length", self.initial_length, 1))
        set_field(self, "cell_size", require_int("cell_size", self.cell_size, 1, MAX_CELL_SIZE))
        render_cell_size = require_int("render_cell_size", self.render_cell_size, 1, MAX_RENDER_CELL_SIZE)
        set_field(self, "render_cell_size", render_cell_size)
        for name in ("food_reward", "death_reward", "step_reward", "win_reward"):
            set_field(self, name, _require_real(name, getattr(self, name)))
        if not isinstance(self.wrap_walls, (bool, np.bool_)):
            raise ValueError(f"wrap_walls must be True or False, got {self.wrap_walls!r}")
        set_field(self, "wrap_walls", bool(self.wrap_walls))
        _require_choice("obs_type", self.obs_type, OBS_TYPES)
        _require_choice("action_mode", self.action_mode, ACTION_MODES)
        if self.max_steps_without_food is not None:
            limit = require_int("max_steps_without_food", self.max_steps_without_food, 0, MAX_STEPS_WITHOUT_FOOD)
            set_field(self, "max_steps_without_food", limit)
        set_field(self, "view_radius", require_int("view_radius", self.view_radius, 1, MAX_VIEW_RADIUS))
        if self.obs_type == "view" and self.view_table_entries > MAX_VIEW_TABLE:
            raise ValueError(
                f"obs_type='view' with view_radius={self.view_radius} on a {self.width}x{self.height} board needs a "
                f"lookup table of {self.view_table_entries} entries, more than the limit of {MAX_VIEW_TABLE} "
                f"(MAX_VIEW_TABLE); lower view_radius, width or height"
            )
        if self.obs_type == "rgb":
            c = self.cell_size
            _require_pixels("the rgb observation", "width, height or cell_size", self.height * c, self.width * c)
        longest_line = max(self.width, self.height)
        if self.initial_length + 1 > longest_line:
            raise ValueError(
                f"initial_length={self.initial_length} does not fit a {self.width}x{self.height} grid: the snake "
                f"starts straight with a free cell ahead, so it needs a row or column of {self.initial_length + 1} "
                f"cells; use initial_length <= {longest_line - 1} or a larger grid"
            )

    def check_frame_size(self) -> None:
        """Raise ValueError if a rendered frame (`render_cell_size` pixels a cell plus the border
        `gym_snake.render.frame` draws) would have more than `MAX_IMAGE_PIXELS` pixels."""
        c = self.render_cell_size
        border = 2 * max(2, c // 8)
        height, width = self.height * c + border, self.width * c + border
        _require_pixels("a rendered frame", "width, height or render_cell_size", height, width)

    @property
    def area(self) -> int:
        return self.width * self.height

    @property
    def view_side(self) -> int:
        """Rows and columns of the "view" window: 2 * view_radius + 1."""
        return 2 * self.view_radius + 1

    @property
    def view_headings(self) -> int:
        """Orientations of the "view" window: 4 when it turns with the snake (relative actions)."""
        return 4 if self.action_mode == "relative" else 1

    @property
    def view_table_entries(self) -> int:
        return self.view_headings * self.area * self.view_side**2

    @property
    def n_actions(self) -> int:
        return 4 if self.action_mode == "absolute" else 3

    @property
    def starvation_limit(self) -> int:
        """Steps without food after which an episode is truncated (0 = never; default: the area)."""
        return self.area if self.max_steps_without_food is None else self.max_steps_without_food

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


def observation_bytes(config: SnakeConfig) -> int:
    """Bytes of one game's observation."""
    if config.obs_type == "grid":
        return config.area
    if config.obs_type == "features":
        return len(FEATURE_NAMES) * 4
    if config.obs_type == "view":
        return config.view_side**2
    return config.area * config.cell_size**2 * 3


def check_batch_size(config: SnakeConfig, num_games: int) -> None:
    """Raise ValueError if `num_games` games of `config` exceed `MAX_BATCH_CELLS` board cells or
    observation bytes (checked before the batched engine allocates its arrays)."""
    for what, per_game in (("board cells", config.area + 2), ("observation bytes", observation_bytes(config))):
        if num_games * per_game > MAX_BATCH_CELLS:
            raise ValueError(
                f"num_envs={num_games} games of {per_game} {what} each make {num_games * per_game} {what}, more "
                f"than the limit of {MAX_BATCH_CELLS} (MAX_BATCH_CELLS); lower num_envs (at most "
                f"{MAX_BATCH_CELLS // per_game} here) or the board or observation size"
            )


# ----------------------------------------------------------------------------- tables
@dataclass(frozen=True, eq=False)
class SnakeTables:
    """Lookup tables for one configuration, read-only and shared by every game that uses it.

    Cells are numbered row-major (`cell = row * width + column`); cell `area` stands for "outside
    the board" (a WALL cell in both engines' boards).
    """

    config: SnakeConfig
    next_cell: np.ndarray  # (4, area) the cell a move in each heading leads to, or area (the wall)
    turn: np.ndarray  # (4, n_actions) the heading after an action, given the current heading
    start_cells: np.ndarray  # (n_starts, initial_length) cells of each possible start, head first
    start_heading: np.ndarray  # (n_starts,)
    cell_row: np.ndarray  # (area + 1,) row of each cell (the wall cell: 0, unused)
    cell_col: np.ndarray
    row_sign: np.ndarray  # (2 * height - 1,) sign code of a row offset (food row - head row + height - 1)
    col_sign: np.ndarray
    rewards: tuple[float, float, float, float]  # by Outcome
    view_cells: np.ndarray | None  # (view_headings, area, view_side**2): the "view" window's cells (or area)
    # the same tables as Python lists, for the single env's scalar engine
    next_cell_list: tuple[list[int], ...]
    turn_list: tuple[list[int], ...]
    start_list: tuple[tuple[tuple[int, ...], int, tuple[int, ...], tuple[int, ...]], ...]  # cells head first,
    # heading, cells tail first, cells sorted: what the single env needs to set up each start


def _next_cells(config: SnakeConfig) -> np.ndarray:
    rows, cols = np.divmod(np.arange(config.area), config.width)
    table = np.empty((4, config.area), dtype=np.int64)
    for heading, (dr, dc) in enumerate(DIRECTION_DELTAS):
        r, c = rows + dr, cols + dc
        if config.wrap_walls:
            table[heading] = (r % config.height) * config.width + c % config.width
        else:
            inside = (r >= 0) & (r < config.height) & (c >= 0) & (c < config.width)
            table[heading] = np.where(inside, r * config.width + c, config.area)
    return table


def _turn_table(action_mode: str) -> np.ndarray:
    heading = np.arange(4)[:, None]
    if action_mode == "absolute":
        action = np.arange(4)[None, :]
        # an action opposite to the heading is ignored: the snake cannot reverse into its neck
        return np.where(action == (heading + 2) % 4, heading, action)
    return (heading + np.array([-1, 0, 1])[None, :]) % 4  # turn left, straight, turn right


def _starts(config: SnakeConfig) -> tuple[np.ndarray, np.ndarray]:
    """Every straight placement of the snake whose body lies inside the board (no wrapping) with a
    free cell inside the board ahead of the head: the snake always survives its first step."""
    cells, headings = [], []
    length = config.initial_length
    for heading, (dr, dc) in enumerate(DIRECTION_DELTAS):
        for row in range(config.height):
            for col in range(config.width):
                line = [(row - k * dr, col - k * dc) for k in range(-1, length)]  # ahead, head, ..., tail
                if all(0 <= r < config.height and 0 <= c < config.width for r, c in line):
                    cells.append([r * config.width + c for r, c in line[1:]])
                    headings.append(heading)
    return np.array(cells, dtype=np.int64).reshape(-1, length), np.array(headings, dtype=np.int64)


def _view_cells(config: SnakeConfig) -> np.ndarray:
    """Row `[k, head]` lists, row-major, the cells of the view window around `head` (`area` where it
    leaves the board; on a torus it wraps). Window row a, column b (offsets -r..r from the centre)
    is the cell a rows behind and b columns right of the head as the snake sees it: for relative
    actions k is the heading and the window turns with it (ahead is up); otherwise k = 0, north up."""
    r, width, height = config.view_radius, config.width, config.height
    a, b = (offset.ravel() for offset in np.mgrid[-r : r + 1, -r : r + 1])
    rows, cols = np.divmod(np.arange(config.area), width)
    table = np.empty((config.view_headings, config.area, a.size), dtype=np.int32)
    for heading in range(config.view_headings):
        (ahead_r, ahead_c), (right_r, right_c) = DIRECTION_DELTAS[heading], DIRECTION_DELTAS[(heading + 1) % 4]
        r_ = rows[:, None] - a * ahead_r + b * right_r
        c_ = cols[:, None] - a * ahead_c + b * right_c
        if config.wrap_walls:
            table[heading] = (r_ % height) * width + c_ % width
        else:
            inside = (r_ >= 0) & (r_ < height) & (c_ >= 0) & (c_ < width)
            table[heading] = np.where(inside, r_ * width + c_, config.area)
    return table


def _sign_codes(size: int, wrap: bool) -> np.ndarray:
    offsets = np.arange(-(size - 1), size)
    if wrap:  # the shortest way round the torus; half-way counts as negative
        offsets = (offsets + size // 2) % size - size // 2
    return np.sign(offsets).astype(np.int64) + 1  # SIGN_NEGATIVE, SIGN_ZERO, SIGN_POSITIVE


def _readonly(*arrays: np.ndarray) -> None:
    for array in arrays:
        array.flags.writeable = False


@lru_cache(maxsize=32)
def tables_for(config: SnakeConfig) -> SnakeTables:
    """The tables of `config`, built once per configuration."""
    next_cell = _next_cells(config)
    turn = _turn_table(config.action_mode)
    start_cells, start_heading = _starts(config)
    cell_row = np.append(np.arange(config.area) // config.width, 0)
    cell_col = np.append(np.arange(config.area) % config.width, 0)
    row_sign = _sign_codes(config.height, config.wrap_walls)
    col_sign = _sign_codes(config.width, config.wrap_walls)
    _readonly(next_cell, turn, start_cells, start_heading, cell_row, cell_col, row_sign, col_sign)
    view_cells = _view_cells(config) if config.obs_type == "view" else None
    if view_cells is not None:
        _readonly(view_cells)
    rewards = (config.step_reward, config.food_reward, config.food_reward + config.win_reward, config.death_reward)
    return SnakeTables(
        config=config,
        next_cell=next_cell,
        turn=turn,
        start_cells=start_cells,
        start_heading=start_heading,
        cell_row=cell_row,
        cell_col=cell_col,
        row_sign=row_sign,
        col_sign=col_sign,
        rewards=rewards,
        view_cells=view_cells,
        next_cell_list=tuple(row.tolist() for row in next_cell),
        turn_list=tuple(row.tolist() for row in turn),
        start_list=tuple(
            (tuple(c.tolist()), int(h), tuple(c[::-1].tolist()), tuple(sorted(c.tolist())))
            for c, h in zip(start_cells, start_heading)
        ),
    )


# ----------------------------------------------------------------------------- batched engine
STATE_ROWS = ("head", "head_ptr", "tail_ptr", "length", "heading", "score", "since_food")  # rows of SnakeBatch.state
MAX_START_BOARDS = 2**22  # bytes of the board of every start, precomputed when at most this


def _start_boards(tables: SnakeTables, empty_row: np.ndarray) -> np.ndarray | None:
    """(n_starts, area + 2) uint8: the board of each start (no food), or None when too big."""
    starts = tables.start_cells
    if len(starts) * empty_row.size > MAX_START_BOARDS:
        return None
    boards = np.repeat(empty_row[None, :], len(starts), axis=0)
    np.put_along_axis(boards, starts, BODY, axis=1)
    boards[np.arange(len(starts)), starts[:, 0]] = HEAD
    boards.flags.writeable = False
    return boards


def _start_food(tables: SnakeTables) -> np.ndarray | None:
    """(n_starts, area - initial_length) int64: the k-th empty cell of each start's board, or None
    when too big (then a reset counts the snake cells before the drawn index instead)."""
    starts = tables.start_cells
    n_starts, length = starts.shape
    area = tables.config.area
    if n_starts * (area - length) * 8 > MAX_START_BOARDS:
        return None
    free = np.ones((n_starts, area), dtype=bool)
    np.put_along_axis(free, starts, False, axis=1)
    table = np.nonzero(free)[1].reshape(n_starts, area - length)
    table.flags.writeable = False
    return table


class SnakeBatch:
    """N snake games as numpy arrays, stepped together without a Python loop over games.

    State (game i in row i): `cells` (N, area + 2) uint8 board codes plus the wall and scratch
    cells; `body` (N, ring) a ring buffer (ring: the power of two >= area) of the snake's cells
    from `tail_ptr` to `head_ptr`; `head` (the head's cell), `length`, `heading`, `food` (cell, -1
    once the board is full), `score`, `since_food`.
    Game i draws its randomness from `rngs[i]` through a block of uniforms, exactly as a single
    env seeded like `rngs[i]` does. The only per-game Python loop refills those blocks, once every
    `UNIFORM_BLOCK` draws of a game.

    The hot path indexes flat views of `cells` and `body` with precomputed row offsets (one 1-D
    fancy index is several times cheaper than a 2-D one), looks the new heading and the target
    cell up in tables indexed by (heading, action), and keeps the common step (nobody eats) to a
    few dozen numpy operations on (N,) arrays; a reset looks its food cell up in a per-start table.
    At 1024 games each operation costs about a microsecond, so the cheapest spelling counts:
    `np.count_nonzero(mask)` tests a mask in a third of `mask.any()`'s time, `mask.nonzero()[0]`
    lists it in a quarter of `np.flatnonzero`'s.
    """

    # views of the rows of `state`, set by `_link` (one (N,) int64 array per name in STATE_ROWS)
    head: np.ndarray
    head_ptr: np.ndarray
    tail_ptr: np.ndarray
    length: np.ndarray
    heading: np.ndarray
    score: np.ndarray
    since_food: np.ndarray

    engine = "numpy"  # the name of this engine (`gym_snake.compiled.CompiledSnakeBatch`: "numba")

    def __init__(self, config: SnakeConfig, num_games: int) -> None:
        self.config = config
        self.tables = tables_for(config)
        self.num_games = n = num_games
        area = config.area
        self.cells = np.zeros((n, area + 2), dtype=np.uint8)
        self.cells[:, area] = WALL
        self.ring = 1 << (area - 1).bit_length()  # ring buffer size: a power of two, so wrapping is a mask
        self.body = np.zeros((n, self.ring), dtype=np.int64)
        # the per-game numbers, one row each (`head`, `head_ptr`, ... are views of the rows), so
        # that a reset sets them all with one fancy assignment from `_start_state`
        self.state = np.zeros((len(STATE_ROWS), n), dtype=np.int64)
        self.food = np.full(n, -1, dtype=np.int64)
        self.rngs: list[np.random.Generator | None] = [None] * n
        self.uniforms = np.zeros((n, UNIFORM_BLOCK), dtype=np.float64)
        self.uniform_pos = np.full(n, UNIFORM_BLOCK, dtype=np.int64)
        self._empty_row = self.cells[0].copy()  # an empty board and its wall cell
        self._starve_at = config.starvation_limit or np.iinfo(np.int64).max
        self._rewards = np.array(self.tables.rewards, dtype=np.float64)
        self._link()

    def _link(self) -> None:
        """Flat views and offsets of the state arrays (rebuilt after unpickling)."""
        n, area = self.num_games, self.config.area
        for name, row in zip(STATE_ROWS, self.state):
            setattr(self, name, row)
        self._cells_flat = self.cells.reshape(-1)
        self._body_flat = self.body.reshape(-1)
        self._uniforms_flat = self.uniforms.reshape(-1)
        self._cell_offset = np.arange(n, dtype=np.int64) * (area + 2)
        self._scratch = self._cell_offset + area + 1
        self._body_offset = np.arange(n, dtype=np.int64) * self.ring
        self._next_flat = self.tables.next_cell.reshape(-1)
        self._turn_flat = self.tables.turn.reshape(-1)
        # the cell each (heading, action) pair leads to from each cell: next_cell of the new heading
        self._target_table = self.tables.next_cell[self.tables.turn.reshape(-1)]  # (4 * n_actions, area)
        self._target_flat = self._target_table.reshape(-1)
        tables = self.tables
        self._view_windows = None
        config = self.config
        if config.obs_type == "view":
            assert tables.view_cells is not None  # tables_for builds it for the "view" observation
            self._view_table = tables.view_cells
        if config.obs_type == "view" and not config.wrap_walls and config.view_headings == 1:
            # the boards inside a WALL border of view_radius cells, and every window of it as a view
            r, side = config.view_radius, config.view_side
            padded = np.full((n, config.height + 2 * r, config.width + 2 * r), WALL, dtype=np.uint8)
            self._view_inside = padded[:, r : r + config.height, r : r + config.width]
            self._view_windows = np.lib.stride_tricks.sliding_window_view(padded, (side, side), axis=(1, 2))
            self._games_range = np.arange(n)
        self._start_boards = _start_boards(tables, self._empty_row)
        self._start_sorted = np.sort(tables.start_cells, axis=1)
        self._start_food = _start_food(tables)
        self._start_tail_first = np.ascontiguousarray(tables.start_cells[:, ::-1])
        length, n_starts = tables.start_cells.shape[1], len(tables.start_cells)
        self._start_state = np.zeros((len(STATE_ROWS), n_starts), dtype=np.int64)
        start_values = {
            "head": tables.start_cells[:, 0],
            "head_ptr": length - 1,
            "length": length,
            "heading": tables.start_heading,
        }
        for name, value in start_values.items():
            self._start_state[STATE_ROWS.index(name)] = value

    def __getstate__(self) -> dict:
        derived = (
            "_cells_flat",
            "_body_flat",
            "_uniforms_flat",
            "_target_flat",
            "_target_table",
            "_start_sorted",
            "_start_food",
            "_start_tail_first",
            "_start_state",
            "_start_boards",
            "_view_table",
            "_view_windows",
            "_view_inside",
            "_games_range",
            *STATE_ROWS,
        )
        return {k: v for k, v in self.__dict__.items() if k not in derived}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._link()

    # --------------------------------------------------------------- randomness
    def set_rng(self, game: int | np.integer, rng: np.random.Generator) -> None:
        """Give game `game` a new generator (its pending uniforms are dropped)."""
        self.rngs[game] = rng
        self.uniform_pos[game] = UNIFORM_BLOCK

    def _draw(self, games: np.ndarray, count: int = 1) -> np.ndarray:
        """The next `count` uniforms of each of `games` (distinct indices), from each game's own
        stream: shape (m,) for one, (count, m) for more (row j: the j-th draw of every game)."""
        pos = self.uniform_pos[games]
        short = pos > UNIFORM_BLOCK - count
        if np.count_nonzero(short):  # these games run out of their block during this draw: take them one at a time
            values = np.empty((count, games.size))
            for k in short.nonzero()[0].tolist():
                values[:, k] = [self._draw_one(int(games[k])) for _ in range(count)]
            long = ~short
            flat = games[long] * UNIFORM_BLOCK + pos[long]
            self.uniform_pos[games[long]] = pos[long] + count
            for j in range(count):
                values[j, long] = self._uniforms_flat[flat + j]
            return values[0] if count == 1 else values
        self.uniform_pos[games] = pos + count
        flat = games * UNIFORM_BLOCK + pos
        if count == 1:
            return self._uniforms_flat[flat]
        return self._uniforms_flat[flat + np.arange(count)[:, None]]

    def _draw_one(self, game: int) -> float:
        """The next uniform of one game (refilling its block when it is used up)."""
        pos = int(self.uniform_pos[game])
        if pos == UNIFORM_BLOCK:
            self.uniforms[game] = self.rngs[game].random(UNIFORM_BLOCK)  # type: ignore[union-attr]
            pos = 0
        self.uniform_pos[game] = pos + 1
        return float(self.uniforms[game, pos])

    # --------------------------------------------------------------- reset and food
    def reset_games(self, games: np.ndarray) -> None:
        """Start new games in rows `games`: a random straight start, then a random food cell."""
        if games.size == 0:
            return
        tables = self.tables
        draws = self._draw(games, 2)  # the start, then the food
        choice = (draws[0] * len(tables.start_cells)).astype(np.int64)
        length = tables.start_cells.shape[1]
        rows = self._cell_offset[games]
        if self._start_boards is not None:
            self.cells[games] = self._start_boards[choice]
        else:
            snake = tables.start_cells[choice]  # (m, length), head first
            self.cells[games] = self._empty_row
            self._cells_flat[(rows[:, None] + snake).ravel()] = BODY
            self._cells_flat[rows + snake[:, 0]] = HEAD
        self.body[games, :length] = self._start_tail_first[choice]
        self.state[:, games] = self._start_state[:, choice]
        # the food: the k-th empty cell, k drawn as in _place_food; on a fresh board that is k plus
        # the number of snake cells at or before it (scanned in increasing order)
        food = (draws[1] * (self.config.area - length)).astype(np.int64)
        if self._start_food is not None:
            food = self._start_food[choice, food]
        else:
            for occupied in self._start_sorted[choice].T:
                food += occupied <= food
        self.food[games] = food
        self._cells_flat[rows + food] = FOOD

    def _place_food(self, games: np.ndarray) -> None:
        """Put food on a uniformly drawn empty cell (the k-th in row-major order) of each game."""
        if games.size == 0:
            return
        area = self.config.area
        free_count = area - self.length[games]
        k = (self._draw(games) * free_count).astype(np.int64)
        free_cells = np.flatnonzero(self.cells[games, :area] == EMPTY)  # row by row, each row sorted
        first_of_row = np.cumsum(free_count) - free_count
        position = free_cells[first_of_row + k] - np.arange(games.size) * area
        self.food[games] = position
        self._cells_flat[self._cell_offset[games] + position] = FOOD

    # --------------------------------------------------------------- step
    def step(
        self, actions: np.ndarray, moving: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Advance the games where `moving` is True by one move (the others are left untouched).

        Returns (reward, dead, win, starved, terminated) arrays, each False where not `moving`.
        """
        area = self.config.area
        cells, body, rows, body_rows = self._cells_flat, self._body_flat, self._cell_offset, self._body_offset

        pair = self.heading * self.config.n_actions
        pair += actions
        heading = self._turn_flat[pair]
        pair *= area
        pair += self.head
        target = self._target_flat[pair]
        tail = body[body_rows + self.tail_ptr]
        target_at = rows + target
        code = cells[target_at]
        eat = code == FOOD
        eat &= moving
        plain = code == BODY
        plain &= target == tail
        plain |= code == EMPTY
        plain &= moving
        move = plain | eat
        dead = moving ^ move

        # the order of these writes makes a length-1 snake and tail-chasing come out right
        scratch = self._scratch
        cells[np.where(move, rows + self.head, scratch)] = BODY
        tail += rows
        cells[np.where(plain, tail, scratch)] = EMPTY
        cells[np.where(move, target_at, scratch)] = HEAD
        mask = self.ring - 1
        self.head_ptr += move
        self.head_ptr &= mask
        np.copyto(self.head, target, where=move)
        body[body_rows + self.head_ptr] = self.head
        self.tail_ptr += plain
        self.tail_ptr &= mask
        np.copyto(self.heading, heading, where=moving)
        self.since_food += plain
        starved = self.since_food >= self._starve_at
        starved &= plain
        outcome = dead.view(np.uint8) * np.uint8(Outcome.DEATH)
        terminated = dead.copy()  # not the same array as `dead`: both are returned to the user
        win = np.zeros_like(dead)
        eaters = eat.nonzero()[0]
        if eaters.size:  # small index arrays from here on: few games eat in one step
            self.since_food[eaters] = 0
            self.length[eaters] += 1
            self.score[eaters] += 1
            outcome[eaters] = Outcome.EAT
            full = self.length[eaters] == area
            if np.count_nonzero(full):
                winners = eaters[full]
                win[winners] = terminated[winners] = True
                outcome[winners] = Outcome.WIN
                self.food[winners] = -1
                eaters = eaters[~full]
            self._place_food(eaters)
        return self._rewards[outcome], dead, win, starved, terminated

    # --------------------------------------------------------------- observations
    def heads(self) -> np.ndarray:
        """(N,) the head cell of each game."""
        return self.head

    def snake(self, game: int) -> list[int]:
        """The cells of game `game`'s snake, head first."""
        order = (self.head_ptr[game] - np.arange(self.length[game])) % self.ring
        return self.body[game, order].tolist()

    def grid(self) -> np.ndarray:
        """(N, area) uint8 copy of the boards."""
        return self.cells[:, : self.config.area].copy()

    def view(self, out: np.ndarray | None = None) -> np.ndarray:
        """(N, view_side**2) uint8: each game's view window (see `_view_cells`), written into `out`
        when given."""
        if self._view_windows is not None:  # north-up, walls outside: a window of the padded boards
            np.copyto(self._view_inside, self.cells[:, : self.config.area].reshape(self._view_inside.shape))
            rows, cols = np.divmod(self.head, self.config.width)
            windows = self._view_windows[self._games_range, rows, cols]  # (N, side, side), a copy
            if out is None:
                return windows.reshape(self.num_games, -1)
            out[...] = windows.reshape(self.num_games, -1)
            return out
        table = self._view_table
        heads = self.heads()
        cells = table[self.heading, heads] if table.shape[0] == 4 else table[0][heads]
        cells += self._cell_offset[:, None]  # a fresh int32 array (the batch has < 2**31 cells): to each game's row
        return np.take(self._cells_flat, cells, out=out)

    def features(self) -> np.ndarray:
        """(N, 11) float32 feature vectors (see FEATURE_NAMES)."""
        tables, cells, rows, area = self.tables, self._cells_flat, self._cell_offset, self.config.area
        head = self.heads()
        tail = self._body_flat[self._body_offset + self.tail_ptr]
        danger_bits = np.zeros(self.num_games, dtype=np.int64)
        for turn in (0, 3, 1):  # straight, left, right (heading offsets, clockwise)
            target = self._next_flat[(self.heading + turn) % 4 * area + head]
            code = cells[rows + target]
            deadly = (code == WALL) | ((code == BODY) & (target != tail))
            danger_bits = danger_bits * 2 + deadly
        food = np.where(self.food >= 0, self.food, head)
        height, width = self.config.height, self.config.width
        row_sign = tables.row_sign[tables.cell_row[food] - tables.cell_row[head] + height - 1]
        col_sign = tables.col_sign[tables.cell_col[food] - tables.cell_col[head] + width - 1]
        return FEATURE_TABLE[feature_index(danger_bits, self.heading, row_sign, col_sign)]
