"""The suite's envs under third-party RL frameworks, as a user would run them (marker `clients`):
rl-zoo3 (train + enjoy through its command line), tianshou (DQN over SubprocVectorEnv) and torchrl
(GymEnv + check_env_specs + a ParallelEnv rollout). The commands here are the ones docs/clients.md
shows; the quirks they work around are listed there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.wrappers import FlattenObservation

pytestmark = pytest.mark.clients

# Gymnasium 1.x: worker processes (spawn) know only ids whose package they imported, so the
# "package:id" form, which imports it, is what the workers get.
SNAKE = "gym_snake:snake-v0"
SNAKE_KWARGS = {"obs_type": "features"}

RL_ZOO_CONFIG = """\
snake-v0:
  policy: MlpPolicy
  n_timesteps: 2000
  n_envs: 2
  n_steps: 64
  batch_size: 64
  n_epochs: 2
  env_kwargs:
    obs_type: features
"""


def _zoo(args: list[str], cwd: Path) -> str:
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out.stdout


def test_rl_zoo3_trains_and_enjoys_snake(tmp_path: Path) -> None:
    (tmp_path / "snake.yml").write_text(RL_ZOO_CONFIG)
    common = ["--algo", "ppo", "--env", "snake-v0", "--gym-packages", "gym_snake", "-f", "logs", "--device", "cpu"]
    _zoo(["rl_zoo3.train", *common, "-n", "2000", "-conf", "snake.yml", "--seed", "0"], tmp_path)
    model = tmp_path / "logs" / "ppo" / "snake-v0_1" / "snake-v0.zip"
    assert model.is_file(), sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    out = _zoo(["rl_zoo3.enjoy", *common, "--exp-id", "1", "-n", "300", "--no-render", "--deterministic"], tmp_path)
    assert "Mean reward:" in out and "Episodes" in out, out[-2000:]


def test_tianshou_dqn_with_subprocess_envs() -> None:
    import torch
    from tianshou.algorithm.modelfree.dqn import DQN, DiscreteQLearningPolicy
    from tianshou.algorithm.optim import AdamOptimizerFactory
    from tianshou.data import Collector, VectorReplayBuffer
    from tianshou.env import SubprocVectorEnv
    from tianshou.trainer import OffPolicyTrainerParams
    from tianshou.utils.net.common import Net

    torch.manual_seed(0)
    env = gym.make(SNAKE, **SNAKE_KWARGS)
    train_envs = SubprocVectorEnv([lambda: gym.make(SNAKE, **SNAKE_KWARGS) for _ in range(2)])
    test_envs = SubprocVectorEnv([lambda: gym.make(SNAKE, **SNAKE_KWARGS) for _ in range(2)])
    train_envs.seed(0)
    test_envs.seed(100)
    net = Net(state_shape=env.observation_space.shape, action_shape=int(env.action_space.n), hidden_sizes=[64, 64])
    policy = DiscreteQLearningPolicy(model=net, action_space=env.action_space, eps_training=0.1)
    algorithm = DQN(policy=policy, optim=AdamOptimizerFactory(lr=1e-3), gamma=0.9, target_update_freq=100)
    train_collector = Collector(algorithm, train_envs, VectorReplayBuffer(5000, 2), exploration_noise=True)
    test_collector = Collector(algorithm, test_envs)
    params = OffPolicyTrainerParams(
        training_collector=train_collector,
        test_collector=test_collector,
        max_epochs=1,
        epoch_num_steps=1000,
        collection_step_num_env_steps=10,
        test_step_num_episodes=2,
        batch_size=32,
        update_step_num_gradient_steps_per_sample=0.1,
        show_progress=False,
        verbose=False,
    )
    try:
        result = algorithm.run_training(params)
    finally:
        train_envs.close()
        test_envs.close()
    assert result.train_step >= 1000 and result.update_step >= 90 and result.test_episode >= 2, result


def test_tianshou_net_takes_mdp_after_flatten_observation() -> None:
    """tianshou's Net cannot take mdp-v0's scalar Discrete observation; Gymnasium's
    FlattenObservation (one-hot) fixes it, and SB3's checker stays silent on the result."""
    from tianshou.data import Batch
    from tianshou.utils.net.common import Net

    env = FlattenObservation(gym.make("gym_mdp:mdp-v0"))
    obs, _ = env.reset(seed=0)
    net = Net(state_shape=env.observation_space.shape, action_shape=int(env.action_space.n), hidden_sizes=[8])
    q_values, _ = net(Batch(obs=obs[None]).obs)
    assert tuple(q_values.shape) == (1, 3)


def _torchrl_snake():
    from torchrl.envs import GymEnv

    return GymEnv(SNAKE, **SNAKE_KWARGS)


def test_torchrl_specs_and_parallel_rollout() -> None:
    from torchrl.envs import GymEnv, GymWrapper, ParallelEnv
    from torchrl.envs.utils import check_env_specs

    for env_id, kwargs in [
        (SNAKE, SNAKE_KWARGS),
        ("gym_snake:snake-v0", {"obs_type": "grid"}),
        ("gym_gridworld:gridworld-v0", {}),
        ("gym_gridworld:pacman-v0", {}),
        ("gym_mdp:mdp-v0", {}),
    ]:
        env = GymEnv(env_id, **kwargs)
        check_env_specs(env, seed=0)
        env.close()
    # n-dimensional MultiBinary (gridworld/pac-man obs_type="grid") needs Gymnasium's FlattenObservation
    for env_id in ("gym_gridworld:gridworld-v0", "gym_gridworld:pacman-v0"):
        env = GymWrapper(FlattenObservation(gym.make(env_id, obs_type="grid")))
        check_env_specs(env, seed=0)
        env.close()

    penv = ParallelEnv(2, _torchrl_snake)
    try:
        penv.set_seed(0)
        rollout = penv.rollout(60, break_when_any_done=False)
    finally:
        penv.close()
    assert tuple(rollout.batch_size) == (2, 60)
    observations = rollout["observation"].numpy()
    assert observations.shape == (2, 60, 11) and np.isfinite(rollout["next", "reward"].numpy()).all()
    assert not np.array_equal(observations[0], observations[1]), "the two workers played the same game"
