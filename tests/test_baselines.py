"""agents.baselines: the SB3 adapters (real SB3, real envs), the random agent, per-env settings."""

from __future__ import annotations

import dataclasses
import inspect

import gymnasium as gym
import numpy as np
import pytest
import torch

from agents import hyperparams as per_env
from agents import load_agent, make_agent
from agents.baselines.random_agent import RandomAgent
from agents.baselines.sb3 import SB3A2C, SB3DQN, SB3PPO, SB3MaskablePPO
from agents.common.checkpoint import CheckpointError, save_torch
from agents.common.envs import make_env
from agents.common.evaluation import evaluate
from agents.common.yaml_files import read_yaml

ADAPTERS = (SB3DQN, SB3PPO, SB3A2C, SB3MaskablePPO)
OUR_FIELDS = {
    "policy",
    "net_arch",
    "activation",
    "cell_pixels",
    "cnn_channels",
    "lr_schedule",
    "clip_range_schedule",
    "n_envs",
    "exploration_steps",
}


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.algo)
def test_config_defaults_are_the_sb3_defaults(adapter) -> None:
    """Every Config field but ours is an SB3 constructor argument with the same default."""
    sb3_defaults = {name: p.default for name, p in inspect.signature(adapter.sb3_class()).parameters.items()}
    for field in dataclasses.fields(adapter.Config):
        if field.name in OUR_FIELDS:
            continue
        assert field.name in sb3_defaults, f"{field.name} is not an argument of {adapter.sb3_class().__name__}"
        assert field.default == sb3_defaults[field.name], field.name


def test_save_load_acts_identically_and_never_unpickles(tmp_path) -> None:
    env = make_env("CartPole-v1")
    agent = make_agent("sb3-ppo", env, {"n_steps": 64, "batch_size": 32, "n_epochs": 2}, seed=3)
    agent.train(env, 200, progress=False)
    path = tmp_path / "ppo.pt"
    agent.save(path)
    payload = torch.load(path, weights_only=True)  # plain tensors and values: loads without pickle
    assert payload["meta"]["algo"] == "sb3-ppo" and payload["meta"]["hyperparameters"]["n_steps"] == 64
    loaded = load_agent(path)  # no env needed: the spaces are in the file
    assert loaded.hyperparameters() == agent.hyperparameters()
    observations = [env.observation_space.sample() for _ in range(50)]
    assert [loaded.act(o) for o in observations] == [agent.act(o) for o in observations]
    with pytest.raises(ValueError, match="trained on observation space"):
        load_agent(path, make_env("mdp-v0"))


def test_loading_rejects_foreign_and_mismatched_files(tmp_path) -> None:
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"PK\x03\x04 not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable .pt agent checkpoint"):
        SB3DQN.load(garbage)
    env = make_env("mdp-v0")
    dqn = tmp_path / "dqn.pt"
    make_agent("sb3-dqn", env, {"buffer_size": 1000}, seed=0).save(dqn)
    with pytest.raises(CheckpointError, match="holds a 'sb3-dqn' agent, not 'sb3-ppo'"):
        SB3PPO.load(dqn)
    # the right algorithm, but a network that does not fit the recorded hyperparameters
    meta, payload = torch.load(dqn, weights_only=True)["meta"], torch.load(dqn, weights_only=True)
    payload.pop("meta")
    meta["hyperparameters"]["net_arch"] = [7]
    bad = tmp_path / "bad.pt"
    save_torch(bad, "sb3-dqn", {k: v for k, v in meta.items() if k not in ("format", "version", "algo")}, payload)
    with pytest.raises(CheckpointError, match="does not fit sb3-dqn"):
        SB3DQN.load(bad)


def test_training_stops_at_exactly_the_budget() -> None:
    """PPO's rollouts would overshoot (2 envs x 64 steps = 128 per rollout); the adapter stops at 100."""
    env = gym.make_vec("CartPole-v1", 2, vectorization_mode="sync")
    seen = []
    agent = make_agent("sb3-ppo", env, {"n_envs": 2, "n_steps": 64, "batch_size": 32}, seed=0)
    agent.train(env, 100, callback=lambda a, steps: seen.append(steps), progress=False)
    assert agent.model.num_timesteps == 100
    assert seen[0] == 2 and seen[-1] == 100 and np.all(np.diff(seen) == 2)
    assert all(step <= 100 for step, _, _ in agent.episode_log)


def test_exploration_steps_do_not_depend_on_the_budget() -> None:
    env = make_env("mdp-v0")
    agent = make_agent(
        "sb3-dqn", env, {"exploration_steps": 500, "exploration_final_eps": 0.1, "buffer_size": 1000}, seed=0
    )
    agent.train(env, 2000, progress=False)
    schedule = agent.model.exploration_schedule  # SB3 counts progress from 1 (start) to 0 (end of training)
    assert (
        schedule(1.0) == 1.0
        and schedule(1 - 250 / 2000) == pytest.approx(0.55)
        and schedule(1 - 500 / 2000) == pytest.approx(0.1)
    )
    assert agent.model.exploration_rate == pytest.approx(0.1)


def test_a_second_train_call_continues_where_the_first_stopped() -> None:
    """Two calls of 300 steps = one of 600: the step count, learning_starts, the number of updates and
    epsilon (exploration_steps) go on, as our own agents' do; before, each call restarted them from 0."""
    settings = {"learning_starts": 200, "train_freq": 4, "exploration_steps": 400, "exploration_final_eps": 0.1}
    env = make_env("mdp-v0")
    whole = make_agent("sb3-dqn", env, settings, seed=0).train(env, 600, progress=False)
    agent = make_agent("sb3-dqn", env, settings, seed=0)
    seen: list[int] = []
    agent.train(env, 300, callback=lambda a, steps: seen.append(steps), progress=False)
    rate_at_300 = agent.model.exploration_rate
    agent.train(env, 300, callback=lambda a, steps: seen.append(steps), progress=False)
    assert seen == list(range(1, 601))
    assert agent.model.num_timesteps == whole.model.num_timesteps == 600
    # SB3 updates after each rollout of train_freq steps, but not after the one that ends a call at its budget
    assert whole.model._n_updates == (600 - 200) // 4 - 1 and agent.model._n_updates == (600 - 200) // 4 - 2
    assert rate_at_300 == pytest.approx(1 - 0.9 * 300 / 400, abs=0.01)  # SB3's epsilon lags a step or two
    assert agent.model.exploration_rate == whole.model.exploration_rate == pytest.approx(0.1)
    assert [step for step, _, _ in agent.episode_log] == sorted(step for step, _, _ in agent.episode_log)
    ppo = make_agent("sb3-ppo", env, {"n_steps": 64, "batch_size": 32}, seed=0)
    ppo.train(env, 100, progress=False).train(env, 100, progress=False)
    assert ppo.model.num_timesteps == 200


def test_same_seed_same_weights_different_seed_different_weights() -> None:
    def trained(seed: int) -> dict:
        env = make_env("mdp-v0")
        agent = make_agent("sb3-dqn", env, {"learning_starts": 50, "buffer_size": 1000}, seed=seed)
        return agent.train(env, 300, progress=False).model.policy.state_dict()

    first, again, other = trained(1), trained(1), trained(2)
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert not all(torch.equal(first[k], other[k]) for k in first)


def test_maskable_ppo_uses_the_mask_and_needs_one() -> None:
    env = make_env("mdp-v0")
    agent = make_agent("sb3-maskable-ppo", env, {"n_steps": 64, "batch_size": 32}, seed=0).train(
        env, 128, progress=False
    )
    allowed = {0: {0, 1, 2}, 1: {0, 2}, 2: {1}}
    for state, actions in allowed.items():
        mask = np.isin(np.arange(3), list(actions)).astype(np.int8)
        picks = {agent.act(state, greedy=False, action_mask=mask) for _ in range(30)}
        assert picks <= actions
    # evaluate() passes info["action_mask"], so no episode ever takes a disallowed action
    strict = make_env("mdp-v0", invalid_action="raise")
    evaluate(agent, strict, 3, seed=0, greedy=False)
    with pytest.raises(ValueError, match="needs an env with action masks.*CartPole-v1 has none"):
        make_agent("sb3-maskable-ppo", make_env("CartPole-v1"))


@pytest.mark.parametrize(
    ("algo", "env_id", "config", "message"),
    [
        ("sb3-dqn", "Pendulum-v1", None, "sb3-dqn needs a Discrete action space"),
        ("sb3-ppo", "CartPole-v1", {"learning_rate": -1.0}, "learning_rate must be > 0"),
        ("sb3-ppo", "CartPole-v1", {"policy": "Transformer"}, "policy must be one of"),
        ("sb3-a2c", "CartPole-v1", {"net_arch": [64, 0]}, "net_arch must be one or more layer sizes from 1 to"),
        ("sb3-dqn", "CartPole-v1", {"gradient_steps": 0}, "gradient_steps must be positive or -1"),
        ("sb3-dqn", "CartPole-v1", {"learning_rat": 0.1}, "unknown hyperparameter"),
    ],
)
def test_bad_spaces_and_hyperparameters_fail_clearly(algo, env_id, config, message) -> None:
    with pytest.raises(ValueError, match=message):
        make_agent(algo, make_env(env_id), config)


def test_n_envs_must_match_the_env_given() -> None:
    agent = make_agent("sb3-a2c", make_env("CartPole-v1"), {"n_envs": 4})
    with pytest.raises(ValueError, match="n_envs=4 but train\\(\\) got 1 env"):
        agent.train(make_env("CartPole-v1"), 100, progress=False)


def test_random_agent_respects_masks_and_plays_its_budget(tmp_path) -> None:
    env = make_env("mdp-v0", invalid_action="raise")
    agent = RandomAgent(env, seed=0)
    agent.train(env, 1000, progress=False)  # would raise on a disallowed action
    assert [step for step, _, _ in agent.episode_log] == list(range(100, 1001, 100))
    agent.save(tmp_path / "random.npz")
    assert load_agent(tmp_path / "random.npz", env).seed == 0
    seen: list[int] = []  # a second call goes on counting, as a learner's does, and does not reseed
    agent.train(env, 500, callback=lambda a, step: seen.append(step), progress=False)
    assert seen == list(range(1001, 1501)) and agent.num_timesteps == 1500
    assert [step for step, _, _ in agent.episode_log][-5:] == list(range(1100, 1501, 100))
    planner = make_agent("planner", make_env("gridworld-v0"), seed=0)
    planner.train(make_env("gridworld-v0"), 30, progress=False).train(make_env("gridworld-v0"), 30, progress=False)
    assert planner.num_timesteps == 60


def test_per_env_settings_come_from_the_files_and_overrides() -> None:
    zoo = per_env.per_env_settings("sb3-dqn", "CartPole-v1")
    assert zoo.hyperparameters["target_update_interval"] == 10 and "rl-zoo3" in zoo.source
    assert per_env.per_env_settings("sb3-dqn", "Acrobot-v1").hyperparameters == {}
    override = {"sb3-dqn": {"CartPole-v1": {"hyperparameters": {"gamma": 0.9}, "source": "mine"}}}
    assert per_env.per_env_settings("sb3-dqn", "CartPole-v1", override).hyperparameters == {"gamma": 0.9}
    with pytest.raises(ValueError, match="unknown key"):
        per_env.parse_entry({"hyperparams": {}}, "test")


def test_hyperparameter_files_build_their_agents() -> None:
    """Every entry of every shipped file makes a valid config for its algorithm."""
    from agents.base import get_agent_class, make_config

    for path in sorted(per_env.HYPERPARAMS_DIR.glob("*.yml")):
        table = read_yaml(path) or {}
        for env_id, entry in table.items():
            settings = per_env.parse_entry(entry, f"{path.name}/{env_id}")
            make_config(get_agent_class(path.stem), settings.hyperparameters)
            assert settings.source, f"{path.name}/{env_id} does not say where its values come from"


def test_only_observation_wrappers_are_allowed() -> None:
    env = make_env("CartPole-v1")
    wrapped = per_env.apply_wrappers(env, [("gymnasium.wrappers:FlattenObservation", {})])
    assert isinstance(wrapped, gym.wrappers.FlattenObservation)
    with pytest.raises(ValueError, match="not a gymnasium.ObservationWrapper"):
        per_env.apply_wrappers(env, [("gymnasium.wrappers:ClipReward", {"min_reward": 0})])
    with pytest.raises(ValueError, match="cannot import 'gymnasium.wrappers:NoSuchWrapper'"):
        per_env.apply_wrappers(env, [("gymnasium.wrappers:NoSuchWrapper", {})])


def test_sb3_dqn_train_freq_counts_the_transitions_of_every_env_copy() -> None:
    """train_freq is in env steps of all n_envs copies together, as in our DQN; SB3 counts vector steps."""
    envs = gym.vector.SyncVectorEnv([lambda: gym.make("CartPole-v1")] * 4)
    agent = SB3DQN(envs, {"n_envs": 4, "train_freq": 8, "learning_starts": 0}, seed=0)
    assert agent.model.train_freq.frequency == 2  # every 2 vector steps = 8 transitions
    with pytest.raises(ValueError, match="train_freq counts env steps of all 4 env copies .* got train_freq=6"):
        SB3DQN(envs, {"n_envs": 4, "train_freq": 6}, seed=0)
    with pytest.raises(ValueError, match="n_envs must be at most 1024"):
        SB3DQN(envs, {"n_envs": 5000}, seed=0)
