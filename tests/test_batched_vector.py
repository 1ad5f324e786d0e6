"""BatchedProcessVectorEnv's info batching equals Gymnasium's, on random infos (no Atari needed)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from agents.wrappers.vector import BatchedProcessVectorEnv, batch_infos
from gym_conformance.checks import assert_same


class _Batcher(gym.vector.VectorEnv):
    """Only to call Gymnasium's own `_add_info`."""

    def __init__(self, num_envs: int) -> None:
        self.num_envs = num_envs


def random_infos(rng: np.random.Generator, num_envs: int) -> list[dict]:
    infos = []
    for i in range(num_envs):
        info: dict = {}
        if rng.random() < 0.7:
            info["lives"] = int(rng.integers(0, 5))
        if rng.random() < 0.5:
            info["raw_reward"] = float(rng.integers(-1, 2))
        if rng.random() < 0.5:
            info["game_over"] = bool(rng.random() < 0.5)
        if rng.random() < 0.3:
            info["episode"] = {"r": float(rng.random()), "l": int(rng.integers(9))}
        if rng.random() < 0.3:
            info["note"] = "text"
        if rng.random() < 0.3:
            info["mask"] = np.arange(3, dtype=np.int8) * i
        infos.append(info)
    return infos


def test_batch_infos_equals_gymnasium_add_info() -> None:
    rng = np.random.default_rng(0)
    for trial in range(300):
        num_envs = int(rng.integers(1, 6))
        per_env = random_infos(rng, num_envs)
        expected: dict = {}
        for i, info in enumerate(per_env):
            expected = _Batcher(num_envs)._add_info(expected, info, i)
        assert_same(batch_infos(per_env), expected, f"trial {trial}")


def test_in_process_vector_env_steps_and_autoresets() -> None:
    venv = BatchedProcessVectorEnv([lambda: gym.make("CartPole-v1")] * 3, num_workers=0)
    singles = [gym.make("CartPole-v1") for _ in range(3)]
    obs, _ = venv.reset(seed=5)
    assert_same(obs, np.stack([env.reset(seed=5 + i)[0] for i, env in enumerate(singles)]))
    pending = [False] * 3
    for _ in range(60):
        obs, rewards, terminations, truncations, _ = venv.step(np.ones(3, dtype=np.int64))
        for i, env in enumerate(singles):
            if pending[i]:
                expected, reward, done = env.reset()[0], 0.0, False
                pending[i] = False
            else:
                expected, reward, terminated, truncated, _ = env.step(1)
                done = pending[i] = terminated or truncated
            assert_same(obs[i], expected)
            assert (rewards[i], terminations[i] or truncations[i]) == (reward, done)
    venv.close()
