"""Evaluating an agent: run whole episodes with its (greedy) policy and report the returns.

result = evaluate(agent, env, 100, seed=1000)                    # one episode after another
result = evaluate_batched(agent, "CartPole-v1", 100, seed=1000)  # the same episodes, one batched act() per step
result.mean, result.std, result.returns, result.lengths
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    get `action_mask=info.get("action_mask")` with every observation; agents whose `uses_env_state` is
    true (the privileged reference planners) get `env=env`, to read its true state."""
    if n_episodes <= 0:
        raise ValueError(f"n_episodes must be positive, got {n_episodes}")
    returns = np.zeros(n_episodes)
    lengths = np.zeros(n_episodes, dtype=np.int64)
    masked = getattr(agent, "uses_action_mask", False)
    state = {"env": env} if getattr(agent, "uses_env_state", False) else {}  # privileged planners
    for episode in range(n_episodes):
        obs, info = env.reset(seed=seed + episode)
        done = False
        while not done:
            if masked:
                action = agent.act(obs, greedy=greedy, action_mask=info.get("action_mask"), **state)
            else:
                action = agent.act(obs, greedy=greedy, **state)
            obs, reward, terminated, truncated, info = env.step(action)
            returns[episode] += float(reward)
            lengths[episode] += 1
            done = terminated or truncated
    return Evaluation(returns, lengths)


def evaluate_batched(
    agent: Any, env_id: str, n_episodes: int, *, seed: int, greedy: bool = True, **env_kwargs: Any
) -> Evaluation:
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
