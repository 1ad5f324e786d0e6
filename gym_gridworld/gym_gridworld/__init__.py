"""Grid games for Gymnasium. Importing this package registers `gridworld-v0` and `pacman-v0`.

>>> import gymnasium as gym, gym_gridworld
>>> env = gym.make("gridworld-v0")             # or gym.make("gym_gridworld:gridworld-v0") without the import
>>> envs = gym.make_vec("gridworld-v0", 1024)  # the native numpy vector env
"""

from __future__ import annotations

import gymnasium as gym

from gym_gridworld.core import ACTION_NAMES, DOWN, LEFT, RIGHT, UP
from gym_gridworld.gridworld import GRID_CHANNELS, GridworldEnv
from gym_gridworld.layout import Layout, LayoutError, builtin_layouts, load_layout, parse_layout
from gym_gridworld.pacman import GRID_CHANNELS as PACMAN_GRID_CHANNELS
from gym_gridworld.pacman import PacmanEnv

__all__ = [
    "GridworldEnv",
    "PacmanEnv",
    "GRID_CHANNELS",
    "PACMAN_GRID_CHANNELS",
    "Layout",
    "LayoutError",
    "builtin_layouts",
    "load_layout",
    "parse_layout",
    "UP",
    "DOWN",
    "LEFT",
    "RIGHT",
    "ACTION_NAMES",
    "register_envs",
    "ENV_IDS",
]
__version__ = "0.1.0"

ENV_IDS = ("gridworld-v0", "pacman-v0")


def register_envs() -> None:
    """Register this package's ids with Gymnasium (safe to call more than once)."""
    if "gridworld-v0" not in gym.registry:
        gym.register(
            id="gridworld-v0",
            entry_point="gym_gridworld.gridworld:GridworldEnv",
            vector_entry_point="gym_gridworld.vector:GridworldVectorEnv",
            max_episode_steps=50,
        )
    if "pacman-v0" not in gym.registry:
        gym.register(
            id="pacman-v0",
            entry_point="gym_gridworld.pacman:PacmanEnv",
            vector_entry_point="gym_gridworld.pacman_vector:PacmanVectorEnv",
            max_episode_steps=1000,
        )


register_envs()
