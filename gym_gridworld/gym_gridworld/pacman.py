"""pacman-v0: the Gymnasium adapter of one pac-man game.

Rules and ghost AI live in `pacman_engine`, observations and pictures in `pacman_view`.
"""

from __future__ import annotations

import os
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from gym_gridworld import render
from gym_gridworld.core import N_ACTIONS, check_action
from gym_gridworld.layout import Layout, load_layout
from gym_gridworld.pacman_engine import DEFAULT_REWARDS, PERSONALITIES, PacmanGame, Rules
from gym_gridworld.pacman_view import (
    GRID_CHANNELS,
    IMAGE_SIZE,
    OBS_TYPES,
    ansi_text,
    canvas,
    cell_pixels,
    game_planes,
    rgb_frame,
)

__all__ = ["DEFAULT_REWARDS", "GRID_CHANNELS", "PERSONALITIES", "PacmanEnv", "check_pacman_options"]


def check_pacman_options(obs_type: Any, layout: Layout) -> str:
    """`obs_type` if it is allowed for `layout`, else a ValueError naming the problem."""
    if obs_type not in OBS_TYPES:
        raise ValueError(f"obs_type must be one of {OBS_TYPES}, got {obs_type!r}")
    if obs_type == "rgb" and cell_pixels(layout.shape) < 2:
        height, width = layout.shape
        raise ValueError(
            f"layout {layout.name!r} is {height}x{width} cells: "
            f"too big for the {IMAGE_SIZE}x{IMAGE_SIZE} image "
            f"(at most {IMAGE_SIZE // 2} cells per side); use obs_type='grid'"
        )
    return obs_type


def observation_space_for(obs_type: str, layout: Layout) -> spaces.Space:
    if obs_type == "rgb":
        return spaces.Box(0, 255, (IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    return spaces.MultiBinary((len(GRID_CHANNELS), *layout.shape))


class PacmanEnv(render.RenderModes, gym.Env[np.ndarray, int]):
    """A pac-man-like maze game: eat every pellet, avoid the ghosts, eat them after a power pellet.

    ## Description
    Pac-man (yellow) moves one cell per step through a maze (`layout`). Eating every pellet and power
    pellet clears the level. Ghosts move one cell per step and never turn back unless at a dead end;
    their behaviour (all randomness from `self.np_random`, so deterministic given the seed; the rules
    are in `gym_gridworld.pacman_engine`):
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
      `Layout`. Malformed layouts raise `LayoutError` naming the line, column and problem; layouts
      are at most 256x256 cells with at most 64 ghosts (`gym_gridworld.layout.MAX_SIDE`, `MAX_GHOSTS`).
    - `obs_type` ("rgb"), `lives` (3) and `frightened_steps` (20) (each 1 to 2**31 - 1), `ghost_randomness` (0.2),
      `rewards` (None: the defaults; a dict of some of the keys of `DEFAULT_REWARDS`). Anything
      else raises a ValueError naming the argument, the value and what is allowed.
    - `render_mode`: `"rgb_array"` (24 pixels per cell, lives shown under the maze), `"ansi"`
      (`%` wall, `.` pellet, `o` power pellet, `^v<>` pac-man by heading, `G` ghost, `F` frightened
      ghost, `e` eyes, then a status line), `"human"` (pygame) or None.

    ## Vector env
    `gym.make_vec("pacman-v0", num_envs=N)` makes `PacmanVectorEnv`: N games stepped together in
    numpy; sub-env i equals this env seeded `seed + i`, step for step.

    ## Example
    >>> import gymnasium as gym, gym_gridworld
    >>> env = gym.make("pacman-v0", obs_type="grid")
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape, info
    ((7, 12, 12), {'lives': 3, 'pellets_left': 65, 'win': False})
    >>> obs, reward, terminated, truncated, info = env.step(2)  # left: a pellet
    >>> reward
    1.0

    ## Version History
    - v0: initial version (ghosts draw their random turns through `core.WorldDraws` from `np_random`).
    """

    action_space: spaces.Discrete[Any]  # samples np.int64; Any: step also takes Python ints (Env[..., int])

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
        self.obs_type = check_pacman_options(obs_type, self.layout)
        self.rules = Rules.checked(lives, frightened_steps, ghost_randomness, rewards)
        self.render_mode = render.check_render_mode(render_mode, self.metadata)
        self.game = PacmanGame(self.layout, self.rules)
        self.action_space = spaces.Discrete(N_ACTIONS)
        self.observation_space = observation_space_for(self.obs_type, self.layout)
        self._canvas = canvas(self.layout.shape) if self.obs_type == "rgb" else None
        self._started = False

    # ------------------------------------------------------------------ Gymnasium API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        if options:  # checked before reseeding: a refused reset changes nothing
            raise ValueError(f"pacman-v0 takes no reset options, got {sorted(options)}")
        super().reset(seed=seed)
        if self.game.draws.generators[0] is not self.np_random:  # seeded afresh (or replaced by the user)
            self.game.draws.set_generator(0, self.np_random)
        self.game.reset()
        self._started = True
        if self.render_mode == "human":
            self.render()
        return self._observation(), self._info()

    def step(self, action: int) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict]:
        if not self._started:
            raise gym.error.ResetNeeded("Call reset() before step().")
        if self.game.over:
            raise gym.error.ResetNeeded("The episode has terminated; call reset() before step().")
        if self.game.draws.generators[0] is not self.np_random:  # np_random was replaced mid-episode
            self.game.draws.set_generator(0, self.np_random)
        reward = self.game.step(check_action(action))
        if self.render_mode == "human":
            self.render()
        return self._observation(), float(reward), self.game.over, False, self._info()

    # ------------------------------------------------------------------ observation and rendering
    def _info(self) -> dict:
        return {"lives": self.game.lives, "pellets_left": self.game.pellets_left, "win": self.game.win}

    def _observation(self) -> np.ndarray:
        if self._canvas is None:
            return game_planes(self.game)
        return self._canvas.draw(self.game.kinds())

    def _ansi(self) -> str:
        game = self.game
        return ansi_text(game.kinds(), game.lives, game.pellets_left, game.win)

    def _rgb_frame(self) -> np.ndarray:
        return rgb_frame(self.game.kinds(), self.game.lives)
