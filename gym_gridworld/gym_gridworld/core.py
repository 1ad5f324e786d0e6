"""The grid engine shared by gridworld-v0 and pacman-v0.

Cells are numbered row-major ("flat" indices), so a position is one integer and a batch of positions
is one integer array. `Grid` holds the static geometry (walls, where each move leads, maze
distances from one cell); `WorldDraws` gives each world of a batch its own seeded stream of random integers without
a per-world Python call on the hot path; `choose_unoccupied` draws free cells for a batch of worlds.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium.utils import seeding

# Actions, in the order of the tutorial this suite grows from.
UP, DOWN, LEFT, RIGHT = 0, 1, 2, 3
ACTION_NAMES = ("up", "down", "left", "right")
N_ACTIONS = 4
ROW_COL_STEPS = ((-1, 0), (1, 0), (0, -1), (0, 1))  # (row, col) change of each action
REVERSE = (DOWN, UP, RIGHT, LEFT)  # the opposite of each direction

UNREACHABLE = np.iinfo(np.int32).max


class Grid:
    """Static geometry of a rectangular grid of cells, some of them walls.

    Attributes:
        height, width: size in cells; `n_cells = height * width`.
        walls: flat bool array, True for a wall.
        next_cell: `(n_cells, 4)` array: the cell reached by each action from each cell. A move into a
            wall or off the grid stays put, so movement of a whole batch is one table look-up.
        moves: per cell, the `(direction, cell)` pairs of the moves that leave it (for ghosts).
    """

    def __init__(self, walls: np.ndarray) -> None:
        walls = np.asarray(walls, dtype=bool)
        if walls.ndim != 2 or walls.size == 0:
            raise ValueError(f"walls must be a non-empty 2-D array, got shape {walls.shape}")
        self.height, self.width = walls.shape
        self.n_cells = walls.size
        self.walls = walls.ravel().copy()
        self.walls.flags.writeable = False
        self.next_cell = self._move_table()
        self.moves: tuple[tuple[tuple[int, int], ...], ...] = tuple(
            tuple((d, target) for d, target in enumerate(row) if target != c)
            for c, row in enumerate(self.next_cell.tolist())
        )

    def _move_table(self) -> np.ndarray:
        rows, cols = np.divmod(np.arange(self.n_cells), self.width)
        table = np.empty((self.n_cells, N_ACTIONS), dtype=np.intp)
        for action, (dr, dc) in enumerate(ROW_COL_STEPS):
            r, c = rows + dr, cols + dc
            inside = (r >= 0) & (r < self.height) & (c >= 0) & (c < self.width)
            target = np.where(inside, r * self.width + c, 0)
            blocked = ~inside | self.walls[target]
            table[:, action] = np.where(blocked, np.arange(self.n_cells), target)
        table.flags.writeable = False
        return table

    def cell(self, row: int, col: int) -> int:
        """The flat index of (row, col)."""
        return row * self.width + col

    def reachable(self, start: int) -> np.ndarray:
        """Flat bool mask of the cells reachable from `start` through open cells."""
        return self.distances_from(start) != UNREACHABLE

    def distances_from(self, start: int) -> np.ndarray:
        """Breadth-first maze distance from `start` to every cell (UNREACHABLE for walls and sealed cells)."""
        distance = np.full(self.n_cells, UNREACHABLE, dtype=np.int32)
        distance[start] = 0
        queue = deque([start])
        while queue:
            cell = queue.popleft()
            for _, neighbour in self.moves[cell]:
                if distance[neighbour] == UNREACHABLE:
                    distance[neighbour] = distance[cell] + 1
                    queue.append(neighbour)
        return distance


MAX_NUM_ENVS = 2**16  # worlds (or games) of one vector env
MAX_BATCH_BYTES = 2**30  # observation bytes of one batch: num_envs x one observation's bytes


def check_batch_bytes(num_envs: int, observation_bytes: int, what: str) -> None:
    """A ValueError unless `num_envs` observations of `observation_bytes` each fit in `MAX_BATCH_BYTES`;
    `what` names the sub-envs ("worlds", "games")."""
    if num_envs * observation_bytes > MAX_BATCH_BYTES:
        raise ValueError(
            f"num_envs={num_envs} {what} of {observation_bytes} observation bytes exceed the limit of "
            f"{MAX_BATCH_BYTES} bytes per batch: at most {MAX_BATCH_BYTES // observation_bytes} {what} with these "
            "arguments"
        )


def check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    """`value` as an int, or a ValueError naming `name`, the value and the allowed range if it is not
    an integer in `low..high` (no upper bound if `high` is None; bools are refused)."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, (bool, np.bool_)) or value < low:
        allowed = f">= {low}" if high is None else f"in {low}..{high}"
        raise ValueError(f"{name} must be an integer {allowed}, got {value!r}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be an integer in {low}..{high}, got {value!r} (limit {high})")
    return int(value)


def check_number(name: str, value: Any) -> float:
    """`value` as a float, or a ValueError if it is not a finite number (bools are refused)."""
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    try:
        number = float(value)  # a Python int beyond float's range raises OverflowError
    except OverflowError:
        number = float("inf")
    if not np.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return number


def check_action(action: Any, n_actions: int = N_ACTIONS) -> int:
    """`action` as a Python int, or a ValueError naming the allowed values (no float, bool or str)."""
    if type(action) is int and 0 <= action < n_actions:  # the common case, checked first for speed
        return action
    if isinstance(action, np.ndarray) and action.shape == () and action.dtype.kind in "iu":
        action = action.item()
    if isinstance(action, (int, np.integer)) and not isinstance(action, (bool, np.bool_)) and 0 <= action < n_actions:
        return int(action)
    names = ", ".join(f"{i} {name}" for i, name in enumerate(ACTION_NAMES[:n_actions]))
    raise ValueError(f"invalid action {action!r}: expected an integer in 0..{n_actions - 1} ({names})")


def check_actions(actions: Any, n_worlds: int, n_actions: int = N_ACTIONS) -> np.ndarray:
    """A batch of actions as an intp array of shape (n_worlds,), or a ValueError naming the problem."""
    array = np.asarray(actions)
    if array.shape != (n_worlds,) or array.dtype.kind not in "iu":
        raise ValueError(
            f"actions must be an integer array of shape ({n_worlds},), got {array.dtype} array of shape {array.shape}"
        )
    if n_worlds and array.view(f"u{array.itemsize}").max() >= n_actions:  # negatives wrap to huge values
        bad = array[(array < 0) | (array >= n_actions)]
        raise ValueError(f"invalid actions {bad.tolist()}: expected integers in 0..{n_actions - 1}")
    return array.astype(np.intp, copy=False)


class WorldDraws:
    """Uniform random integers for a batch of worlds, each world drawing from its own Generator.

    World i's draws depend only on its generator, so a batch of worlds seeded `seed + i` draws exactly
    what single worlds seeded `seed + i` draw: the vector env equals the single env by construction.
    Each generator refills a buffer of `buffer_size` values at a time, so a batch step takes its
    draws with array indexing; only the rare refill loops over worlds. A value is a 32-bit random
    integer k stored as k / 2**32, so `floor(value * bound)` is exactly `(k * bound) >> 32`, a uniform
    integer below `bound` (bias under bound / 2**32) for any bound below 2**21.
    """

    def __init__(self, n_worlds: int, buffer_size: int = 256) -> None:
        self.generators: list[np.random.Generator | None] = [None] * n_worlds
        # position-major: worlds draw at similar rates, so a batch's draws lie close together in memory
        self.buffer = np.zeros((buffer_size, n_worlds), dtype=np.float64)
        self.used = np.full(n_worlds, buffer_size, dtype=np.intp)  # all used: refill before the first draw

    def set_generator(self, world: int, generator: np.random.Generator) -> None:
        """Draw world `world`'s values from `generator` from now on (buffered values are dropped)."""
        self.generators[world] = generator
        self.used[world] = self.buffer.shape[0]

    def below(self, worlds: np.ndarray, bound: int | np.ndarray) -> np.ndarray:
        """One uniform integer in `[0, bound)` for each world of `worlds` (distinct indices)."""
        return (self.uniforms(worlds) * bound).astype(np.intp)

    def uniforms(self, worlds: np.ndarray) -> np.ndarray:
        """One uniform float in `[0, 1)` (a multiple of 2**-32) for each world of `worlds` (distinct indices)."""
        position = self.used[worlds]
        exhausted = position == self.buffer.shape[0]
        if np.count_nonzero(exhausted):
            for world in worlds[exhausted].tolist():
                self._refill(world)
            position = self.used[worlds]
        self.used[worlds] = position + 1
        return self.buffer[position, worlds]

    def one(self, world: int, bound: int) -> int:
        """`below` for a single world, in plain Python (what the single env draws, just faster)."""
        return int(self.uniform(world) * bound)

    def uniform(self, world: int) -> float:
        """`uniforms` for a single world, in plain Python."""
        position = self.used[world]
        if position == self.buffer.shape[0]:
            self._refill(world)
            position = 0
        self.used[world] = position + 1
        return float(self.buffer[position, world])

    def _refill(self, world: int) -> None:
        generator = self.generators[world]
        if generator is None:
            raise RuntimeError(f"world {world} has no random generator; reset with a seed first")
        integers = generator.integers(0, 2**32, size=self.buffer.shape[0], dtype=np.uint64)
        self.buffer[:, world] = integers * 2.0**-32
        self.used[world] = 0


def choose_unoccupied(occupied: np.ndarray, n_cells: int, draws: WorldDraws, worlds: np.ndarray) -> np.ndarray:
    """For each world of `worlds`, a cell drawn uniformly from `0..n_cells-1` minus its row of
    `occupied` (an `(len(worlds), m)` array of distinct cells): one draw per world.

    The draw k picks the k-th free cell (from 0). With the occupied cells sorted, `cell - i` counts
    the free cells before the i-th of them; the k-th free cell lies past exactly those occupied cells
    whose count is at most k, so it is k plus their number: no loop over worlds or cells. A single
    world (the single env) takes the same steps in plain Python, several times faster at that size."""
    n_free = n_cells - occupied.shape[1]
    if len(worlds) == 1:
        k = draws.one(int(worlds[0]), n_free)
        for taken in sorted(occupied[0].tolist()):
            k += taken <= k
        return np.array([k], dtype=np.intp)
    free_before = np.sort(occupied, axis=1) - np.arange(occupied.shape[1])
    ks = draws.below(worlds, n_free)
    return ks + (free_before <= ks[:, None]).sum(axis=1)


def seed_worlds(draws: WorldDraws, seed: int | Sequence[int | None] | None) -> None:
    """Seed the generators of a vector env's worlds for `reset(seed=...)`: world i gets `seed + i` for an
    int, the i-th entry for a list; unseeded worlds keep their generator (fresh entropy the first time)."""
    n = len(draws.generators)
    if seed is None:
        seeds: list[int | None] = [None] * n
    elif isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        seeds = [int(seed) + i for i in range(n)]
    elif isinstance(seed, (list, tuple)) and len(seed) == n:
        seeds = list(seed)
    else:
        raise ValueError(f"seed must be None, an int or a list of {n} ints/None, got {seed!r}")
    for world, world_seed in enumerate(seeds):
        if world_seed is not None or draws.generators[world] is None:
            draws.set_generator(world, seeding.np_random(world_seed)[0])
