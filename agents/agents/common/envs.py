"""Making environments by id: the suite's own ids, Atari ids and any registered Gymnasium id."""

from __future__ import annotations

import importlib
from typing import Any

import gymnasium as gym

# The env packages of this suite and the ids they register.
SUITE_PACKAGES = ("gym_mdp", "gym_snake", "gym_gridworld")
SUITE_ENV_IDS = ("snake-v0", "gridworld-v0", "pacman-v0", "mdp-v0")


def register_suite_envs() -> None:
    """Import the suite's env packages (which registers their ids) and ale-py's Atari ids."""
    for package in SUITE_PACKAGES:
        importlib.import_module(package)
    try:
        import ale_py
    except ImportError:  # Atari support is optional for the env packages
        return
    gym.register_envs(ale_py)


def check_env_id(env_id: str) -> None:
    """Raise a ValueError naming the suite's ids if `env_id` is not registered."""
    register_suite_envs()
    if ":" in env_id:
        return  # "module:Id": gym.make imports the module first
    if env_id not in gym.registry:
        suite = ", ".join(i for i in SUITE_ENV_IDS if i in gym.registry)
        raise ValueError(
            f"unknown env id {env_id!r}; the suite's ids are {suite}; any registered Gymnasium id also works "
            "(e.g. CartPole-v1, FrozenLake-v1, ALE/Pong-v5)"
        )


def make_env(env_id: str, **kwargs: Any) -> gym.Env:
    """`gym.make` with the suite's ids registered and a clear error for an unknown id."""
    check_env_id(env_id)
    return gym.make(env_id, **kwargs)
