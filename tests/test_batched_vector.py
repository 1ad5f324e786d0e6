"""BatchedProcessVectorEnv on CartPole (no Atari needed): its info batching equals Gymnasium's on random
infos, its sub-envs equal single envs with and without worker processes, and its polling option."""

from __future__ import annotations

import multiprocessing
import time

import gymnasium as gym
import numpy as np
import pytest

from agents.wrappers.vector import BatchedProcessVectorEnv, batch_infos, wait_for_message
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


@pytest.mark.parametrize(
    "num_workers, spin_s",
    [(0, 0.001), (2, 0.0), (2, 0.001)],
    ids=["in-this-process", "workers-sleeping", "workers-polling"],
)
def test_vector_env_equals_single_envs_and_autoresets(num_workers: int, spin_s: float) -> None:
    venv = BatchedProcessVectorEnv([lambda: gym.make("CartPole-v1")] * 3, num_workers=num_workers, spin_s=spin_s)
    singles = [gym.make("CartPole-v1") for _ in range(3)]
    obs, _ = venv.reset(seed=7)
    assert_same(obs, np.stack([env.reset(seed=7 + i)[0] for i, env in enumerate(singles)]))
    pending = [False] * 3
    for batch in np.random.default_rng(0).integers(0, 2, (60, 3)):
        obs, rewards, terminations, truncations, _ = venv.step(batch)
        for i, env in enumerate(singles):
            if pending[i]:
                expected, reward, done = env.reset()[0], 0.0, False
                pending[i] = False
            else:
                expected, reward, terminated, truncated, _ = env.step(int(batch[i]))
                done = pending[i] = terminated or truncated
            assert_same(obs[i], expected)
            assert (rewards[i], terminations[i] or truncations[i]) == (reward, done)
    venv.close()


@pytest.mark.parametrize("spin_s", [-0.1, 2, float("nan"), True, "0.001"])
def test_spin_s_outside_0_to_1_seconds_is_refused(spin_s) -> None:
    with pytest.raises(ValueError, match=r"spin_s must be a number of seconds in 0..1"):
        BatchedProcessVectorEnv([lambda: gym.make("CartPole-v1")] * 2, num_workers=1, spin_s=spin_s)


def test_wait_for_message_returns_on_a_message_and_after_its_poll_without_one() -> None:
    receiver, sender = multiprocessing.Pipe(duplex=False)
    wait_for_message(receiver, 0.01)  # nothing comes: returns after polling 10 ms
    assert not receiver.poll()
    sender.send("step")
    start = time.perf_counter()
    wait_for_message(receiver, 10.0)  # returns at once, not after polling 10 s
    assert time.perf_counter() - start < 5.0
    assert receiver.recv() == "step"
