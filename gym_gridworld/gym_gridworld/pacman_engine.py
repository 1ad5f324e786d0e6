"""Pac-man's rules and ghost AI for a batch of games, as array operations (no Python loop over games).

`PacmanBatch` holds the state of N games of one maze in numpy arrays (one row per game) and steps
them together: the vector env (`pacman_vector.PacmanVectorEnv`) is a batch of N. The only Python
loops of a step are over the ghosts of the maze (they move one after another, as in the rules) and,
rarely, over games whose buffer of random numbers ran out (`core.WorldDraws`).

`PacmanGame` is the same rules for one game in plain Python (numpy calls on arrays of one element
cost more than the whole scalar step): the single env (`pacman.PacmanEnv`) runs it. Both draw the
same random numbers in the same order, and tests check them equal step for step (sub-env i of the
vector env against a single env seeded `seed + i`, on every layout, with random actions).

`Maze` is what every game of one layout shares: the move table, ghost homes, scatter corners and
`DistanceMaps`, the maze distances the ghosts steer by. Their memory is linear in the board for
large boards (a distance map per target cell, computed when first needed and kept in a bounded
cache) and a dense table of at most `DENSE_MAX_ENTRIES` entries for small ones.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from gym_gridworld.core import (
    LEFT,
    N_ACTIONS,
    REVERSE,
    UNREACHABLE,
    Grid,
    WorldDraws,
    check_int,
    check_number,
)
from gym_gridworld.layout import Layout, check_layout_shape

# Cell kinds of the board (what stays put) and of the drawn picture (what moves, drawn over the board).
EMPTY, WALL, PELLET, POWER = 0, 1, 2, 3
PACMAN = 4  # + heading (0 up, 1 down, 2 left, 3 right): 4..7
GHOST = 8  # + colour (ghost index % 4): 8..11
FRIGHTENED, EYES = 12, 13
N_KINDS = 14
N_GHOST_COLORS = 4

# Ghost states
NORMAL, SCARED, EATEN = 0, 1, 2
PERSONALITIES = ("chaser", "ambusher", "wanderer", "shy")  # ghost i has PERSONALITIES[i % 4]
CHASER, AMBUSHER, WANDERER, SHY = range(4)
SCATTER_STEPS, CHASE_STEPS = 7, 20  # the mode cycle, counted from the start of each life
AMBUSH_LOOKAHEAD = 4  # cells ahead of pac-man that the ambusher aims for
SHY_DISTANCE = 4  # the shy ghost chases only while farther than this (maze distance)

DEFAULT_REWARDS = {
    "pellet": 1.0,
    "power_pellet": 5.0,
    "ghost": 10.0,
    "clear": 50.0,
    "death": -20.0,
    "step": 0.0,
}

DENSE_MAX_ENTRIES = 2**21  # a maze with n_open * n_cells up to this keeps all its distances (8 MB of int32)
MAX_RULE_COUNT = 2**31 - 1  # lives and frightened_steps: counters of the vector engine's integer arrays
SPARSE_CACHE_MAPS = 64  # larger mazes keep the distance maps of this many target cells (LRU)

_REVERSE = np.array(REVERSE, dtype=np.intp)
_NOT_AN_OPTION = np.int64(2**40)  # beyond any distance, UNREACHABLE included


@dataclass(frozen=True)
class Rules:
    """The game's numbers, checked: see `PacmanEnv` for their meaning."""

    lives: int = 3
    frightened_steps: int = 20
    ghost_randomness: float = 0.2
    rewards: tuple[tuple[str, float], ...] = tuple(DEFAULT_REWARDS.items())

    @classmethod
    def checked(
        cls, lives: Any = 3, frightened_steps: Any = 20, ghost_randomness: Any = 0.2, rewards: Any = None
    ) -> Rules:
        """Rules from user arguments, or a ValueError naming the argument, the value and what is allowed."""
        lives, frightened_steps = (
            check_int("lives", lives, 1, MAX_RULE_COUNT),
            check_int("frightened_steps", frightened_steps, 1, MAX_RULE_COUNT),
        )
        if not 0.0 <= check_number("ghost_randomness", ghost_randomness) <= 1.0:
            raise ValueError(f"ghost_randomness must be a probability in [0, 1], got {ghost_randomness!r}")
        return cls(lives, frightened_steps, float(ghost_randomness), tuple(merge_rewards(rewards).items()))


def merge_rewards(rewards: Any) -> dict[str, float]:
    """`DEFAULT_REWARDS` updated by `rewards` (None or a dict of some of its keys), checked."""
    if rewards is None:
        rewards = {}
    if not isinstance(rewards, dict):
        raise ValueError(
            f"rewards must be a dict (or None) mapping some of {sorted(DEFAULT_REWARDS)} to numbers, "
            f"got {type(rewards).__name__} {rewards!r}"
        )
    merged = dict(DEFAULT_REWARDS)
    for key, value in rewards.items():
        if key not in DEFAULT_REWARDS:
            raise ValueError(f"unknown reward {key!r}; the rewards are {sorted(DEFAULT_REWARDS)}")
        merged[key] = check_number(f"rewards[{key!r}]", value)
    return merged


# ----------------------------------------------------------------------------- the maze
def bfs_distances(next_cell: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """`(len(sources), n_cells)` int32 maze distances from each source to every cell (UNREACHABLE for
    walls and sealed cells): a breadth-first search from all sources at once, one array step per ring,
    each step linear in the ring's size."""
    n_cells = next_cell.shape[0]
    size = len(sources) * n_cells
    distances = np.full(size, UNREACHABLE, dtype=np.int32)
    writer = np.empty(size, dtype=np.intp)  # which candidate of a ring wrote a cell: keeps one of duplicates
    front = np.arange(len(sources)) * n_cells + np.asarray(sources, dtype=np.intp)
    distances[front] = 0
    ring = 0
    while front.size:
        ring += 1
        offsets = front - front % n_cells
        reached = (next_cell[front % n_cells] + offsets[:, None]).ravel()
        reached = reached[distances[reached] == UNREACHABLE]
        writer[reached] = np.arange(len(reached))
        front = reached[writer[reached] == np.arange(len(reached))]
        distances[front] = ring
    return distances.reshape(len(sources), n_cells)


class DistanceMaps:
    """Maze distances from target cells to any cells, `between(targets, cells)`.

    A maze with `n_open * n_cells <= DENSE_MAX_ENTRIES` computes the whole table at once (one
    batched breadth-first search); a larger one computes the map of a target cell when it is first
    asked for and keeps the last `SPARSE_CACHE_MAPS` maps, so memory stays linear in the board."""

    def __init__(self, next_cell: np.ndarray, walls: np.ndarray) -> None:
        self.next_cell = next_cell
        open_cells = np.flatnonzero(~walls)
        self.table: np.ndarray | None = None
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._rows: list[list[int]] | None = None
        if len(open_cells) * len(walls) <= DENSE_MAX_ENTRIES:
            self.row_of = np.full(len(walls), -1, dtype=np.intp)
            self.row_of[open_cells] = np.arange(len(open_cells))
            self.table = bfs_distances(next_cell, open_cells)
            self.table.flags.writeable = False

    def between(self, targets: np.ndarray, cells: np.ndarray) -> np.ndarray:
        """Distances from `targets` (shape `(k,)`, open cells) to `cells` (shape `(k,)` or `(k, m)`)."""
        targets = np.asarray(targets, dtype=np.intp)
        if self.table is not None:
            rows = self.row_of[targets]
            return self.table[rows[:, None] if cells.ndim == 2 else rows, cells]
        out = np.empty(cells.shape, dtype=np.int32)
        for target in np.unique(targets).tolist():
            chosen = targets == target
            out[chosen] = self._map(target)[cells[chosen]]
        return out

    def row(self, target: int) -> Any:
        """The distances from `target` to every cell, for scalar look-ups (`row(t)[cell]`)."""
        if self.table is None:
            return self._map(target)
        if self._rows is None:
            self._rows = self.table.tolist()  # Python lists: several times faster to index one by one
        return self._rows[self.row_of[target]]

    def _map(self, target: int) -> np.ndarray:
        found = self._cache.get(target)
        if found is None:
            found = self._cache[target] = bfs_distances(self.next_cell, np.array([target]))[0]
            if len(self._cache) > SPARSE_CACHE_MAPS:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(target)
        return found


class Maze:
    """What every game of one layout shares: geometry, start positions, scatter corners, distances,
    and look-up tables of the ghosts' moves (all linear in the board but `steer`, see below).

    A heading index `h` is a ghost's heading + 1 (0: no heading yet, so every move is allowed):
    `forward[cell, h]` the moves a ghost may take (not back, unless at a dead end), `n_forward` their
    number, `kth_forward[cell, h, k]` the k-th of them; `ahead[cell, heading]` the cell
    `AMBUSH_LOOKAHEAD` moves ahead. `steer[row_of[target], cell, h]` is the move of `forward[cell, h]`
    nearest to `target` (first on ties), kept only with the dense distance table (None otherwise)."""

    def __init__(self, layout: Layout) -> None:
        check_layout_shape(layout.walls.shape, len(layout.ghosts), layout.name)
        self.grid = grid = Grid(layout.walls)
        self.height, self.width, self.n_cells = grid.height, grid.width, grid.n_cells
        self.next_cell = next_cell = grid.next_cell
        cells = np.arange(grid.n_cells)
        options = next_cell != cells[:, None]
        self.n_moves = options.sum(axis=1)
        self.walled_in_home = any(self.n_moves[grid.cell(*g)] == 0 for g in layout.ghosts)  # a ghost that never moves
        self.pacman_start = grid.cell(*layout.player)
        self.homes = np.array([grid.cell(*g) for g in layout.ghosts], dtype=np.intp)
        self.corners = corner_cells(grid)
        board = np.select([layout.walls, layout.pellets, layout.power_pellets], [WALL, PELLET, POWER], EMPTY)
        self.start_board = board.ravel().astype(np.int8)
        self.n_pellets = int(np.count_nonzero(self.start_board >= PELLET))
        self.distances = DistanceMaps(next_cell, grid.walls)

        backwards = np.arange(N_ACTIONS)[None, :] == _REVERSE[:, None]  # (heading, move): the move turns back
        forward = options[:, None, :] & ~np.concatenate([np.zeros((1, N_ACTIONS), bool), backwards])[None]
        self.forward = np.where(forward.any(axis=2, keepdims=True), forward, options[:, None, :])
        self.n_forward = self.forward.sum(axis=2)
        ranks = np.cumsum(self.forward, axis=2) - 1  # rank of each allowed move among the allowed ones
        self.kth_forward = np.zeros((grid.n_cells, N_ACTIONS + 1, N_ACTIONS), dtype=np.intp)
        c, h, d = np.nonzero(self.forward)
        self.kth_forward[c, h, ranks[c, h, d]] = d
        ahead = np.repeat(cells[:, None], N_ACTIONS, axis=1)
        for _ in range(AMBUSH_LOOKAHEAD):
            ahead = next_cell[ahead, np.arange(N_ACTIONS)]
        self.ahead = ahead
        self.steer: np.ndarray | None = None
        if self.distances.table is not None:
            to_neighbours = self.distances.table[:, next_cell].astype(np.int64)  # (targets, cells, moves)
            steer = np.empty((len(to_neighbours), grid.n_cells, N_ACTIONS + 1), dtype=np.int8)
            for facing in range(N_ACTIONS + 1):
                steer[:, :, facing] = np.argmin(
                    np.where(self.forward[None, :, facing], to_neighbours, _NOT_AN_OPTION), axis=2
                )
            self.steer = steer
        for table in (
            self.start_board,
            self.n_moves,
            self.forward,
            self.n_forward,
            self.kth_forward,
            self.ahead,
            self.steer,
        ):
            if table is not None:
                table.flags.writeable = False
        # the same tables as Python lists, for the scalar look-ups of `PacmanGame`
        self.next_cell_list: list[list[int]] = next_cell.tolist()
        self.moves = grid.moves
        self.homes_list: list[int] = self.homes.tolist()
        self.corners_list: list[int] = self.corners.tolist()

    def steer_towards(self, targets: np.ndarray, cells: np.ndarray, h: np.ndarray) -> np.ndarray:
        """For each game, the move of `forward[cell, h]` nearest to its target (first on ties)."""
        if self.steer is not None:
            return self.steer[self.distances.row_of[targets], cells, h]
        distance = self.distances.between(targets, self.next_cell[cells])
        return np.argmin(np.where(self.forward[cells, h], distance, _NOT_AN_OPTION), axis=1)


_MAZES: OrderedDict[str, Maze] = OrderedDict()
MAZE_CACHE_SIZE = 8


def maze_of(layout: Layout) -> Maze:
    """The Maze of `layout`, computed once per layout text and shared by every game of it (the last
    `MAZE_CACHE_SIZE` layouts are kept)."""
    maze = _MAZES.get(layout.text)
    if maze is None:
        maze = _MAZES[layout.text] = Maze(layout)
        if len(_MAZES) > MAZE_CACHE_SIZE:
            _MAZES.popitem(last=False)
    return maze


def corner_cells(grid: Grid) -> np.ndarray:
    """The open cells nearest to the top-right, top-left, bottom-right and bottom-left corners
    (the scatter targets of the chaser, ambusher, wanderer and shy ghosts, as in the arcade)."""
    open_cells = np.flatnonzero(~grid.walls)
    rows, cols = np.divmod(open_cells, grid.width)
    corners = ((0, grid.width - 1), (0, 0), (grid.height - 1, grid.width - 1), (grid.height - 1, 0))
    return np.array([open_cells[np.argmin(np.abs(rows - r) + np.abs(cols - c))] for r, c in corners], dtype=np.intp)


# ----------------------------------------------------------------------------- the games
class PacmanBatch:
    """The state of `n_games` games of one layout, and the rules that step them together.

    Per game: `board` (cell kinds EMPTY/WALL/PELLET/POWER, flat), `pellets_left`, `lives`, `win`,
    `over`, `pacman` (cell) and `heading`, `clock` (steps since the life began), `frightened_left`,
    `ghost_streak`; per ghost and game (ghost first): `ghost_cells`, `ghost_headings` (-1 before the
    first move), `ghost_states` (NORMAL, SCARED, EATEN). Game i draws its random numbers from
    generator i of `draws`, in the same order as `PacmanGame` does: a game's trajectory depends only on
    its seed and actions, not on the batch.
    """

    def __init__(self, layout: Layout, rules: Rules, n_games: int, draw_buffer: int | None = None) -> None:
        self.layout, self.rules, self.n_games = layout, rules, n_games
        self.maze = maze = maze_of(layout)
        n, g = n_games, len(maze.homes)
        self.n_ghosts = g
        self.board = np.zeros((n, maze.n_cells), dtype=np.int8)
        self.pellets_left = np.zeros(n, dtype=np.int64)
        self.lives = np.zeros(n, dtype=np.int64)
        self.win = np.zeros(n, dtype=bool)
        self.over = np.zeros(n, dtype=bool)
        self.pacman = np.zeros(n, dtype=np.intp)
        self.heading = np.zeros(n, dtype=np.intp)
        self.clock = np.zeros(n, dtype=np.int64)
        self.frightened_left = np.zeros(n, dtype=np.int64)
        self.ghost_streak = np.zeros(n, dtype=np.int64)
        self.ghost_cells = np.zeros((g, n), dtype=np.intp)
        self.ghost_headings = np.zeros((g, n), dtype=np.intp)
        self.ghost_states = np.zeros((g, n), dtype=np.intp)
        # an even size: the same stream as PacmanGame's; each refill is a Python call per game, so the
        # buffer holds up to 16 MiB of draws (2048 per game at 1024 games: 1.3x the steps/s of 512)
        buffer_size = draw_buffer or min(4096, max(512, 2**21 // max(n, 1) // 2 * 2))
        self.draws = WorldDraws(n, buffer_size=buffer_size)
        self._rewards = dict(rules.rewards)
        self._all = np.arange(n)
        self._board_offsets = self._all * maze.n_cells
        self._no_game = np.zeros(n, dtype=bool)
        self._no_game.flags.writeable = False

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["maze"] = None  # shared tables: rebuilt (or found in the cache) on load
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.maze = maze_of(self.layout)

    # ------------------------------------------------------------------ reset
    def reset(self, games: np.ndarray) -> None:
        """Start new episodes in `games` (an index array)."""
        self.board[games] = self.maze.start_board
        self.pellets_left[games] = self.maze.n_pellets
        self.lives[games] = self.rules.lives
        self.win[games] = self.over[games] = False
        self._start_life(games)

    def _start_life(self, games: np.ndarray) -> None:
        """Pac-man and the ghosts back to their start cells (pellets stay as they are)."""
        if not games.size:
            return
        self.pacman[games], self.heading[games] = self.maze.pacman_start, LEFT
        self.ghost_cells[:, games] = self.maze.homes[:, None]
        self.ghost_headings[:, games] = -1
        self.ghost_states[:, games] = NORMAL
        self.frightened_left[games] = self.ghost_streak[games] = self.clock[games] = 0

    # ------------------------------------------------------------------ step
    def step(self, actions: np.ndarray, active: np.ndarray) -> np.ndarray:
        """Step the games where the bool mask `active` is True (none of them over) with `actions`
        (checked ints); the others stay as they are. The rewards, 0 where inactive."""
        rewards = self._rewards
        reward = np.where(active, rewards["step"], 0.0)
        self.clock += active
        moved = self.maze.next_cell[self.pacman, actions]
        self.heading = np.where(active & (moved != self.pacman), actions, self.heading)
        self.pacman = np.where(active, moved, self.pacman)

        on_board = self._board_offsets + self.pacman  # flat indices into board: faster than board[games, cells]
        board = self.board.reshape(-1)
        kind = board[on_board]
        pellet, power = active & (kind == PELLET), active & (kind == POWER)
        eaten = pellet | power
        reward += pellet * rewards["pellet"] + power * rewards["power_pellet"]
        board[on_board] = np.where(eaten, EMPTY, kind)
        self.pellets_left -= eaten
        if np.count_nonzero(power):
            self._frighten(power)
        cleared = active & (self.pellets_left == 0)
        if np.count_nonzero(cleared):
            reward += cleared * rewards["clear"]
            self.win |= cleared
            self.over |= cleared

        playing = active & ~cleared
        playing &= ~self._meet(playing, range(self.n_ghosts), reward)
        self._scatter = (self.clock - 1) % (SCATTER_STEPS + CHASE_STEPS) < SCATTER_STEPS
        self._slow = self.clock % 2 == 1  # frightened ghosts rest on odd steps
        moving = playing.copy()
        for g in range(self.n_ghosts):
            moved_ghost = self._move_ghost(g, moving)
            moving &= ~self._meet(moved_ghost, (g,), reward)
        self._tick_fright(playing)
        return reward

    def _frighten(self, games: np.ndarray) -> None:
        """A power pellet in `games` (bool mask): every ghost not eaten turns back, frightened."""
        self.frightened_left[games] = self.rules.frightened_steps
        self.ghost_streak[games] = 0
        scared = games & (self.ghost_states != EATEN)
        self.ghost_states[scared] = SCARED
        turn = scared & (self.ghost_headings >= 0)
        self.ghost_headings[turn] = _REVERSE[self.ghost_headings[turn]]

    def _tick_fright(self, games: np.ndarray) -> None:
        counting = games & (self.frightened_left > 0)
        if np.count_nonzero(counting):
            self.frightened_left -= counting
            ended = counting & (self.frightened_left == 0)
            self.ghost_states[ended & (self.ghost_states == SCARED)] = NORMAL

    def _meet(self, games: np.ndarray, ghosts: Any, reward: np.ndarray) -> np.ndarray:
        """Resolve pac-man meeting each of `ghosts` (in order) on its cell in `games` (bool mask):
        a frightened ghost is eaten, a normal one costs a life (and ends the check for that game).
        Adds to `reward`; returns the bool mask of games that lost a life."""
        died = self._no_game
        checking = games
        for g in ghosts:
            met = self.ghost_cells[g] == self.pacman
            if not np.count_nonzero(met):  # the common case: nobody met, two array operations
                continue
            state = self.ghost_states[g]
            met &= checking & (state != EATEN)
            if not np.count_nonzero(met):
                continue
            eats = met & (state == SCARED)
            if np.count_nonzero(eats):
                reward += np.where(eats, self._rewards["ghost"] * 2.0**self.ghost_streak, 0.0)
                self.ghost_streak += eats
                state[eats] = EATEN
            hit = met & ~eats
            if np.count_nonzero(hit):
                reward += hit * self._rewards["death"]
                self.lives -= hit
                self.over |= hit & (self.lives == 0)
                self._start_life((hit & (self.lives > 0)).nonzero()[0])
                died = died | hit
                checking = checking & ~hit
        return died

    def _move_ghost(self, g: int, games: np.ndarray) -> np.ndarray:
        """Move ghost g one cell in `games` (bool mask); frightened ghosts only every other step,
        eyes home by the shortest path. The bool mask of games where it moved."""
        maze, home = self.maze, self.maze.homes[g]
        state, cell, heading = self.ghost_states[g], self.ghost_cells[g], self.ghost_headings[g]
        scared = state == SCARED
        any_scared = np.count_nonzero(scared)
        going = games & (maze.n_moves[cell] > 0) if maze.walled_in_home else games.copy()
        if any_scared:
            going &= ~(scared & self._slow)
        eyes = going & (state == EATEN)
        any_eyes = np.count_nonzero(eyes)
        if any_eyes:
            revived = eyes & (cell == home)  # eaten at home: whole again, moves next step
            state[revived] = NORMAL
            going &= ~revived
            eyes &= ~revived
        h = heading + 1
        target = self._target(g, cell)
        if any_scared:
            target[scared] = -1
        if any_eyes:
            h[eyes] = 0  # eyes may turn back
            target[eyes] = home
        aimless = target < 0
        random_turn = going & aimless
        if self.rules.ghost_randomness > 0.0:
            asks = (going & ~random_turn & ~eyes if any_eyes else going & ~random_turn).nonzero()[0]
            random_turn[asks] = self.draws.uniforms(asks) < self.rules.ghost_randomness
        target[aimless] = home  # any open cell: these games turn at random
        direction = maze.steer_towards(target, cell, h)
        if np.count_nonzero(random_turn):
            turning = random_turn.nonzero()[0]
            at, facing = cell[turning], h[turning]
            k = self.draws.below(turning, maze.n_forward[at, facing])
            direction[turning] = maze.kth_forward[at, facing, k]
        arrived = maze.next_cell[cell, direction]
        np.copyto(cell, arrived, where=going)
        np.copyto(heading, direction, where=going)
        if any_eyes:
            state[eyes & (arrived == home)] = NORMAL
        return going

    def _target(self, g: int, ghost_cells: np.ndarray) -> np.ndarray:
        """The cell ghost g heads for in each game, -1 to turn at random."""
        maze = self.maze
        corner = maze.corners[g % len(maze.corners)]
        personality = g % len(PERSONALITIES)
        if personality == CHASER:
            target = self.pacman
        elif personality == AMBUSHER:
            target = maze.ahead[self.pacman, self.heading]
        elif personality == WANDERER:
            target = np.full(self.n_games, -1, dtype=np.intp)
        else:
            far = maze.distances.between(self.pacman, ghost_cells) > SHY_DISTANCE
            target = np.where(far, self.pacman, corner)
        return np.where(self._scatter, corner, target)

    # ------------------------------------------------------------------ what is seen
    def kinds(self) -> np.ndarray:
        """`(n_games, height, width)` int8 cell kinds: the board, then eyes, pac-man and ghosts over it."""
        kinds = self.board.copy()
        games = self._all
        for g in range(self.n_ghosts):
            eyes = self.ghost_states[g] == EATEN
            kinds[games[eyes], self.ghost_cells[g, eyes]] = EYES
        kinds[games, self.pacman] = PACMAN + self.heading
        for g in range(self.n_ghosts):
            state = self.ghost_states[g]
            whole = state != EATEN
            drawn = np.where(state == SCARED, FRIGHTENED, GHOST + g % N_GHOST_COLORS)
            kinds[games[whole], self.ghost_cells[g, whole]] = drawn[whole]
        return kinds.reshape(self.n_games, self.maze.height, self.maze.width)


class PacmanGame:
    """One game: the rules of `PacmanBatch` for a batch of one, in plain Python (see the module doc).

    The same fields as `PacmanBatch` for one game, as Python ints and lists (`board` is an int8 array).
    """

    def __init__(self, layout: Layout, rules: Rules) -> None:
        self.layout, self.rules = layout, rules
        self.maze = maze_of(layout)
        self.n_ghosts = len(self.maze.homes_list)
        self.draws = WorldDraws(1)
        self._rewards = dict(rules.rewards)
        self.reset()

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["maze"] = None  # shared tables: rebuilt (or found in the cache) on load
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.maze = maze_of(self.layout)

    def reset(self) -> None:
        self.board = self.maze.start_board.copy()
        self.pellets_left, self.lives = self.maze.n_pellets, self.rules.lives
        self.win = self.over = False
        self._start_life()

    def _start_life(self) -> None:
        self.pacman, self.heading = self.maze.pacman_start, LEFT
        self.ghost_cells = list(self.maze.homes_list)
        self.ghost_headings = [-1] * self.n_ghosts
        self.ghost_states = [NORMAL] * self.n_ghosts
        self.frightened_left = self.ghost_streak = self.clock = 0

    def step(self, action: int) -> float:
        """One step with a checked action (the game must not be over); the reward."""
        rewards = self._rewards
        self._reward = rewards["step"]
        self.clock += 1
        moved = self.maze.next_cell_list[self.pacman][action]
        if moved != self.pacman:
            self.pacman, self.heading = moved, action
        kind = self.board[moved]
        if kind in (PELLET, POWER):
            self.board[moved] = EMPTY
            self.pellets_left -= 1
            if kind == PELLET:
                self._reward += rewards["pellet"]
            else:
                self._reward += rewards["power_pellet"]
                self._frighten()
        if self.pellets_left == 0:
            self._reward += rewards["clear"]
            self.win = self.over = True
        elif not self._meet(range(self.n_ghosts)):
            for g in range(self.n_ghosts):
                if self._move_ghost(g) and self._meet((g,)):
                    break
            self._tick_fright()
        return self._reward

    def _frighten(self) -> None:
        self.frightened_left, self.ghost_streak = self.rules.frightened_steps, 0
        for g in range(self.n_ghosts):
            if self.ghost_states[g] != EATEN:
                self.ghost_states[g] = SCARED
                if self.ghost_headings[g] >= 0:
                    self.ghost_headings[g] = REVERSE[self.ghost_headings[g]]

    def _tick_fright(self) -> None:
        if self.frightened_left:
            self.frightened_left -= 1
            if not self.frightened_left:
                self.ghost_states = [NORMAL if s == SCARED else s for s in self.ghost_states]

    def _meet(self, ghosts: Any) -> bool:
        """Resolve pac-man meeting any of `ghosts` on its cell; True if that cost a life."""
        for g in ghosts:
            if self.ghost_cells[g] != self.pacman or self.ghost_states[g] == EATEN:
                continue
            if self.ghost_states[g] == SCARED:
                self._reward += self._rewards["ghost"] * 2.0**self.ghost_streak
                self.ghost_streak += 1
                self.ghost_states[g] = EATEN
                continue
            self._reward += self._rewards["death"]
            self.lives -= 1
            if self.lives == 0:
                self.over = True
            else:
                self._start_life()
            return True
        return False

    def _move_ghost(self, g: int) -> bool:
        """Move ghost g one cell (frightened ghosts only every other step); True if it moved."""
        maze = self.maze
        state, cell, heading = self.ghost_states[g], self.ghost_cells[g], self.ghost_headings[g]
        if state == SCARED and self.clock % 2:
            return False
        options = maze.moves[cell]
        if not options:  # walled in
            return False
        if state == EATEN:
            home = maze.homes_list[g]
            if cell == home:  # eaten at home: whole again, moves next step
                self.ghost_states[g] = NORMAL
                return False
            direction, cell = self._towards(options, home)
            if cell == home:
                self.ghost_states[g] = NORMAL
        else:
            forward = [move for move in options if move[0] != REVERSE[heading]] if heading >= 0 else options
            forward = forward or options  # a dead end: turning back is the only way
            target = -1 if state == SCARED else self._target(g)
            p = self.rules.ghost_randomness
            if target < 0 or (p > 0.0 and self.draws.uniform(0) < p):
                direction, cell = forward[self.draws.one(0, len(forward))]
            else:
                direction, cell = self._towards(forward, target)
        self.ghost_cells[g], self.ghost_headings[g] = cell, direction
        return True

    def _target(self, g: int) -> int:
        """The cell ghost g heads for, or -1 to turn at random."""
        maze = self.maze
        corner = maze.corners_list[g % len(maze.corners_list)]
        if (self.clock - 1) % (SCATTER_STEPS + CHASE_STEPS) < SCATTER_STEPS:
            return corner
        personality = g % len(PERSONALITIES)
        if personality == CHASER:
            return self.pacman
        if personality == AMBUSHER:
            ahead = self.pacman
            for _ in range(AMBUSH_LOOKAHEAD):
                ahead = maze.next_cell_list[ahead][self.heading]
            return ahead
        if personality == WANDERER:
            return -1
        far = maze.distances.row(self.pacman)[self.ghost_cells[g]] > SHY_DISTANCE
        return self.pacman if far else corner

    def _towards(self, options: Any, target: int) -> tuple[int, int]:
        """The (direction, cell) of `options` nearest to `target` by maze distance (first on ties)."""
        distances = self.maze.distances.row(target)
        return min(options, key=lambda move: distances[move[1]])

    def kinds(self) -> np.ndarray:
        """`(height, width)` int8 cell kinds, as `PacmanBatch.kinds` draws them."""
        kinds = self.board.copy()
        for g, state in enumerate(self.ghost_states):
            if state == EATEN:
                kinds[self.ghost_cells[g]] = EYES
        kinds[self.pacman] = PACMAN + self.heading
        for g, state in enumerate(self.ghost_states):
            if state != EATEN:
                kinds[self.ghost_cells[g]] = FRIGHTENED if state == SCARED else GHOST + g % N_GHOST_COLORS
        return kinds.reshape(self.maze.height, self.maze.width)
