"""Tabular MDPs for Gymnasium. Importing this package registers `mdp-v0`.

>>> import gymnasium as gym, gym_mdp
>>> env = gym.make("mdp-v0")            # or gym.make("gym_mdp:mdp-v0") without the import
"""

from __future__ import annotations

import gymnasium as gym

from gym_mdp.tabular_mdp import InvalidMDPError, TabularMDP
from gym_mdp.three_state import ThreeStateMDP

__all__ = ["TabularMDP", "ThreeStateMDP", "InvalidMDPError", "register_envs", "ENV_IDS"]
__version__ = "0.1.0"

ENV_IDS = ("mdp-v0",)


def register_envs() -> None:
    """Register this package's ids with Gymnasium (safe to call more than once)."""
    if "mdp-v0" not in gym.registry:
        gym.register(id="mdp-v0", entry_point="gym_mdp.three_state:ThreeStateMDP", max_episode_steps=100)


register_envs()
