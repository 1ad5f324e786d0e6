"""Shared by the pac-man tests: play a vector env and single envs side by side and compare them."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

import gym_gridworld  # noqa: F401  (registers the ids)
from gym_gridworld.pacman import PacmanEnv
from gym_gridworld.pacman_engine import EATEN, SCARED
from gym_gridworld.pacman_vector import PacmanVectorEnv

INFO_KEYS = ("lives", "pellets_left", "win")


def side_by_side(actions: np.ndarray, seed: int, max_episode_steps: int | None = None, **kwargs: Any) -> dict[str, int]:
    """Step `PacmanVectorEnv` (num_envs = actions.shape[1]) and single `PacmanEnv`s seeded `seed + i`
    (NEXT_STEP autoreset done by hand, as SyncVectorEnv does) with `actions` (steps, games), asserting
    every observation, reward, flag and info equal. Returns counts of what the games went through."""
    n = actions.shape[1]
    vector = PacmanVectorEnv(num_envs=n, max_episode_steps=max_episode_steps, **kwargs)
    singles = [PacmanEnv(**kwargs) for _ in range(n)]
    if max_episode_steps is not None:
        singles = [gym.wrappers.TimeLimit(env, max_episode_steps) for env in singles]
    obs, info = vector.reset(seed=seed)
    for i, env in enumerate(singles):
        single_obs, single_info = env.reset(seed=seed + i)
        assert np.array_equal(single_obs, obs[i]), f"reset obs of game {i}"
        assert single_info == {key: info[key][i].item() for key in INFO_KEYS}
    seen = {"ended": 0, "won": 0, "died": 0, "scared": 0, "eaten": 0, "truncated": 0}
    pending = [False] * n
    for t, batch in enumerate(actions):
        obs, rewards, terminated, truncated, info = vector.step(batch)
        for i, env in enumerate(singles):
            where = f"step {t}, game {i}"
            if pending[i]:
                single_obs, single_info = env.reset()
                expected: tuple = (0.0, False, False)
                pending[i] = False
            else:
                single_obs, reward, term, trunc, single_info = env.step(int(batch[i]))
                expected = (float(reward), term, trunc)
                pending[i] = term or trunc
                seen["ended"] += pending[i]
                seen["won"] += single_info["win"]
                seen["truncated"] += trunc
                seen["died"] += reward <= -20.0
            assert np.array_equal(single_obs, obs[i]), f"{where}: observation"
            assert expected == (float(rewards[i]), bool(terminated[i]), bool(truncated[i])), f"{where}: {expected}"
            assert single_info == {key: info[key][i].item() for key in INFO_KEYS}, f"{where}: info"
        states = vector.games.ghost_states
        seen["scared"] += int((states == SCARED).any(axis=0).sum())
        seen["eaten"] += int((states == EATEN).any(axis=0).sum())
    return seen
