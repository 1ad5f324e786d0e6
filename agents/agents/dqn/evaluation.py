"""Evaluating many episodes at once: one batched forward pass per step instead of one per episode."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from agents.common.evaluation import Evaluation


def evaluate_batched(agent: Any, env_id: str, n_episodes: int, *, seed: int, greedy: bool = True,
                     **env_kwargs: Any) -> Evaluation:
    """The same episodes as `agents.common.evaluation.evaluate` (episode i starts from `reset(seed=seed + i)`),
    played side by side in a vector env of `n_episodes` copies of `env_id`, with `agent.act` on the
    whole batch of observations. For a greedy (deterministic) policy the returns are identical."""
    if n_episodes <= 0:
        raise ValueError(f"n_episodes must be positive, got {n_episodes}")
    envs = gym.make_vec(env_id, n_episodes, vectorization_mode="sync", **env_kwargs)
    try:
        obs, _ = envs.reset(seed=seed)
        returns = np.zeros(n_episodes)
        lengths = np.zeros(n_episodes, dtype=np.int64)
        running = np.ones(n_episodes, dtype=bool)
        while running.any():
            obs, rewards, terminated, truncated, _ = envs.step(agent.act(obs, greedy=greedy))
            returns[running] += rewards[running]
            lengths[running] += 1
            running &= ~(terminated | truncated)
        return Evaluation(returns, lengths)
    finally:
        envs.close()
