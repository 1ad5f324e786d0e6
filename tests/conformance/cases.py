"""The env ids (and option sets) of this suite that every conformance check runs on.

Add a line here for every new id or option set that changes spaces, dynamics or rendering.
"""

from __future__ import annotations

import gym_gridworld  # noqa: F401  (registers the ids below)
import gym_mdp  # noqa: F401  (registers the ids below)
import gym_snake  # noqa: F401  (registers the ids below)
from gym_conformance import EnvCase

SUITE_CASES: list[EnvCase] = [
    EnvCase("mdp-v0"),
    EnvCase("mdp-v0", {"invalid_action": "raise"}),  # raises on masked-out actions: checkers sample with the mask
    EnvCase("gym_mdp:mdp-v0"),
    EnvCase("gridworld-v0"),
    EnvCase("gridworld-v0", {"obs_type": "grid"}),
    EnvCase("gridworld-v0", {"partial": True}),
    EnvCase("gridworld-v0", {"obs_type": "grid", "partial": True}),
    EnvCase("gridworld-v0", {"size": 8, "n_goals": 3, "n_fires": 6, "step_penalty": 0.05}),
    # gym_gridworld: image, one-hot grid, the partial view, custom sizes; pac-man's layouts
    EnvCase("gym_gridworld:gridworld-v0", n_steps=120),
    EnvCase("pacman-v0"),
    EnvCase("pacman-v0", {"obs_type": "grid"}),
    EnvCase("pacman-v0", {"layout": "medium", "lives": 1}),
    # gym_snake: every observation type, both action modes, the torus, a small board
    EnvCase("snake-v0"),
    EnvCase("gym_snake:snake-v0", {"obs_type": "grid"}),
    EnvCase("snake-v0", {"obs_type": "features", "action_mode": "relative"}),
    EnvCase("snake-v0", {"obs_type": "grid", "wrap_walls": True, "max_steps_without_food": 30}),
    EnvCase("snake-v0", {"obs_type": "rgb", "width": 6, "height": 5, "initial_length": 2, "cell_size": 8}),
    EnvCase("snake-v0", {"obs_type": "features", "width": 3, "height": 2, "initial_length": 1}),
    # Gymnasium's own FrozenLake: a sanity check of the suite itself (it must pass too)
    EnvCase("FrozenLake-v1"),
]
