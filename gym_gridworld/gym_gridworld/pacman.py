"""pacman-v0: a pac-man-like maze game on the grid engine of gym_gridworld.core."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any, NamedTuple, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from gym_gridworld import render
from gym_gridworld.core import LEFT, N_ACTIONS, REVERSE, Grid, check_action, check_int, check_number
from gym_gridworld.layout import WALL_CHAR, Layout, load_layout

# Cell kinds of the board (what stays put) and of the drawn frame (what moves, drawn over the board).
EMPTY, WALL, PELLET, POWER = 0, 1, 2, 3
PACMAN = 4  # + heading (0 up, 1 down, 2 left, 3 right): 4..7
GHOST = 8  # + colour (ghost index % 4): 8..11
FRIGHTENED, EYES = 12, 13
N_KINDS = 14

# Ghost states
NORMAL, SCARED, EATEN = 0, 1, 2
PERSONALITIES = ("chaser", "ambusher", "wanderer", "shy")  # ghost i has PERSONALITIES[i % 4]
SCATTER_STEPS, CHASE_STEPS = 7, 20  # the mode cycle, counted from the start of each life
AMBUSH_LOOKAHEAD = 4  # cells ahead of pac-man that the ambusher aims for
SHY_DISTANCE = 4  # the shy ghost chases only while farther than this (maze distance)

GRID_CHANNELS = ("wall", "pellet", "power_pellet", "pacman", "ghost", "frightened_ghost", "eaten_ghost")
OBS_TYPES = ("rgb", "grid")
IMAGE_SIZE = 84
RENDER_CELL = 24
DEFAULT_REWARDS = {"pellet": 1.0, "power_pellet": 5.0, "ghost": 10.0, "clear": 50.0, "death": -20.0, "step": 0.0}
ANSI_CHARS = " %.o^v<>GGGGFe"

BLACK = (0, 0, 0)
WALL_BLUE = (33, 33, 222)
PELLET_COLOR = (255, 184, 151)
YELLOW = (255, 255, 0)
GHOST_COLORS = ((255, 0, 0), (255, 184, 255), (0, 255, 255), (255, 184, 82))  # red, pink, cyan, orange
FRIGHTENED_COLOR = (200, 200, 255)
EYE_WHITE, PUPIL = (255, 255, 255), (33, 33, 222)


class PacmanEnv(render.RenderModes, gym.Env[np.ndarray, int]):
    """A pac-man-like maze game: eat every pellet, avoid the ghosts, eat them after a power pellet.

    ## Description
    Pac-man (yellow) moves one cell per step through a maze (`layout`). Eating every pellet and power
    pellet clears the level. Ghosts move one cell per step and never turn back unless at a dead end;
    their behaviour (all randomness from `self.np_random`, so deterministic given the seed):
    - **Scatter and chase.** From the start of each life the ghosts alternate between 7 steps of
      *scatter*, each heading for its own corner of the maze, and 20 steps of *chase*, where ghost
      i follows personality `PERSONALITIES[i % 4]`: the *chaser* (red) aims at pac-man's cell, the
      *ambusher* (pink) at the cell up to 4 cells ahead of pac-man's heading, the *wanderer* (cyan)
      turns at random, the *shy* one (orange) chases while more than 4 cells away and flees to its
      corner when closer. A ghost steps to the free neighbour nearest (maze distance) to its target,
      ties broken in action order; with probability `ghost_randomness` it takes a random turn instead.
    - **Frightened.** A power pellet frightens every ghost that is not eaten for `frightened_steps`
      steps: it turns back at once, moves at half speed (every other step), turns at random, and
      can be eaten. Eating another power pellet restarts the timer.
    - **Eaten.** An eaten ghost's eyes return home (its start cell) by the shortest path at full
      speed, harmless; at home the ghost is whole again.

    Touching a ghost (on the same cell, including after passing through each other) that is not
    frightened or eaten costs a life: pac-man and the ghosts go back to their start cells (eaten
    pellets stay eaten). Eating the last pellet clears the level at once.

    ## Action Space
    `Discrete(4)`, as in gridworld-v0: 0 up, 1 down, 2 left, 3 right. A move into a wall leaves
    pac-man in place (there is no separate no-op). Anything else raises a ValueError.

    ## Observation Space
    - `obs_type="rgb"` (default): `Box(0, 255, (84, 84, 3), uint8)`: the maze drawn with sprites,
      `84 // max(height, width)` pixels per cell, centred on black (the `small` layout fills it
      exactly at 7 pixels per cell; `medium` is 4 pixels per cell). Layouts over 42 cells per side
      need `obs_type="grid"`.
    - `obs_type="grid"`: `MultiBinary((7, height, width))` int8 planes, channels first, in the order
      of `GRID_CHANNELS`: wall, pellet, power_pellet, pacman, ghost, frightened_ghost, eaten_ghost.

    ## Rewards
    `rewards` overrides entries of `DEFAULT_REWARDS`: `pellet` +1, `power_pellet` +5, `ghost` +10
    for the first ghost eaten per power pellet, doubling for each further one (10, 20, 40, 80),
    `clear` +50 for clearing the level, `death` -20 per life lost, `step` 0 added every step.

    ## Starting State
    Pac-man, ghosts and pellets as in the layout, pac-man heading left, every ghost in scatter mode.

    ## Episode End
    Terminated when the level is cleared (`info["win"]` True) or the last life is lost; truncated
    by the `TimeLimit` wrapper of `gym.make` (1000 steps registered).

    ## Info
    `lives` left, `pellets_left` (pellets and power pellets), `win` (True once the level is cleared).

    ## Arguments
    - `layout` ("small"): a built-in name (`gym_gridworld.layout.builtin_layouts()`), the path to a
      layout text file (`%` wall, `.` pellet, `o` power pellet, `P` player, `G` ghost, space) or a
      `Layout`. Malformed layouts raise `LayoutError` naming the line, column and problem.
    - `obs_type` ("rgb"), `lives` (3), `frightened_steps` (20), `ghost_randomness` (0.2),
      `rewards` (None: the defaults).
    - `render_mode`: `"rgb_array"` (24 pixels per cell, lives shown under the maze), `"ansi"`
      (`%` wall, `.` pellet, `o` power pellet, `^v<>` pac-man by heading, `G` ghost, `F` frightened
      ghost, `e` eyes, then a status line), `"human"` (pygame) or None.

    ## Version History
    - v0: initial version.
    """

    metadata = {"render_modes": ["rgb_array", "ansi", "human"], "render_fps": 8}

    def __init__(
        self,
        layout: str | os.PathLike | Layout = "small",
        obs_type: str = "rgb",
        lives: int = 3,
        frightened_steps: int = 20,
        ghost_randomness: float = 0.2,
        rewards: dict[str, float] | None = None,
        render_mode: str | None = None,
    ) -> None:
        self.layout = load_layout(layout)
        if obs_type not in OBS_TYPES:
            raise ValueError(f"obs_type must be one of {OBS_TYPES}, got {obs_type!r}")
        self.n_lives, self.frightened_steps = check_int("lives", lives, 1), check_int("frightened_steps", frightened_steps, 1)
        if not 0.0 <= check_number("ghost_randomness", ghost_randomness) <= 1.0:
            raise ValueError(f"ghost_randomness must be a probability in [0, 1], got {ghost_randomness!r}")
        self.rewards = _merge_rewards(rewards)
        self.render_mode = render.check_render_mode(render_mode, self.metadata)
        height, width = self.layout.shape
        self.cell_pixels = IMAGE_SIZE // max(height, width)
        if obs_type == "rgb" and self.cell_pixels < 2:
            raise ValueError(
                f"layout {self.layout.name!r} is {height}x{width} cells: too big for the {IMAGE_SIZE}x{IMAGE_SIZE} image "
                f"(at most {IMAGE_SIZE // 2} cells per side); use obs_type='grid'"
            )

        self.obs_type, self.ghost_randomness = obs_type, float(ghost_randomness)
        self.maze = maze_of(self.layout)
        self.grid = self.maze.grid
        self.pacman_start = self.grid.cell(*self.layout.player)
        self.ghost_homes = [self.grid.cell(*g) for g in self.layout.ghosts]
        self.n_ghosts = len(self.ghost_homes)
        self._start_board = np.select(
            [self.grid.walls, self.layout.pellets.ravel(), self.layout.power_pellets.ravel()], [WALL, PELLET, POWER], EMPTY
        ).astype(np.int8)
        self.action_space = spaces.Discrete(N_ACTIONS)
        if obs_type == "rgb":
            self.observation_space = spaces.Box(0, 255, (IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
        else:
            self.observation_space = spaces.MultiBinary((len(GRID_CHANNELS), height, width))
        self._board_codes = np.array([WALL, PELLET, POWER], dtype=np.int8)
        self._canvas = render.SpriteCanvas(sprites(self.cell_pixels), (height, width), IMAGE_SIZE) if obs_type == "rgb" else None
        self._started = False
        self.game_over = False

    # ------------------------------------------------------------------ Gymnasium API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        if options:
            raise ValueError(f"pacman-v0 takes no reset options, got {sorted(options)}")
        self.board = self._start_board.copy()
        self.pellets_left = int(np.count_nonzero((self.board == PELLET) | (self.board == POWER)))
        self.lives = self.n_lives
        self.win = self.game_over = False
        self._start_life()
        self._started = True
        if self.render_mode == "human":
            self.render()
        return self._observation(), self._info()

    def step(self, action: int) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict]:
        if not self._started:
            raise gym.error.ResetNeeded("Call reset() before step().")
        if self.game_over:
            raise gym.error.ResetNeeded("The episode has terminated; call reset() before step().")
        action = check_action(action)
        self.clock += 1
        self._reward = self.rewards["step"]
        moved = self.maze.next_cell[self.pacman][action]
        if moved != self.pacman:
            self.pacman, self.heading = moved, action
        self._eat(moved)
        if self.pellets_left == 0:
            self._reward += self.rewards["clear"]
            self.win = self.game_over = True
        elif not self._pacman_meets_ghosts(range(self.n_ghosts)):
            for g in range(self.n_ghosts):
                if self._ghost_moves(g) and self._pacman_meets_ghosts((g,)):
                    break
            self._tick_fright()
        if self.render_mode == "human":
            self.render()
        return self._observation(), float(self._reward), self.game_over, False, self._info()

    # ------------------------------------------------------------------ rules
    def _start_life(self) -> None:
        self.pacman, self.heading = self.pacman_start, LEFT
        self.ghost_cells = list(self.ghost_homes)
        self.ghost_headings = [-1] * self.n_ghosts
        self.ghost_states = [NORMAL] * self.n_ghosts
        self.frightened_left = 0
        self.ghost_streak = 0
        self.clock = 0

    def _eat(self, cell: int) -> None:
        kind = self.board[cell]
        if kind == PELLET:
            self._reward += self.rewards["pellet"]
        elif kind == POWER:
            self._reward += self.rewards["power_pellet"]
            self._frighten()
        else:
            return
        self.board[cell] = EMPTY
        self.pellets_left -= 1

    def _frighten(self) -> None:
        self.frightened_left, self.ghost_streak = self.frightened_steps, 0
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

    def _pacman_meets_ghosts(self, ghosts: Any) -> bool:
        """Resolve pac-man meeting any of `ghosts` on its cell; True if that cost a life."""
        for g in ghosts:
            if self.ghost_cells[g] != self.pacman or self.ghost_states[g] == EATEN:
                continue
            if self.ghost_states[g] == SCARED:
                self._reward += self.rewards["ghost"] * 2**self.ghost_streak
                self.ghost_streak += 1
                self.ghost_states[g] = EATEN
                continue
            self._reward += self.rewards["death"]
            self.lives -= 1
            if self.lives == 0:
                self.game_over = True
            else:
                self._start_life()
            return True
        return False

    def _ghost_moves(self, g: int) -> bool:
        """Move ghost g one cell (frightened ghosts only every other step); True if it moved."""
        state, cell, heading = self.ghost_states[g], self.ghost_cells[g], self.ghost_headings[g]
        if state == SCARED and self.clock % 2:
            return False
        options = self.grid.moves[cell]
        if not options:  # walled in
            return False
        if state == EATEN:
            home = self.ghost_homes[g]
            if cell == home:  # eaten at home: whole again, moves next step
                self.ghost_states[g] = NORMAL
                return False
            direction, cell = self._towards(options, home)
            if cell == home:
                self.ghost_states[g] = NORMAL
        else:
            forward = [move for move in options if move[0] != REVERSE[heading]] if heading >= 0 else options
            forward = forward or options  # a dead end: turning back is the only way
            target = None if state == SCARED else self._target(g)
            if target is None or self.np_random.random() < self.ghost_randomness:
                direction, cell = forward[int(self.np_random.random() * len(forward))]
            else:
                direction, cell = self._towards(forward, target)
        self.ghost_cells[g], self.ghost_headings[g] = cell, direction
        return True

    def _target(self, g: int) -> int | None:
        """The cell ghost g heads for, or None to turn at random."""
        personality = PERSONALITIES[g % len(PERSONALITIES)]
        corner = self.maze.corners[g % len(self.maze.corners)]
        if (self.clock - 1) % (SCATTER_STEPS + CHASE_STEPS) < SCATTER_STEPS:
            return corner
        if personality == "chaser":
            return self.pacman
        if personality == "ambusher":
            ahead = self.pacman
            for _ in range(AMBUSH_LOOKAHEAD):
                ahead = self.maze.next_cell[ahead][self.heading]
            return ahead
        if personality == "wanderer":
            return None
        far = self.maze.distances[self.pacman][self.ghost_cells[g]] > SHY_DISTANCE
        return self.pacman if far else corner

    def _towards(self, options: Any, target: int) -> tuple[int, int]:
        """The (direction, cell) of `options` nearest to `target` by maze distance (first on ties)."""
        distances = self.maze.distances[target]  # maze distances are symmetric: row = column
        return min(options, key=lambda move: distances[move[1]])

    # ------------------------------------------------------------------ observation and rendering
    def _info(self) -> dict:
        return {"lives": self.lives, "pellets_left": self.pellets_left, "win": self.win}

    def _kinds(self) -> np.ndarray:
        """`(height, width)` cell kinds: the board, then eyes, pac-man and ghosts drawn over it."""
        kinds = self.board.copy()
        for g in range(self.n_ghosts):
            if self.ghost_states[g] == EATEN:
                kinds[self.ghost_cells[g]] = EYES
        kinds[self.pacman] = PACMAN + self.heading
        for g in range(self.n_ghosts):
            if self.ghost_states[g] != EATEN:
                kinds[self.ghost_cells[g]] = FRIGHTENED if self.ghost_states[g] == SCARED else GHOST + g % len(GHOST_COLORS)
        return kinds.reshape(self.grid.height, self.grid.width)

    def _observation(self) -> np.ndarray:
        if self.obs_type == "rgb":
            return self._canvas.draw(self._kinds())
        planes = np.zeros((len(GRID_CHANNELS), self.grid.n_cells), dtype=np.int8)
        planes[:3] = self.board == self._board_codes[:, None]
        planes[3, self.pacman] = 1
        planes[4 + np.array(self.ghost_states, dtype=np.intp), self.ghost_cells] = 1
        return planes.reshape(len(GRID_CHANNELS), self.grid.height, self.grid.width)

    def _ansi(self) -> str:
        status = f"lives {self.lives} | pellets left {self.pellets_left}" + (" | level cleared" if self.win else "")
        return render.ansi_grid(self._kinds(), ANSI_CHARS) + status + "\n"

    def _rgb_frame(self) -> np.ndarray:
        tiles = sprites(RENDER_CELL)
        maze = render.tile_sprites(self._kinds(), tiles)
        status = np.full((1, self.grid.width), EMPTY, dtype=np.int8)
        status[0, : min(self.lives, self.grid.width)] = PACMAN + LEFT
        return np.concatenate([maze, render.tile_sprites(status, tiles)], axis=0)

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state["maze"] = state["grid"] = None  # shared tables: rebuilt (or found in the cache) on load
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.maze = maze_of(self.layout)
        self.grid = self.maze.grid


def _merge_rewards(rewards: dict[str, float] | None) -> dict[str, float]:
    merged = dict(DEFAULT_REWARDS)
    for key, value in (rewards or {}).items():
        if key not in DEFAULT_REWARDS:
            raise ValueError(f"unknown reward {key!r}; the rewards are {sorted(DEFAULT_REWARDS)}")
        merged[key] = check_number(f"rewards[{key!r}]", value)
    return merged


class Maze(NamedTuple):
    """What every env of one layout shares: its geometry and tables for fast scalar look-ups."""

    grid: Grid
    corners: tuple[int, ...]  # scatter targets, see `_corner_cells`
    next_cell: list[list[int]]  # Grid.next_cell as lists (faster than numpy for single look-ups)
    distances: list[list[int]]  # maze distances between all cells, as lists


def maze_of(layout: Layout) -> Maze:
    """The Maze of `layout`, computed once per layout text and shared by every env of it."""
    return _maze_of_text(layout.text)


@lru_cache(maxsize=16)
def _maze_of_text(text: str) -> Maze:
    grid = Grid(np.array([[char == WALL_CHAR for char in line] for line in text.splitlines()]))
    return Maze(grid, _corner_cells(grid), grid.next_cell.tolist(), grid.distances.tolist())


def _corner_cells(grid: Grid) -> tuple[int, int, int, int]:
    """The open cells nearest to the top-right, top-left, bottom-right and bottom-left corners
    (the scatter targets of the chaser, ambusher, wanderer and shy ghosts, as in the arcade)."""
    open_cells = np.flatnonzero(~grid.walls)
    rows, cols = np.divmod(open_cells, grid.width)
    corners = ((0, grid.width - 1), (0, 0), (grid.height - 1, grid.width - 1), (grid.height - 1, 0))
    return tuple(int(open_cells[np.argmin(np.abs(rows - r) + np.abs(cols - c))]) for r, c in corners)


@lru_cache(maxsize=8)
def sprites(size: int) -> np.ndarray:
    """`(N_KINDS, size, size, 3)` uint8 sprites of every cell kind."""
    empty = np.zeros((size, size), dtype=bool)
    body, eyes = render.ghost_shape(size)
    pupils = (render.disc(size, 0.05, (0.42, 0.35)) | render.disc(size, 0.05, (0.42, 0.69))) if size >= 12 else empty
    ghost_eyes = [(eyes, EYE_WHITE), (pupils, PUPIL)]
    tiles = [
        render.sprite(size, BLACK, []),
        render.sprite(size, WALL_BLUE, []),
        render.sprite(size, BLACK, [(render.disc(size, 0.12), PELLET_COLOR)]),
        render.sprite(size, BLACK, [(render.disc(size, 0.3), PELLET_COLOR)]),
        *(render.sprite(size, BLACK, [(render.pacman_shape(size, d), YELLOW)]) for d in range(N_ACTIONS)),
        *(render.sprite(size, BLACK, [(body, color), *ghost_eyes]) for color in GHOST_COLORS),
        render.sprite(size, BLACK, [(body, FRIGHTENED_COLOR), (eyes, PUPIL)]),
        render.sprite(size, BLACK, [(eyes if size >= 8 else render.disc(size, 0.2), EYE_WHITE), (pupils, PUPIL)]),
    ]
    stacked = np.stack(tiles)
    stacked.flags.writeable = False
    return stacked
