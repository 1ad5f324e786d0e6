"""Evaluating an agent: run whole episodes with its (greedy) policy and report the returns."""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np


@dataclass(frozen=True)
class Evaluation:
    returns: np.ndarray
    lengths: np.ndarray

    @property
    def mean(self) -> float:
        return float(self.returns.mean())

    @property
    def std(self) -> float:
        return float(self.returns.std())


def evaluate(agent, env: gym.Env, n_episodes: int, *, seed: int, greedy: bool = True) -> Evaluation:
    """Play `n_episodes` episodes; episode i starts from `env.reset(seed=seed + i)`, so two agents
    evaluated with the same seed face the same start states. Agents whose `uses_action_mask` is true
    get `action_mask=info.get("action_mask")` with every observation."""
    if n_episodes <= 0:
        raise ValueError(f"n_episodes must be positive, got {n_episodes}")
    returns = np.zeros(n_episodes)
    lengths = np.zeros(n_episodes, dtype=np.int64)
    masked = getattr(agent, "uses_action_mask", False)
    for episode in range(n_episodes):
        obs, info = env.reset(seed=seed + episode)
        done = False
        while not done:
            if masked:
                action = agent.act(obs, greedy=greedy, action_mask=info.get("action_mask"))
            else:
                action = agent.act(obs, greedy=greedy)
            obs, reward, terminated, truncated, info = env.step(action)
            returns[episode] += float(reward)
            lengths[episode] += 1
            done = terminated or truncated
    return Evaluation(returns, lengths)
