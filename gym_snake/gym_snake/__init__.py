"""Snake for Gymnasium. Importing this package registers `snake-v0`.

>>> import gymnasium as gym, gym_snake
>>> env = gym.make("snake-v0", obs_type="grid")     # or gym.make("gym_snake:snake-v0") without the import
>>> envs = gym.make_vec("snake-v0", num_envs=1024)  # the native numpy vector env
"""

from __future__ import annotations

import gymnasium as gym

from gym_snake.core import (
    BODY,
    DOWN,
    EMPTY,
    FEATURE_NAMES,
    FOOD,
    HEAD,
    LEFT,
    RIGHT,
    STRAIGHT,
    TURN_LEFT,
    TURN_RIGHT,
    UP,
    SnakeConfig,
)
from gym_snake.env import SnakeEnv
from gym_snake.vector import SnakeVectorEnv

__all__ = [
    "SnakeEnv",
    "SnakeVectorEnv",
    "SnakeConfig",
    "register_envs",
    "ENV_IDS",
    "UP",
    "RIGHT",
    "DOWN",
    "LEFT",
    "TURN_LEFT",
    "STRAIGHT",
    "TURN_RIGHT",
    "EMPTY",
    "BODY",
    "HEAD",
    "FOOD",
    "FEATURE_NAMES",
]
__version__ = "0.1.0"

ENV_IDS = ("snake-v0",)
# A full game on the default 10x10 board takes at most (100 - 3) foods x 100 steps (the
# starvation limit), so this limit never cuts a game that is still making progress there.
MAX_EPISODE_STEPS = 10_000


def register_envs() -> None:
    """Register this package's ids with Gymnasium (safe to call more than once)."""
    if "snake-v0" not in gym.registry:
        gym.register(
            id="snake-v0",
            entry_point="gym_snake.env:SnakeEnv",
            vector_entry_point="gym_snake.vector:SnakeVectorEnv",
            max_episode_steps=MAX_EPISODE_STEPS,
        )


register_envs()
