"""The DQN agent: spaces, config errors, acting, vector-env collection, checkpoints, resume, NaN, Ctrl-C."""

from __future__ import annotations

import signal
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from dqn_helpers import CounterEnv, LivesEnv, make_stacked

from agents.base import load_agent, make_agent
from agents.common.cell_cnn import reorder_feature_columns
from agents.common.checkpoint import CheckpointError, load_torch, save_torch
from agents.dqn import DQN, DQNConfig, TrainingDivergedError

# A small, fast configuration: CartPole learns a little within a few thousand steps.
SMALL = dict(
    device="cpu",
    hidden_sizes=(32, 32),
    learning_starts=200,
    train_freq=16,
    gradient_steps=4,
    n_step=1,
    batch_size=32,
    target_update_interval=100,
    exploration="linear:1.0:0.05:1000",
    buffer_size=5000,
)


def weights_equal(a: DQN, b: DQN) -> bool:
    pairs = list(zip(a.q_network.state_dict().values(), b.q_network.state_dict().values()))
    pairs += zip(a.target_network.state_dict().values(), b.target_network.state_dict().values())
    pairs += zip(a.policy_network.state_dict().values(), b.policy_network.state_dict().values())
    return all(torch.equal(x, y) for x, y in pairs)


# ---------------------------------------------------------------------------------------- construction
@pytest.mark.parametrize(
    "space, name",
    [
        (gym.spaces.Box(-1, 1, (2,), np.float32), "Box"),
        (gym.spaces.MultiDiscrete([2, 3]), "MultiDiscrete"),
    ],
)
def test_non_discrete_actions_fail_at_construction_naming_the_space(space: gym.Space, name: str) -> None:
    env = CounterEnv()
    env.action_space = space
    with pytest.raises(ValueError, match=f"Discrete action space, got {name}"):
        DQN(env, SMALL)


def test_dict_observations_fail_at_construction_naming_the_space() -> None:
    env = CounterEnv()
    env.observation_space = gym.spaces.Dict({"position": gym.spaces.Box(-1, 1, (2,))})
    with pytest.raises(ValueError, match="observation space Dict"):
        DQN(env, SMALL)


@pytest.mark.parametrize(
    "override, message",
    [
        ({"optimizer": "sgd"}, "optimizer must be one of"),
        ({"loss": "l1"}, "loss must be one of"),
        ({"gamma": 1.5}, r"gamma must be in \[0, 1\]"),
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"tau": 0.0}, r"tau must be in \(0, 1\]"),
        ({"exploration": "linear:1:0"}, "cannot parse schedule"),
        ({"device": "tpu"}, "device must be one of"),
        ({"max_grad_norm": -1.0}, "max_grad_norm must be positive"),
        ({"policy_averaging": 1.0}, r"policy_averaging must be in \[0, 1\)"),
        ({"policy_averaging": -0.5}, r"policy_averaging must be in \[0, 1\)"),
        ({"learning_rat": 1e-3}, "unknown hyperparameter"),
    ],
)
def test_invalid_config_values_are_named(override: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_agent("dqn", gym.make("CartPole-v1"), override)


def test_nature_rmsprop_settings_are_expressible() -> None:
    agent = DQN(
        gym.make("CartPole-v1"),
        dict(
            SMALL,
            optimizer="rmsprop",
            learning_rate=2.5e-4,
            rmsprop_momentum=0.95,
            optimizer_eps=0.01,
            rmsprop_alpha=0.95,
        ),
    )
    group = agent.optimizer.param_groups[0]
    assert isinstance(agent.optimizer, torch.optim.RMSprop)
    assert (group["lr"], group["momentum"], group["eps"], group["alpha"]) == (2.5e-4, 0.95, 0.01, 0.95)


def test_every_config_field_has_help() -> None:
    import dataclasses

    assert all(f.metadata.get("help") for f in dataclasses.fields(DQNConfig))


# ---------------------------------------------------------------------------------------- acting
def test_act_single_and_batch_and_action_start() -> None:
    env = CounterEnv()
    env.action_space = gym.spaces.Discrete(3, start=-1)
    agent = DQN(env, SMALL, seed=1)
    obs = np.array([5.0, 2.0], dtype=np.float32)
    action = agent.act(obs)
    assert isinstance(action, int) and action in (-1, 0, 1)
    assert action == int(np.argmax(agent.q_values(obs))) - 1
    batch = np.stack([obs, obs + 1, obs - 3])
    actions = agent.act(batch)
    assert actions.shape == (3,) and actions[0] == action
    explored = {agent.act(obs, greedy=False) for _ in range(400)}  # eval_epsilon = 0.05 of random actions
    assert explored == {-1, 0, 1}
    with pytest.raises(ValueError, match="does not fit the observation space"):
        agent.act(np.zeros(5))


@pytest.mark.parametrize("autocast, dtype", [("none", torch.float32), ("bf16", torch.bfloat16)])
def test_autocast_setting_decides_the_forward_dtype_while_training(autocast: str, dtype: torch.dtype) -> None:
    agent = DQN(gym.make("CartPole-v1"), {**SMALL, "autocast": autocast}, seed=0)
    seen: set[torch.dtype] = set()
    agent.q_network.head.register_forward_hook(lambda _module, _inputs, output: seen.add(output.dtype))
    before = [p.clone() for p in agent.q_network.parameters()]
    agent.train(gym.make("CartPole-v1"), 400, progress=False)  # acting and 3 training phases
    assert seen == {dtype}  # every forward pass, acting and learning, in the configured precision
    assert all(p.dtype == torch.float32 for p in agent.q_network.parameters())  # the weights stay float32
    assert any(not torch.equal(a, b) for a, b in zip(before, agent.q_network.parameters()))
    assert torch.isfinite(agent._loss_sum)


def test_same_seed_same_network_and_global_rng_untouched() -> None:
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a, b = DQN(gym.make("CartPole-v1"), SMALL, seed=7), DQN(gym.make("CartPole-v1"), SMALL, seed=7)
    assert torch.rand(1) == before  # building the networks did not consume the global torch RNG
    assert weights_equal(a, b)
    assert not weights_equal(a, DQN(gym.make("CartPole-v1"), SMALL, seed=8))


# ---------------------------------------------------------------------------------------- collection
def stored_transitions(agent: DQN) -> tuple[np.ndarray, np.ndarray]:
    """Every sampleable transition of the agent's buffer as (obs, next_obs)."""
    buffer = agent.replay
    low, high = buffer._windows()
    envs, rows = [], []
    for e in range(buffer.n_envs):
        for j in range(low[e], high[e]):
            if buffer.is_transition[e, j % buffer.rows]:
                envs.append(e)
                rows.append(j)
    batch = buffer.gather(np.array(envs), np.array(rows))
    return batch.obs, batch.next_obs


@pytest.mark.parametrize("mode", ["NextStep", "SameStep", "Disabled"])
def test_vector_env_transitions_never_span_an_autoreset(mode: str) -> None:
    venv = gym.vector.SyncVectorEnv(
        [lambda: CounterEnv(truncate_at=5) for _ in range(3)], autoreset_mode=gym.vector.AutoresetMode(mode)
    )
    agent = DQN(venv, dict(SMALL, learning_starts=50, train_freq=8), seed=0).train(venv, 400, progress=False)
    assert 400 <= agent.env_steps < 403
    obs, next_obs = stored_transitions(agent)
    assert len(obs) == agent.env_steps  # every real step stored, NEXT_STEP's reset steps not
    np.testing.assert_array_equal(next_obs[:, 0], obs[:, 0])
    np.testing.assert_array_equal(next_obs[:, 1], obs[:, 1] + 1)
    lengths = np.array([length for _, _, length in agent.episode_log])
    returns = np.array([ret for _, ret, _ in agent.episode_log])
    np.testing.assert_array_equal(returns, lengths * (lengths + 1) / 2)  # reward t at step t
    assert lengths.max() == 5 and lengths.min() >= 3


@pytest.mark.parametrize("mode", ["NextStep", "SameStep", "Disabled"])
def test_vector_env_lost_lives_continue_the_game(mode: str) -> None:
    venv = gym.vector.SyncVectorEnv([LivesEnv for _ in range(2)], autoreset_mode=gym.vector.AutoresetMode(mode))
    agent = DQN(venv, dict(SMALL, learning_starts=1000), seed=0).train(venv, 60, progress=False)
    _, next_obs = stored_transitions(agent)
    assert set((next_obs[:, 1] // 100).astype(int)) == {0, 1, 2}


def test_single_env_transitions_and_episode_log() -> None:
    env = CounterEnv(truncate_at=5)
    agent = DQN(env, SMALL, seed=0).train(env, 300, progress=False)
    obs, next_obs = stored_transitions(agent)
    assert len(obs) == 300
    np.testing.assert_array_equal(next_obs[:, 1], obs[:, 1] + 1)
    assert sum(length for _, _, length in agent.episode_log) + agent.episode_state.lengths[0] == 300


def test_frame_stacked_env_is_detected_and_stored_once() -> None:
    env = make_stacked(stack=4, length=6)
    agent = DQN(env, dict(SMALL, learning_starts=40, train_freq=20, buffer_size=200), seed=0)
    assert agent.frame_stack == 4 and agent.replay.frames.shape[2:] == (84, 84)
    agent.train(env, 120, progress=False)
    obs, next_obs = stored_transitions(agent)
    np.testing.assert_array_equal(next_obs[:, :-1], obs[:, 1:])
    np.testing.assert_array_equal(next_obs[:, -1, 0, 0], (obs[:, -1, 0, 0].astype(int) + 1) % 256)


def test_a_lost_life_continues_the_game_and_resumes_exactly(tmp_path: Path) -> None:
    """Atari-style episodes (info["game_over"] False at a life loss) continue the game after reset,
    and a run interrupted in a later life resumes exactly (the replay spans the whole game)."""
    config = dict(SMALL, learning_starts=20, train_freq=4, batch_size=8)
    whole = DQN(LivesEnv(), config, seed=0).train(LivesEnv(), 100, progress=False)
    obs, next_obs = stored_transitions(whole)
    lives = (next_obs[:, 1] // 100).astype(int)
    assert set(lives) == {0, 1, 2}  # later lives were played, not only the first of each game
    assert len(np.unique(obs[:, 0])) == 100 // 12 + 1  # one tag per 12-step game
    interrupted = DQN(LivesEnv(), config, seed=0)
    with pytest.raises(KeyboardInterrupt):
        interrupted.train(
            LivesEnv(),
            100,
            progress=False,
            callback=interrupt_at(42),
            checkpoint_path=tmp_path / "c.pt",
            checkpoint_replay=True,
        )
    assert interrupted.episode_state.actions.count(-1) == 1  # 43 = 3 games + a life lost + 3 steps
    resumed = DQN.resume(tmp_path / "c.pt", LivesEnv(), progress=False)
    assert weights_equal(resumed, whole) and resumed.episode_log == whole.episode_log


def test_callback_stops_training() -> None:
    env = gym.make("CartPole-v1")
    agent = DQN(env, SMALL).train(env, 1000, progress=False, callback=lambda agent, step: step >= 300)
    assert agent.env_steps == 300


# ---------------------------------------------------------------------------------------- checkpoints
def test_save_load_round_trip_acts_identically(tmp_path: Path) -> None:
    env = gym.make("CartPole-v1")
    agent = DQN(env, dict(SMALL, dueling=True, double_dqn=True), seed=2).train(env, 600, progress=False)
    agent.save(tmp_path / "dqn.pt")
    for loaded in (DQN.load(tmp_path / "dqn.pt"), load_agent(tmp_path / "dqn.pt", env)):
        assert weights_equal(agent, loaded)
        assert loaded.config == agent.config and loaded.env_steps == 600
        obs = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
        np.testing.assert_array_equal(loaded.act(obs), agent.act(obs))
    meta, payload = load_torch(tmp_path / "dqn.pt")
    assert payload["replay"] is None and meta["algo"] == "dqn"


OLD_CELL_CNN_CHECKPOINT = Path(__file__).parent / "data" / "dqn_cell_cnn_chw.pt"


def test_a_cell_cnn_checkpoint_from_before_the_cell_major_flatten_gives_its_q_values_and_resumes(
    tmp_path: Path,
) -> None:
    """tests/data/dqn_cell_cnn_chw.pt was written by commit f34e86e's DQN (its cell CNN flattened channel by
    channel) with the Q-values it computed then, in the .json next to it; loading converts the weights."""
    import json

    import gym_snake  # noqa: F401

    reference = json.loads(OLD_CELL_CNN_CHECKPOINT.with_suffix(".json").read_text())
    env = gym.make("snake-v0", **reference["env_kwargs"])
    obs = torch.as_tensor(np.stack([env.reset(seed=s)[0] for s in reference["obs_seeds"]]))
    agent = DQN.load(OLD_CELL_CNN_CHECKPOINT, env)
    assert agent.q_network.encoder[0].flatten_order == "hwc" and agent.policy_network is not agent.q_network
    with torch.no_grad():
        for name, expected in reference["q_values"].items():
            torch.testing.assert_close(getattr(agent, name)(obs), torch.tensor(expected), rtol=1e-5, atol=1e-6)
    # the Adam moments of the converted weight moved with its columns: the same update as before
    _, payload = load_torch(OLD_CELL_CNN_CHECKPOINT)
    old_moment = payload["optimizer"]["state"][4]["exp_avg"]  # parameter 4: encoder.1.0.weight
    torso = agent.q_network.encoder[0]
    new_moment = agent.optimizer.state[agent.q_network.encoder[1][0].weight]["exp_avg"]
    torch.testing.assert_close(reorder_feature_columns(new_moment, torso.grid, "hwc", "chw"), old_moment)
    agent.save(tmp_path / "new.pt")  # written in the new order, loaded without conversion
    assert load_torch(tmp_path / "new.pt")[0]["cell_cnn_flatten"] == "hwc"
    assert weights_equal(agent, DQN.load(tmp_path / "new.pt", env))
    agent.train(env, 40, progress=False)  # and training goes on
    assert torch.isfinite(agent.q_network(obs)).all()

    meta, payload = load_torch(OLD_CELL_CNN_CHECKPOINT)
    save_torch(tmp_path / "bad.pt", "dqn", dict(meta, cell_cnn_flatten="cwh"), payload)
    with pytest.raises(CheckpointError, match=r"cell_cnn_flatten must be one of \('chw', 'hwc'\), got 'cwh'"):
        DQN.load(tmp_path / "bad.pt", env)


@pytest.mark.parametrize("hidden_sizes", [[], [6, 5]])
def test_chw_checkpoints_convert_whichever_layer_reads_the_cell_features(tmp_path: Path, hidden_sizes) -> None:
    """Without hidden layers the dueling head's two layers read the features; with them, the first one."""
    import gym_snake  # noqa: F401

    env = gym.make("snake-v0", width=9, height=9, obs_type="rgb", cell_size=4)
    config = dict(SMALL, cell_pixels=4, cnn_channels=[2, 3], hidden_sizes=hidden_sizes, dueling=True)
    agent = DQN(env, config, seed=0).train(env, 120, progress=False)
    agent.save(tmp_path / "hwc.pt")
    meta, payload = load_torch(tmp_path / "hwc.pt")
    grid = agent.q_network.encoder[0].grid
    readers = ["encoder.1.0.weight"] if hidden_sizes else ["head.weight", "value.weight"]
    for name in readers:  # written as the code before the cell-major flatten would have
        payload["q_network"][name] = reorder_feature_columns(payload["q_network"][name], grid, "hwc", "chw")
    save_torch(tmp_path / "chw.pt", "dqn", dict(meta, cell_cnn_flatten="chw"), payload)
    obs = torch.as_tensor(np.stack([env.reset(seed=s)[0] for s in range(3)]))
    with torch.no_grad():
        torch.testing.assert_close(DQN.load(tmp_path / "chw.pt", env).q_network(obs), agent.q_network(obs))


def test_loading_rejects_other_algorithms_envs_and_network_shapes(tmp_path: Path) -> None:
    env = gym.make("CartPole-v1")
    DQN(env, SMALL).save(tmp_path / "dqn.pt")
    save_torch(tmp_path / "other.pt", "sb3-dqn", {}, {"weights": torch.zeros(2)})
    with pytest.raises(CheckpointError, match="holds a 'sb3-dqn' agent, not 'dqn'"):
        DQN.load(tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="was trained on observations Box"):
        DQN.load(tmp_path / "dqn.pt", gym.make("Acrobot-v1"))

    def resaved(name: str, edit) -> Path:
        """The saved agent with its metadata changed by `edit`, as a new checkpoint file."""
        meta, payload = load_torch(tmp_path / "dqn.pt")
        edit(meta)
        path = tmp_path / name
        save_torch(path, "dqn", {k: v for k, v in meta.items() if k not in ("format", "version", "algo")}, payload)
        return path

    # weights of one shape, config of another
    reshaped = resaved("reshaped.pt", lambda meta: meta["config"].update(hidden_sizes=[64, 64]))
    with pytest.raises(CheckpointError, match="q_network weights have shapes"):
        DQN.load(reshaped)
    # CartPole's (4,) observations are no stack of 2 frames (found by Hypothesis)
    stacked = resaved("stacked.pt", lambda meta: meta.update(frame_stack=2))
    with pytest.raises(CheckpointError, match="saved n_envs / frame_stack do not fit its observations"):
        DQN.load(stacked)
    (tmp_path / "garbage.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable .pt agent checkpoint"):
        DQN.load(tmp_path / "garbage.pt")


def interrupt_at(step: int):
    """A callback that presses Ctrl-C (SIGINT) once training reaches `step`."""

    def callback(agent: DQN, env_steps: int) -> None:
        if env_steps == step:
            signal.raise_signal(signal.SIGINT)

    return callback


def interrupted_and_resumed(config: dict, *, seed: int, steps: int, path: Path) -> DQN:
    """A CartPole run of `steps` stopped by Ctrl-C halfway (checkpoint with the replay buffer at `path`),
    then finished by `DQN.resume` in a fresh agent and env."""
    agent = DQN(gym.make("CartPole-v1"), config, seed=seed)
    with pytest.raises(KeyboardInterrupt):
        agent.train(
            gym.make("CartPole-v1"),
            steps,
            progress=False,
            callback=interrupt_at(steps // 2),
            checkpoint_path=path,
            checkpoint_replay=True,
        )
    return DQN.resume(path, gym.make("CartPole-v1"), progress=False)


def test_resumed_run_equals_uninterrupted_run(tmp_path: Path) -> None:
    """Ctrl-C at step 1500 of 3000 writes a checkpoint mid-episode; resuming it in a fresh agent and a
    fresh env gives bit-identical networks, optimizer and episode log."""
    uninterrupted = DQN(gym.make("CartPole-v1"), SMALL, seed=3).train(gym.make("CartPole-v1"), 3000, progress=False)
    checkpoint = tmp_path / "run.pt"
    agent = DQN(gym.make("CartPole-v1"), SMALL, seed=3)
    with pytest.raises(KeyboardInterrupt):
        agent.train(
            gym.make("CartPole-v1"),
            3000,
            progress=False,
            callback=interrupt_at(1500),
            checkpoint_path=checkpoint,
            checkpoint_replay=True,
        )
    interrupted_at = load_torch(checkpoint)[1]["counters"]["env_steps"]
    assert 1500 <= interrupted_at <= 1501 and agent.episode_state.lengths[0] > 0  # mid-episode
    resumed = DQN.resume(checkpoint, gym.make("CartPole-v1"), progress=False)
    assert resumed.env_steps == 3000
    assert weights_equal(resumed, uninterrupted)
    assert resumed.episode_log == uninterrupted.episode_log
    for a, b in zip(
        resumed.optimizer.state_dict()["state"].values(), uninterrupted.optimizer.state_dict()["state"].values()
    ):
        assert torch.equal(a["exp_avg_sq"], b["exp_avg_sq"])
    assert load_torch(checkpoint)[1]["counters"]["env_steps"] == 3000  # the final checkpoint


def test_periodic_checkpoint_resumes_identically(tmp_path: Path) -> None:
    checkpoint = tmp_path / "run.pt"
    copies: list[bytes] = []

    def keep_copy(agent: DQN, step: int) -> None:
        if step == 1000:
            copies.append(checkpoint.read_bytes())

    full = DQN(gym.make("CartPole-v1"), SMALL, seed=4).train(
        gym.make("CartPole-v1"),
        2000,
        progress=False,
        callback=keep_copy,
        checkpoint_path=checkpoint,
        checkpoint_every=500,
        checkpoint_replay=True,
    )
    (tmp_path / "at1000.pt").write_bytes(copies[0])
    resumed = DQN.resume(tmp_path / "at1000.pt", gym.make("CartPole-v1"), progress=False)
    assert weights_equal(resumed, full)


def test_two_train_calls_equal_one() -> None:
    env = gym.make("CartPole-v1")
    split = DQN(env, SMALL, seed=5)
    split.train(env, 777, progress=False)
    env.reset(seed=99)  # the env is disturbed in between (e.g. evaluated): the next call restores it
    split.train(env, 1223, progress=False)
    whole = DQN(gym.make("CartPole-v1"), SMALL, seed=5).train(gym.make("CartPole-v1"), 2000, progress=False)
    assert weights_equal(split, whole)


def test_resume_without_the_replay_buffer_continues(tmp_path: Path) -> None:
    agent = DQN(gym.make("CartPole-v1"), SMALL, seed=6)
    with pytest.raises(KeyboardInterrupt):
        agent.train(
            gym.make("CartPole-v1"), 1000, progress=False, callback=interrupt_at(600), checkpoint_path=tmp_path / "c.pt"
        )
    resumed = DQN.resume(tmp_path / "c.pt", gym.make("CartPole-v1"), progress=False)
    assert resumed.env_steps == 1000 and len(resumed.replay) == 1000 - 600 - 1


class NanRewardAfter(gym.Wrapper):
    def __init__(self, env: gym.Env, step: int) -> None:
        super().__init__(env)
        self.after, self.steps = step, 0

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.steps += 1
        return obs, float("nan") if self.steps > self.after else reward, terminated, truncated, info


def test_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(tmp_path: Path) -> None:
    checkpoint = tmp_path / "run.pt"
    env = NanRewardAfter(gym.make("CartPole-v1"), 700)
    agent = DQN(env, SMALL, seed=0)
    with pytest.raises(TrainingDivergedError, match="loss became nan at env step"):
        agent.train(env, 2000, progress=False, checkpoint_path=checkpoint, checkpoint_every=500)
    good = DQN.load(checkpoint)
    assert good.env_steps == 500
    assert all(torch.isfinite(p).all() for p in good.q_network.parameters())
    with pytest.raises(TrainingDivergedError):
        agent.save(tmp_path / "other.pt")  # nothing is written from a diverged agent


# ---------------------------------------------------------------------------------------- logging
def test_tensorboard_scalars(tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    env = gym.make("CartPole-v1")
    DQN(env, dict(SMALL, log_interval=100)).train(env, 1000, log_dir=tmp_path, progress=False)
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"episode/return", "train/loss", "train/q_values", "train/epsilon", "time/steps_per_second"} <= tags
    epsilons = [event.value for event in events.Scalars("train/epsilon")]
    assert epsilons[0] == 1.0 and epsilons[-1] == pytest.approx(0.05, abs=1e-3)


# ---------------------------------------------------------------------------------------- command line
CLI_SMALL = [
    "--device",
    "cpu",
    "--hidden-sizes",
    "32",
    "32",
    "--learning-starts",
    "200",
    "--train-freq",
    "16",
    "--gradient-steps",
    "4",
    "--batch-size",
    "32",
    "--buffer-size",
    "5000",
    "--no-progress",
]


def test_cli_trains_saves_plots_and_evaluates(tmp_path: Path, capsys) -> None:
    from agents.cli import main

    out = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "dqn",
                "--env",
                "CartPole-v1",
                "--seed",
                "1",
                "--steps",
                "600",
                "--out",
                str(out),
                *CLI_SMALL,
                "--double-dqn",
                "--max-grad-norm",
                "none",
                "--exploration",
                "linear:1:0.1:400",
            ]
        )
        == 0
    )
    assert {"agent.pt", "checkpoint.pt", "config.json", "episodes.csv", "learning_curve.png", "tensorboard"} <= {
        p.name for p in out.iterdir()
    }
    agent = DQN.load(out / "agent.pt")
    assert agent.config.double_dqn and agent.config.max_grad_norm is None and agent.env_steps == 600
    assert main(["evaluate", str(out / "agent.pt"), "--env", "CartPole-v1", "--episodes", "3"]) == 0
    assert "dqn on CartPole-v1: mean return" in capsys.readouterr().out
    assert main(["evaluate", str(out / "agent.pt"), "--env", "Acrobot-v1"]) == 2
    assert "was trained on observations" in capsys.readouterr().err


@pytest.mark.parametrize("n_envs", [1, 2])
def test_cli_ctrl_c_writes_a_checkpoint_that_resume_finishes(tmp_path: Path, n_envs: int) -> None:
    """With n_envs=2 the run trains on a SyncVectorEnv of two copies, and resume rebuilds the same."""
    import subprocess
    import sys
    import time

    out = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "agents",
        "train",
        "dqn",
        "--env",
        "CartPole-v1",
        "--steps",
        "20000",
        "--out",
        str(out),
        "--checkpoint-every",
        "300",
        *CLI_SMALL,
        "--learning-starts",
        "100000",
        "--n-envs",
        str(n_envs),
    ]  # acting only: fast
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out / "checkpoint.pt").exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert f"continue with: python -m agents resume {out / 'checkpoint.pt'} --env CartPole-v1" in err
    meta, state = load_torch(out / "checkpoint.pt")
    stopped_at = state["counters"]["env_steps"]
    assert 300 <= stopped_at < 20000 and meta["n_envs"] == n_envs
    resumed = subprocess.run(
        [
            sys.executable,
            "-m",
            "agents",
            "resume",
            str(out / "checkpoint.pt"),
            "--env",
            "CartPole-v1",
            "--no-progress",
            "--eval-episodes",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    # a vector env's step adds n_envs transitions (autoreset steps add none), so the run may end past 20000
    assert 20000 <= DQN.load(out / "agent.pt").env_steps < 20000 + n_envs


def test_a_learning_rate_that_ends_before_the_run_warns() -> None:
    env = gym.make("CartPole-v1")
    agent = DQN(env, dict(SMALL, learning_rate="linear:1e-3:0:300"))
    with pytest.warns(UserWarning, match="reaches 0 before this run ends at env step 400"):
        agent.train(env, 400, progress=False)
    assert agent.optimizer.param_groups[0]["lr"] == 0.0


def test_cuda_request_without_a_gpu_is_explained() -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: device='cuda' is valid here")
    with pytest.raises(ValueError, match="device='cuda' but torch sees no CUDA device"):
        DQN(gym.make("CartPole-v1"), dict(SMALL, device="cuda"))


def test_prioritized_replay_trains_and_resumes_exactly(tmp_path: Path) -> None:
    config = dict(SMALL, prioritized=True, n_step=3, priority_beta="linear:0.4:1:1000")
    whole = DQN(gym.make("CartPole-v1"), config, seed=1).train(gym.make("CartPole-v1"), 1000, progress=False)
    assert whole.replay.max_priority > 1.0  # priorities came from TD errors
    resumed = interrupted_and_resumed(config, seed=1, steps=1000, path=tmp_path / "c.pt")
    assert weights_equal(resumed, whole)
    np.testing.assert_array_equal(resumed.replay.tree, whole.replay.tree)


def test_policy_average_moves_by_the_warmed_up_decay() -> None:
    """avg <- avg + (1 - d') (online - avg), d' = min(policy_averaging, (1 + k) / (10 + k)) after k steps."""
    agent = DQN(gym.make("CartPole-v1"), dict(SMALL, policy_averaging=0.99))
    assert agent.policy_network is not agent.q_network
    for k, expected_decay in ((0, 0.1), (80, 81 / 90), (10_000, 0.99)):
        with torch.no_grad():
            for average, online in zip(agent.policy_network.parameters(), agent.q_network.parameters()):
                average.fill_(0.0)
                online.fill_(1.0)
        agent.gradient_steps_done = k
        agent._update_policy_average()
        for average in agent.policy_network.parameters():
            torch.testing.assert_close(average, torch.full_like(average, 1.0 - expected_decay))


def test_policy_averaging_plays_the_average_and_resumes_exactly(tmp_path: Path) -> None:
    config = dict(SMALL, policy_averaging=0.995)
    whole = DQN(gym.make("CartPole-v1"), config, seed=4).train(gym.make("CartPole-v1"), 1200, progress=False)
    online = dict(whole.q_network.named_parameters())
    averaged = dict(whole.policy_network.named_parameters())
    assert all(not torch.equal(online[name], averaged[name]) for name in online)
    obs = np.random.default_rng(0).normal(size=(200, 4)).astype(np.float32)
    with torch.no_grad():
        q_average = whole.policy_network(torch.as_tensor(obs)).numpy()
        q_online = whole.q_network(torch.as_tensor(obs)).numpy()
    np.testing.assert_array_equal(whole.q_values(obs), q_average)
    np.testing.assert_array_equal(whole.act(obs), q_average.argmax(axis=1))
    assert not np.array_equal(q_average, q_online)
    # two networks that disagree everywhere: act follows the average, training's exploitation the online one
    disagreeing = DQN(gym.make("CartPole-v1"), config, seed=4)
    with torch.no_grad():
        list(disagreeing.policy_network.parameters())[-1].copy_(torch.tensor([100.0, -100.0]))
        list(disagreeing.q_network.parameters())[-1].copy_(torch.tensor([-100.0, 100.0]))
    assert set(disagreeing.act(obs)) == {0}
    assert set(disagreeing._epsilon_greedy(obs, 0.0, np.random.default_rng(0), disagreeing.q_network)) == {1}
    # Ctrl-C halfway, then resume: the average continues as if never interrupted; save/load keeps it
    assert weights_equal(interrupted_and_resumed(config, seed=4, steps=1200, path=tmp_path / "c.pt"), whole)
    whole.save(tmp_path / "agent.pt")
    np.testing.assert_array_equal(DQN.load(tmp_path / "agent.pt").act(obs), whole.act(obs))
    meta, payload = load_torch(tmp_path / "agent.pt")
    payload["policy_network"] = None
    save_torch(
        tmp_path / "cut.pt", "dqn", {k: v for k, v in meta.items() if k not in ("format", "version", "algo")}, payload
    )
    with pytest.raises(CheckpointError, match="no policy_network state_dict"):
        DQN.load(tmp_path / "cut.pt")


def test_dqn_n_envs_is_bounded() -> None:
    with pytest.raises(ValueError, match="n_envs must be at most 1024"):
        DQNConfig(n_envs=5000)
    with pytest.raises(ValueError, match="n_envs must be a positive integer"):
        DQNConfig(n_envs=0)
