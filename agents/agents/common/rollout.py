"""Playing a fixed policy for a number of env steps, as a non-learning agent's `train` does.

    play_steps(agent, env, 10_000, lambda obs, info: agent.act(obs), callback=callback)

The env is reset with the agent's seed on its first call and without one after every episode; a later call
continues the agent's step count (`agent.num_timesteps`, as the learners' do). Episodes go to
`agent.episode_log` and the logger; `callback(agent, step)` is called after every step with the agent's
step count and stops the loop by returning True.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from agents.common.logging import TrainLogger


def play_steps(
    agent: Any,
    env: gym.Env,
    total_steps: int,
    policy: Callable[[Any, dict], Any],
    *,
    callback: Callable[[Any, int], Any] | None = None,
    log_dir: str | Path | None = None,
    progress: bool = True,
) -> None:
    """Play `total_steps` steps of the single env `env` with `policy(obs, info)`."""
    if isinstance(env, gym.vector.VectorEnv):
        raise ValueError(f"{agent.algo} plays a single env; pass gym.make(id), not a vector env")
    if not isinstance(total_steps, (int, np.integer)) or total_steps <= 0:
        raise ValueError(f"total_steps must be a positive integer, got {total_steps!r}")
    with TrainLogger(total_steps, log_dir, progress=progress, desc=agent.algo) as logger:
        start = getattr(agent, "num_timesteps", 0)
        obs, info = env.reset(seed=agent.seed if start == 0 else None)
        episode_return, length = 0.0, 0
        for step in range(start + 1, start + int(total_steps) + 1):
            obs, reward, terminated, truncated, info = env.step(policy(obs, info))
            agent.num_timesteps = step
            episode_return += float(reward)
            length += 1
            logger.step()
            if terminated or truncated:
                logger.episode(step, episode_return, length)
                agent.episode_log.append((step, episode_return, length))
                obs, info = env.reset()
                episode_return, length = 0.0, 0
            if callback is not None and callback(agent, step):
                break
