"""gridworld-v0: the goals-and-fires gridworld of the classic Dueling/Double DQN tutorial.

`GoalsAndFires` holds the rules for a batch of worlds as numpy arrays; `GridworldEnv` is one world of
it and `gym_gridworld.vector.GridworldVectorEnv` is N worlds of it, so both follow the same rules.
"""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from gym_gridworld import render
from gym_gridworld.core import (
    N_ACTIONS,
    Grid,
    WorldDraws,
    check_action,
    check_batch_bytes,
    check_int,
    check_number,
    choose_unoccupied,
)

# Cell kinds, in drawing order of the tutorial: empty floor, the outer wall, the agent, goals, fires.
EMPTY, WALL, AGENT, GOAL, FIRE = 0, 1, 2, 3, 4
GRID_CHANNELS = ("wall", "agent", "goal", "fire")  # the planes of obs_type="grid": kinds WALL..FIRE
OBS_TYPES = ("rgb", "grid")
IMAGE_SIZE = 84  # pixels per side of the rgb observation
VIEW_SIZE = 3  # cells per side of the partial view
# The tutorial's colours: black floor, white wall, blue agent, green goals, red fires.
COLORS = np.array([(0, 0, 0), (255, 255, 255), (0, 0, 255), (0, 255, 0), (255, 0, 0)], dtype=np.uint8)
ANSI_CHARS = ".#@+x"
RENDER_CELL = 32  # pixels per cell of render() frames
VIEW_OUTLINE = (255, 200, 0)
# Bounds of the arguments, checked before anything is allocated (see GridworldEnv's docstring).
MAX_SIZE = 100  # cells per side of the floor (82 for the full rgb image, which must fit 84 pixels)
MAX_OBJECTS = 64  # goals, and fires: placing k objects costs O(k**2) per world


PALETTE = render.pack_colors(COLORS)


class GoalsAndFires:
    """The rules of gridworld-v0 for a batch of `n_worlds` worlds, as numpy arrays.

    The world is drawn as a `(size + 2) x (size + 2)` picture: the floor inside a one-cell wall.
    Positions are flat cells of that picture, `row * side + col` with `side = size + 2`, so moves,
    observations and rendering need no conversion; random placement works in floor indices
    (`row * size + col` of the floor alone) and converts at the end. Object slots
    `0..n_goals-1` are goals, the rest fires. Random draws come from `draws` (one generator per
    world), so world i only ever depends on its own generator.
    """

    def __init__(
        self,
        n_worlds: int,
        size: int,
        n_goals: int,
        n_fires: int,
        goal_reward: float,
        fire_reward: float,
        step_penalty: float,
        partial: bool,
        obs_type: str,
    ) -> None:
        self.n_worlds, self.size, self.partial, self.obs_type = n_worlds, size, partial, obs_type
        self.n_objects = n_goals + n_fires
        self.slot_kinds = np.array([GOAL] * n_goals + [FIRE] * n_fires, dtype=np.int8)
        self.slot_rewards = np.array([goal_reward] * n_goals + [fire_reward] * n_fires, dtype=np.float64)
        self.step_penalty = float(step_penalty)
        self.draws = WorldDraws(n_worlds)

        self.side = side = size + 2
        self.n_cells = n_cells = side * side
        walls = np.ones((side, side), dtype=bool)
        walls[1:-1, 1:-1] = False
        self.picture = Grid(walls)
        rows, cols = np.divmod(np.arange(size * size), size)
        self.floor_to_cell = (rows + 1) * side + cols + 1
        self.cell_to_floor = np.full(n_cells, -1, dtype=np.intp)
        self.cell_to_floor[self.floor_to_cell] = np.arange(size * size)
        self.agent = np.full(n_worlds, self.floor_to_cell[0], dtype=np.intp)
        self.objects = np.zeros((n_worlds, self.n_objects), dtype=np.intp)

        # blank pictures (walls only) and offsets into the flattened batch, computed once
        self._blank_kinds = np.tile(np.where(self.picture.walls, WALL, EMPTY).astype(np.int8), (n_worlds, 1))
        self._blank_planes = np.zeros((n_worlds, len(GRID_CHANNELS), n_cells), dtype=np.int8)
        self._blank_planes[:, GRID_CHANNELS.index("wall")] = self.picture.walls
        self._world_cells = np.arange(n_worlds)[:, None] * n_cells  # where each world's cells start
        world_planes = np.arange(n_worlds)[:, None] * (len(GRID_CHANNELS) * n_cells)
        self._plane_starts = (world_planes + np.arange(len(GRID_CHANNELS)) * n_cells)[:, :, None]
        self._agent_planes = world_planes[:, 0] + GRID_CHANNELS.index("agent") * n_cells
        self._slot_planes = world_planes + (self.slot_kinds - WALL).astype(np.intp) * n_cells  # plane = kind - 1
        view_rows, view_cols = np.mgrid[-1:2, -1:2]
        self._view_offsets = (view_rows * side + view_cols).ravel()  # the 3x3 cells around a cell
        self._canvases: dict[bool, render.CellCanvas] = {}  # by `fresh`, made on first use by observations()

    def cell(self, row: int, col: int) -> int:
        """The position of floor cell (row, col), counted from the floor's top-left corner."""
        return (row + 1) * self.side + col + 1

    def floor_row_col(self, cell: int) -> tuple[int, int]:
        """The floor (row, col) of a position."""
        row, col = divmod(int(cell), self.side)
        return row - 1, col - 1

    # ------------------------------------------------------------------ dynamics
    def reset(self, worlds: np.ndarray) -> None:
        """Place the agent, then the goals, then the fires of `worlds` on distinct random floor cells."""
        placed = np.empty((len(worlds), 0), dtype=np.intp)
        for _ in range(1 + self.n_objects):
            floor = choose_unoccupied(placed, self.size * self.size, self.draws, worlds)
            placed = np.concatenate([placed, floor[:, None]], axis=1)
        cells = self.floor_to_cell[placed]
        self.agent[worlds] = cells[:, 0]
        self.objects[worlds] = cells[:, 1:]

    def step(self, actions: np.ndarray, active: np.ndarray | None = None) -> np.ndarray:
        """Move every world's agent (`actions`: intp of shape (n_worlds,)) and return the rewards.
        Worlds where the bool mask `active` is False stay as they are (reward 0, no draws).

        Stepping on an object collects its reward and moves it to a random floor cell free of the
        agent and every other object, as in the tutorial."""
        moved = self.picture.next_cell[self.agent, actions]
        self.agent = moved if active is None else np.where(active, moved, self.agent)
        hit = self.objects == self.agent[:, None]
        if active is not None:
            hit &= active[:, None]
        rewards = hit.dot(self.slot_rewards)
        if self.step_penalty:
            rewards -= self.step_penalty if active is None else self.step_penalty * active
        collected = hit.reshape(-1).nonzero()[0]  # at most one per world: objects never share a cell
        if collected.size:
            worlds, slots = np.divmod(collected, self.n_objects)
            # the collected object lies under the agent, so the objects' cells are exactly the
            # cells taken by the agent and the other objects
            taken = self.cell_to_floor[self.objects[worlds]]
            floor = choose_unoccupied(taken, self.size * self.size, self.draws, worlds)
            self.objects[worlds, slots] = self.floor_to_cell[floor]
        return rewards

    # ------------------------------------------------------------------ drawing
    def kinds(self) -> np.ndarray:
        """`(n_worlds, side, side)` int8 cell kinds of the whole picture, border included."""
        kinds = self._blank_kinds.copy()
        flat = kinds.reshape(-1)
        flat[self._world_cells + self.objects] = self.slot_kinds
        flat[self._world_cells[:, 0] + self.agent] = AGENT
        return kinds.reshape(self.n_worlds, self.side, self.side)

    def planes(self) -> np.ndarray:
        """`(n_worlds, 4, side * side)` int8 one-hot planes of GRID_CHANNELS over the whole picture."""
        planes = self._blank_planes.copy()
        flat = planes.reshape(-1)
        flat[self._slot_planes + self.objects] = 1
        flat[self._agent_planes + self.agent] = 1
        return planes

    @property
    def observation_space(self) -> spaces.Box | spaces.MultiBinary:
        """The space of one world's observation (see GridworldEnv's docstring)."""
        if self.obs_type == "rgb":
            return spaces.Box(0, 255, (IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
        side = VIEW_SIZE if self.partial else self.side
        return spaces.MultiBinary((len(GRID_CHANNELS), side, side))

    def shown_kinds(self) -> np.ndarray:
        """The cell kinds an rgb observation shows: `kinds()`, or with `partial` the `(n_worlds, 3, 3)`
        cells around each agent."""
        kinds = self.kinds()
        if self.partial:  # the 3x3 cells around each agent, gathered from the whole picture
            view_cells = self._world_cells + self.agent[:, None] + self._view_offsets
            kinds = kinds.reshape(-1)[view_cells].reshape(self.n_worlds, VIEW_SIZE, VIEW_SIZE)
        return kinds

    def observations(self, fresh: bool = True) -> np.ndarray:
        """A batch of observations: `(n_worlds, 84, 84, 3)` uint8 images or `(n_worlds, 4, h, w)` planes.

        Images are drawn by the game's canvases (`render.CellCanvas`), which repaint only the cells that
        changed since their last call: one pixel row per cell row, stretched into a new array, when
        `fresh` or for partial views (a move changes nearly every cell of a view); else whole cells on
        the image that is returned, overwritten by the next call. Planes are always new."""
        n = self.n_worlds
        if self.obs_type == "rgb":
            kinds = self.shown_kinds()
            if fresh not in self._canvases:  # strips unless few cells change and the canvas itself is returned
                strips = fresh or self.partial
                self._canvases[fresh] = render.CellCanvas(n, kinds.shape[1:], COLORS, IMAGE_SIZE, strips=strips)
            return self._canvases[fresh].draw(kinds, fresh=fresh)
        planes = self.planes()
        if self.partial:
            view_cells = self._plane_starts + (self.agent[:, None] + self._view_offsets)[:, None, :]
            return planes.reshape(-1)[view_cells].reshape(n, -1, VIEW_SIZE, VIEW_SIZE)
        return planes.reshape(n, -1, self.side, self.side)


def build_game(
    n_worlds: int,
    size: Any,
    n_goals: Any,
    n_fires: Any,
    partial: Any,
    obs_type: Any,
    goal_reward: Any,
    fire_reward: Any,
    step_penalty: Any,
) -> GoalsAndFires:
    """A GoalsAndFires after checking the arguments of GridworldEnv (and the vector env's `n_worlds`)
    before anything is allocated; a ValueError names any bad one, its value and the allowed values."""
    size = check_int("size", size, 1, MAX_SIZE)
    n_goals, n_fires = check_int("n_goals", n_goals, 0, MAX_OBJECTS), check_int("n_fires", n_fires, 0, MAX_OBJECTS)
    if not isinstance(obs_type, str) or obs_type not in OBS_TYPES:
        raise ValueError(f"obs_type must be one of {OBS_TYPES}, got {obs_type!r}")
    if not isinstance(partial, (bool, np.bool_)):
        raise ValueError(f"partial must be True or False, got {partial!r}")
    if 1 + n_goals + n_fires > size * size:
        raise ValueError(
            f"n_goals + n_fires = {n_goals + n_fires} exceeds the limit size * size - 1 = {size * size - 1}: "
            f"a {size}x{size} world has {size * size} cells, too few for 1 agent + {n_goals} goals + "
            f"{n_fires} fires = {1 + n_goals + n_fires} objects on distinct cells"
        )
    if obs_type == "rgb" and not partial and size + 2 > IMAGE_SIZE:
        raise ValueError(
            f"size must be at most {IMAGE_SIZE - 2} for the {IMAGE_SIZE}x{IMAGE_SIZE} image, got {size}; "
            "use obs_type='grid' or partial=True"
        )
    side = VIEW_SIZE if partial else size + 2
    world_bytes = IMAGE_SIZE * IMAGE_SIZE * 3 if obs_type == "rgb" else len(GRID_CHANNELS) * side * side
    check_batch_bytes(n_worlds, world_bytes, "worlds")
    named = (("goal_reward", goal_reward), ("fire_reward", fire_reward), ("step_penalty", step_penalty))
    rewards = {name: check_number(name, value) for name, value in named}
    return GoalsAndFires(n_worlds, size, n_goals, n_fires, partial=bool(partial), obs_type=obs_type, **rewards)


def render_frame(kinds: np.ndarray, agent_row_col: tuple[int, int], partial: bool) -> np.ndarray:
    """A crisp frame of the whole world (32 px per cell, grid lines), the partial view outlined.
    `kinds` is the bordered picture, `agent_row_col` the agent's (row, col) in it."""
    frame = render.tile_sprites(kinds, _render_sprites())
    if partial:
        row, col = agent_row_col[0] - 1, agent_row_col[1] - 1  # the view's top-left cell
        render.outline(frame, row * RENDER_CELL, col * RENDER_CELL, 3 * RENDER_CELL, 3 * RENDER_CELL, VIEW_OUTLINE, 3)
    return frame


def _render_sprites() -> np.ndarray:
    global _SPRITES
    if _SPRITES is None:
        lines = np.zeros((RENDER_CELL, RENDER_CELL), dtype=bool)
        lines[0, :] = lines[:, 0] = True
        _SPRITES = np.stack([render.sprite(RENDER_CELL, tuple(color), [(lines, (60, 60, 60))]) for color in COLORS])
    return _SPRITES


_SPRITES: np.ndarray | None = None


class GridworldEnv(render.RenderModes, gym.Env[np.ndarray, int]):
    """The goals-and-fires gridworld of the classic Dueling/Double DQN tutorial.

    ## Description
    A `size x size` floor (5x5 by default) surrounded by a wall holds the agent (blue), `n_goals` goals
    (green, 4 by default) and `n_fires` fires (red, 2 by default), all on distinct random cells. When
    the agent steps on a goal or a fire it collects the reward and that object reappears on a random
    cell free of the agent and every other object. Nothing ends the episode: `gym.make` truncates it
    after 50 steps (the registered `max_episode_steps`), as in the tutorial.

    ## Action Space
    `Discrete(4)`: 0 up, 1 down, 2 left, 3 right (`gym_gridworld.UP`, `DOWN`, `LEFT`, `RIGHT`). A move
    into the wall leaves the agent where it is. Anything else (a float, a bool, a string, an integer
    outside 0..3) raises a ValueError.

    ## Observation Space
    - `obs_type="rgb"` (default): `Box(0, 255, (84, 84, 3), uint8)`, the tutorial's image: the world
      drawn with its one-cell white border, black floor, scaled with nearest neighbour (12 pixels per
      cell at the default size). With `partial=True` it shows only the 3x3 cells around the agent
      (28 pixels per cell; next to the edge it shows the white wall).
    - `obs_type="grid"`: `MultiBinary((4, size + 2, size + 2))`, int8 arrays, channels first, the same
      cells as the image: planes `GRID_CHANNELS = ("wall", "agent", "goal", "fire")`, each cell one-hot
      (an empty floor cell is all zeros). With `partial=True` the shape is `(4, 3, 3)`, the agent in the
      centre: at most 4**8 distinct observations, small enough for tabular Q-learning (e.g. keyed by
      `obs.tobytes()`). MultiBinary rather than a uint8 Box: SB3 would take a 3-D uint8 Box for an
      image, while MultiBinary goes through its MlpPolicy as it is.

    ## Rewards
    `goal_reward` (+1) for a goal, `fire_reward` (-1) for a fire, minus `step_penalty` (0, as in the
    tutorial) on every step. There is no penalty for bumping into the wall.

    ## Starting State
    The agent, then the goals, then the fires are placed one after another on uniformly drawn free
    cells, with draws from `self.np_random`.

    ## Episode End
    Never terminates; truncation is left to the `TimeLimit` wrapper that `gym.make` adds (50 steps).

    ## Info
    Empty: the observation is the whole state (the partial view aside).

    ## Arguments
    - `size` (5): cells per side of the floor, 1..`MAX_SIZE` (100); at most 82 for the full rgb image.
    - `n_goals` (4), `n_fires` (2): object counts, each 0..`MAX_OBJECTS` (64); agent + objects must
      fit on distinct cells (`n_goals + n_fires <= size * size - 1`).
    - `partial` (False): observe the 3x3 cells around the agent instead of the whole world.
    - `obs_type` ("rgb"): `"rgb"` or `"grid"`, see above.
    - `goal_reward` (1.0), `fire_reward` (-1.0), `step_penalty` (0.0).
    - `render_mode`: `"rgb_array"` (the whole world at 32 px per cell, the partial view outlined in
      yellow), `"ansi"` (`#` wall, `@` agent, `+` goal, `x` fire, `.` floor), `"human"` (pygame) or None.

    The image size (84), the view (3x3 cells) and the render cell (32 px) are fixed, not arguments.
    A bad argument raises a ValueError naming it, its value and the allowed values or limit (a wrong
    type too: `size=5.0` is refused), before anything is allocated.

    ## Vector env
    `gym.make_vec("gridworld-v0", num_envs=N)` builds `GridworldVectorEnv`, N worlds stepped together
    in numpy; sub-env i equals this env reset with `seed + i`. Its rgb observations are drawn on a
    persistent canvas where only changed cells are redrawn; `copy=False` returns a read-only view of
    it instead of a fresh copy (see `GridworldVectorEnv`).

    ## Version History
    - v0: initial version.
    """

    action_space: spaces.Discrete[Any]  # samples np.int64; Any: step also takes Python ints (Env[..., int])

    metadata = {"render_modes": ["rgb_array", "ansi", "human"], "render_fps": 8}

    def __init__(
        self,
        size: int = 5,
        n_goals: int = 4,
        n_fires: int = 2,
        partial: bool = False,
        obs_type: str = "rgb",
        goal_reward: float = 1.0,
        fire_reward: float = -1.0,
        step_penalty: float = 0.0,
        render_mode: str | None = None,
    ) -> None:
        self.game = build_game(1, size, n_goals, n_fires, partial, obs_type, goal_reward, fire_reward, step_penalty)
        self.obs_type, self.partial = self.game.obs_type, self.game.partial
        self.render_mode = render.check_render_mode(render_mode, self.metadata)
        self.observation_space = self.game.observation_space
        self.action_space = spaces.Discrete(N_ACTIONS)
        self._started = False
        self._only = np.zeros(1, dtype=np.intp)
        self._action = np.zeros(1, dtype=np.intp)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        if options:  # checked before reseeding: a refused reset changes nothing
            raise ValueError(f"gridworld-v0 takes no reset options, got {sorted(options)}")
        super().reset(seed=seed)
        if self.game.draws.generators[0] is not self.np_random:  # seeded afresh (or replaced by the user)
            self.game.draws.set_generator(0, self.np_random)
        self.game.reset(self._only)
        self._started = True
        if self.render_mode == "human":
            self.render()
        return self._observation(), {}

    def step(self, action: int) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict]:
        if not self._started:
            raise gym.error.ResetNeeded("Call reset() before step().")
        self._action[0] = check_action(action)
        if self.game.draws.generators[0] is not self.np_random:  # np_random was replaced mid-episode
            self.game.draws.set_generator(0, self.np_random)
        reward = float(self.game.step(self._action)[0])
        if self.render_mode == "human":
            self.render()
        return self._observation(), reward, False, False, {}

    def _observation(self) -> np.ndarray:
        return self.game.observations(fresh=True)[0]

    def _ansi(self) -> str:
        return render.ansi_grid(self.game.kinds()[0], ANSI_CHARS)

    def _rgb_frame(self) -> np.ndarray:
        return render_frame(self.game.kinds()[0], divmod(int(self.game.agent[0]), self.game.side), self.game.partial)
