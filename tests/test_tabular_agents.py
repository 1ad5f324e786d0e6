"""Tabular learners: update rules against exact values, masks, schedules, budgets, files and errors."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

import gym_mdp  # noqa: F401
from agents.base import load_agent, make_agent
from agents.common.checkpoint import CheckpointError, save_npz
from agents.tabular import AsMultiDiscrete, Discretize, QLearning, TileCoding
from agents.tabular.learners import TabularConfig, parse_learning_rate
from agents.tabular.planners import tabular_model, value_iteration

ALGOS = ("tabular-q", "sarsa", "expected-sarsa", "double-q")


def uniform_policy_q(env: gym.Env, gamma: float) -> np.ndarray:
    """Q of the policy that picks uniformly among the allowed actions, by one linear solve."""
    model = tabular_model(env)
    policy = model.allowed / model.allowed.sum(axis=1, keepdims=True)
    reward = (policy * model.R).sum(axis=1)
    transition = np.einsum("sa,sat->st", policy, model.C)
    values = np.linalg.solve(np.eye(model.n_states) - gamma * transition, reward)
    return model.q_values(values, gamma)


@pytest.mark.parametrize(
    ("algo", "target"),
    [("tabular-q", "optimal"), ("sarsa", "uniform"), ("expected-sarsa", "uniform"), ("double-q", "optimal")],
)
def test_each_update_rule_converges_to_its_own_fixed_point(algo: str, target: str) -> None:
    """With a uniformly random behaviour (epsilon = 1), Q-learning and Double Q-learning learn Q*
    while SARSA and Expected SARSA learn the values of the behaviour policy itself; the two differ
    by up to 11 on mdp-v0 with gamma 0.5, so a wrong target cannot pass."""
    env = gym.make("mdp-v0", invalid_action="raise")  # exploring a disallowed action would raise
    gamma = 0.5
    expected = value_iteration(env, gamma).Q if target == "optimal" else uniform_policy_q(env, gamma)
    agent = make_agent(algo, env, {"gamma": gamma, "epsilon": "1.0", "learning_rate": "1/visits^0.8"}, seed=0)
    agent.train(env, 20_000, progress=False)
    allowed = np.isfinite(expected)
    np.testing.assert_array_equal(np.isfinite(agent.q_table), allowed)  # -inf exactly where disallowed
    assert np.abs(agent.q_table[allowed] - expected[allowed]).max() < 1.5


class GaussianBandit(gym.Env):
    """One state, two actions, one-step episodes with reward ~ N(mean[a], 1); keeps the rewards it gave."""

    observation_space = spaces.Discrete(1)
    action_space = spaces.Discrete(2)

    def __init__(self) -> None:
        self.rewards: list[list[float]] = [[], []]

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return 0, {}

    def step(self, action):
        reward = float(self.np_random.normal((1.0, -1.0)[action], 1.0))
        self.rewards[action].append(reward)
        return 0, reward, True, False, {}


def test_one_over_visits_makes_q_the_sample_average() -> None:
    env = GaussianBandit()
    agent = make_agent("tabular-q", env, {"learning_rate": "1/visits", "epsilon": "0.5"}, seed=3)
    agent.train(env, 500, progress=False)
    np.testing.assert_allclose(agent.q_table[0], [np.mean(env.rewards[0]), np.mean(env.rewards[1])], rtol=1e-12)
    np.testing.assert_array_equal(agent.tables[0].visits[0], [len(env.rewards[0]), len(env.rewards[1])])
    assert len(agent.episode_log) == 500


def test_epsilon_schedule_and_greedy_ties() -> None:
    env = GaussianBandit()
    agent = make_agent("sarsa", env, {"epsilon": "linear:1.0:0.0:1000", "learning_rate": "0.5"}, seed=0)
    agent.train(env, 2000, progress=False)
    # epsilon reaches 0 after 1,000 steps: then only the greedy (better) action is taken
    assert len(env.rewards[1]) < 1000 * 0.5 + 60
    assert agent.act(0) == 0 and agent.act(0, greedy=False) == 0
    fresh = make_agent("tabular-q", env, {"epsilon": "1.0"}, seed=0)
    assert fresh.act(0) == 0  # all values equal: the lowest action, like the planners' greedy policy
    assert {fresh.act(0, greedy=False) for _ in range(50)} == {0, 1}


def test_masks_are_remembered_for_greedy_actions_and_survive_save_and_load(tmp_path) -> None:
    env = gym.make("mdp-v0", invalid_action="raise")
    for algo in ALGOS:
        agent = make_agent(algo, env, {"gamma": 0.9, "epsilon": "0.3", "initial_value": 100.0}, seed=1)
        agent.train(env, 2000, progress=False)  # optimistic values: unmasked greedy actions would try disallowed ones
        path = tmp_path / f"{algo}.npz"
        agent.save(path)
        loaded = load_agent(path, env)
        for candidate in (agent, loaded):
            assert [candidate.act(s) for s in range(3)][1:] in ([0, 1], [2, 1])
            assert all(candidate.act(2, greedy=False) == 1 for _ in range(20))


def test_same_seed_same_table_and_training_continues(tmp_path) -> None:
    env = gym.make("FrozenLake-v1")
    first = make_agent("expected-sarsa", env, seed=7).train(env, 3000, progress=False)
    second = make_agent("expected-sarsa", env, seed=7).train(env, 3000, progress=False)
    np.testing.assert_array_equal(first.q_table, second.q_table)
    other = make_agent("expected-sarsa", env, seed=8).train(env, 3000, progress=False)
    assert not np.array_equal(first.q_table, other.q_table)
    first.train(env, 1000, progress=False)
    assert first.num_timesteps == 4000 and first.episode_log[-1][0] <= 4000


def test_budgets_callback_and_bad_counts() -> None:
    env = gym.make("FrozenLake-v1")
    agent = make_agent("tabular-q", env, seed=0)
    agent.train(env, episodes=7, progress=False)
    assert len(agent.episode_log) == 7 and agent.num_timesteps == agent.episode_log[-1][0]
    calls: list[int] = []
    before = agent.num_timesteps
    agent.train(env, 1000, callback=lambda a, step: calls.append(step) or len(calls) == 25, progress=False)
    assert calls == list(range(before + 1, before + 26)) and agent.num_timesteps == before + 25
    for bad in (-5, 2.5, True):
        with pytest.raises(ValueError, match="total_steps must be a non-negative integer"):
            agent.train(env, bad)
    with pytest.raises(ValueError, match="give total_steps and/or episodes"):
        agent.train(env)
    with pytest.raises(ValueError, match="episodes must be a non-negative integer"):
        agent.train(env, episodes=-1)


def test_save_load_round_trip_keeps_everything(tmp_path) -> None:
    env = gym.make("FrozenLake-v1")
    agent = make_agent("double-q", env, {"gamma": 0.97, "learning_rate": "1/visits^0.7"}, seed=4)
    agent.train(env, 2000, progress=False)
    path = tmp_path / "dq.npz"
    agent.save(path)
    loaded = load_agent(path)  # without an env: the spaces come from the file
    assert type(loaded) is type(agent) and loaded.hyperparameters() == agent.hyperparameters()
    assert loaded.num_timesteps == 2000 and loaded.episode_log == agent.episode_log
    for mine, theirs in zip(agent.tables, loaded.tables):
        np.testing.assert_array_equal(mine.q, theirs.q)
        np.testing.assert_array_equal(mine.visits, theirs.visits)
    assert [loaded.act(s) for s in range(16)] == [agent.act(s) for s in range(16)]
    with np.load(path, allow_pickle=False) as data:  # a plain file: numpy arrays and JSON metadata
        meta = json.loads(data["meta"].tobytes())
    assert meta["algo"] == "double-q" and meta["config"]["gamma"] == 0.97


def test_files_that_are_not_saved_tables_are_refused(tmp_path) -> None:
    env = gym.make("FrozenLake-v1")
    agent = make_agent("tabular-q", env, seed=0)
    agent.save(tmp_path / "q.npz")
    with pytest.raises(CheckpointError, match="holds a 'tabular-q' agent, not 'sarsa'"):
        make_agent("sarsa", env).load(tmp_path / "q.npz")
    with pytest.raises(ValueError, match="differ from the agent's"):
        load_agent(tmp_path / "q.npz", gym.make("FrozenLake-v1", map_name="8x8"))
    (tmp_path / "text.npz").write_text("not a table")
    with pytest.raises(CheckpointError, match="not a readable .npz agent checkpoint"):
        QLearning.load(tmp_path / "text.npz")
    np.savez(tmp_path / "foreign.npz", q=np.zeros((16, 4)))
    with pytest.raises(CheckpointError, match="not an agent checkpoint written by this package"):
        QLearning.load(tmp_path / "foreign.npz")
    save_npz(tmp_path / "empty.npz", "tabular-q", {"config": {}, "seed": 0, "num_timesteps": 0}, {})
    with pytest.raises(CheckpointError, match="not a readable tabular checkpoint"):
        QLearning.load(tmp_path / "empty.npz")
    meta = {
        "config": {},
        "seed": 0,
        "num_timesteps": 0,
        "observation_space": {"type": "Discrete", "n": 16, "start": 0},
        "action_space": {"type": "Discrete", "n": 4, "start": 0},
    }
    save_npz(tmp_path / "wrong.npz", "tabular-q", meta, {"q0": np.zeros((3, 4)), "visits0": np.zeros((3, 4))})
    with pytest.raises(CheckpointError, match=r"table 0 has shape \(3, 4\).*expected \(16, 4\)"):
        QLearning.load(tmp_path / "wrong.npz")


def test_construction_errors_say_what_to_do() -> None:
    with pytest.raises(ValueError, match=r"wrap the env first: agents.tabular.Discretize\(env, bins=...\)"):
        make_agent("tabular-q", gym.make("CartPole-v1"))
    with pytest.raises(ValueError, match="need a Discrete action space"):
        make_agent("sarsa", Discretize(gym.make("Pendulum-v1")))
    with pytest.raises(ValueError, match=r"not a vector env; pass gym.make\(...\)"):
        make_agent("tabular-q", gym.make_vec("FrozenLake-v1", 2))
    with pytest.raises(ValueError, match="unknown hyperparameter"):
        make_agent("tabular-q", gym.make("FrozenLake-v1"), {"alpha": 0.1})
    env = gym.make("FrozenLake-v1")
    with pytest.raises(ValueError, match="differ from the agent's"):
        make_agent("tabular-q", env).train(gym.make("FrozenLake-v1", map_name="8x8"), 10)
    with pytest.raises(ValueError, match="not in the agent's observation space"):
        make_agent("tabular-q", env).act(16)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("gamma", 1.5, r"gamma must be in \[0, 1\]"),
        ("learning_rate", "fast", "cannot parse learning_rate 'fast'"),
        ("learning_rate", "1/visits^0.4", r"power must be in \(0.5, 1\]"),
        ("learning_rate", "1.5", r"learning_rate must start in \(0, 1\]"),
        ("epsilon", "linear:1.0:-0.1:100", r"epsilon must stay within \[0, 1\]"),
        ("epsilon", "sometimes", "cannot parse schedule"),
        ("initial_value", float("nan"), "initial_value must be finite"),
        ("max_states", 0, "max_states must be positive"),
    ],
)
def test_invalid_hyperparameters_are_named(field: str, value, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TabularConfig(**{field: value})


def test_learning_rate_forms() -> None:
    assert parse_learning_rate("1/visits")(10**6, 4) == 0.25
    assert parse_learning_rate("1/visits^0.5001")(0, 4) == pytest.approx(4**-0.5001)
    assert parse_learning_rate("linear:0.5:0.1:100")(50, 1) == pytest.approx(0.3)


class GridWalk(gym.Env):
    """A corridor seen as a 3 x length grid of cell codes (1 = agent, 2 = goal): the observation space
    has 4**18 combinations, far too many to allocate, so tabular agents index the grids they see."""

    def __init__(self, length: int = 6) -> None:
        self.length = length
        self.observation_space = spaces.Box(0, 3, (3, length), dtype=np.uint8)  # 4**18 combinations
        self.action_space = spaces.Discrete(2)

    def _grid(self) -> np.ndarray:
        grid = np.zeros((3, self.length), dtype=np.uint8)
        grid[1, self.position] = 1
        grid[1, -1] = 2
        return grid

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.position = 0
        return self._grid(), {}

    def step(self, action):
        self.position = max(self.position + (1 if action == 1 else -1), 0)
        reached = self.position == self.length - 1
        return self._grid(), 1.0 if reached else -0.01, reached, False, {}


def test_grid_observations_use_a_sparse_table_that_saves_the_grids_seen(tmp_path) -> None:
    with pytest.raises(ValueError, match="AsMultiDiscrete"):
        make_agent("tabular-q", GridWalk())
    env = gym.wrappers.TimeLimit(AsMultiDiscrete(GridWalk()), 50)
    agent = make_agent("tabular-q", env, {"gamma": 0.9, "learning_rate": "0.5", "epsilon": "0.2"}, seed=0)
    agent.train(env, 3000, progress=False)
    assert agent.state_index.mode == "sparse" and agent.state_index.n_rows == 6  # the six grids reachable
    assert agent.q_table.shape == (6, 2)
    agent.save(tmp_path / "grid.npz")
    loaded = load_agent(tmp_path / "grid.npz", env)
    obs, _ = env.reset(seed=0)
    for _ in range(5):  # walks straight to the goal
        assert loaded.act(obs) == agent.act(obs) == 1
        obs, reward, terminated, _, _ = env.step(1)
    assert terminated and reward == 1.0
    unseen = np.full((3, 6), 3, dtype=np.int64)
    assert loaded.act(unseen) == 0  # never seen: the lowest action, and the table does not grow
    assert loaded.state_index.n_rows == 6


def test_tile_coded_values_are_sums_over_tilings_and_refuse_masks() -> None:
    env = TileCoding(gym.make("MountainCar-v0"), n_tilings=4, tiles_per_dim=4)
    agent = make_agent("sarsa", env, {"initial_value": -8.0, "learning_rate": "0.5", "epsilon": "0.0"}, seed=0)
    obs, _ = env.reset(seed=0)
    state = agent.state_index(obs)
    np.testing.assert_allclose(agent.tables[0].values(state), [-8.0, -8.0, -8.0])  # spread over 4 tilings
    agent.tables[0].update(state, 1, 0.0, agent._learning_rate, 0)
    np.testing.assert_allclose(agent.tables[0].values(state), [-8.0, -4.0, -8.0])  # half-way, as alpha = 0.5 says
    with pytest.raises(ValueError, match="tile-coded"):
        agent._remember_mask(state, np.array([1, 0, 1], dtype=np.int8))
    with pytest.raises(ValueError, match="no per-state table"):
        agent.greedy_policy()


def test_command_line_train_and_evaluate(tmp_path, capsys) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from agents.cli import main

    out = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "tabular-q",
                "--env",
                "mdp-v0",
                "--steps",
                "3000",
                "--seed",
                "1",
                "--out",
                str(out),
                "--no-progress",
                "--learning-rate",
                "1/visits",
                "--gamma",
                "0.9",
            ]
        )
        == 0
    )
    assert "trained tabular-q on mdp-v0 for 3000 steps" in capsys.readouterr().out
    for name in ("agent.npz", "config.json", "episodes.csv", "learning_curve.png"):
        assert (out / name).stat().st_size > 0, name
    config = json.loads((out / "config.json").read_text())
    assert config["hyperparameters"]["learning_rate"] == "1/visits" and config["hyperparameters"]["gamma"] == 0.9
    events = EventAccumulator(str(out / "tensorboard"))
    events.Reload()
    assert {"episode/return", "episode/length", "train/epsilon"} <= set(events.Tags()["scalars"])
    assert len(events.Scalars("episode/return")) == 30  # 3,000 steps of 100-step episodes
    assert main(["evaluate", str(out / "agent.npz"), "--env", "mdp-v0", "--episodes", "2"]) == 0
    assert "tabular-q on mdp-v0: mean return" in capsys.readouterr().out

    assert (
        main(
            ["train", "sarsa", "--env", "CartPole-v1", "--steps", "10", "--out", str(tmp_path / "box"), "--no-progress"]
        )
        == 2
    )
    assert "--wrap discretize" in capsys.readouterr().err
    wrapped = tmp_path / "cartpole"
    assert (
        main(
            [
                "train",
                "sarsa",
                "--env",
                "CartPole-v1",
                "--wrap",
                'discretize:{"bins": 6}',
                "--steps",
                "500",
                "--out",
                str(wrapped),
                "--no-progress",
                "--eval-episodes",
                "2",
            ]
        )
        == 0
    )
    assert load_agent(wrapped / "agent.npz").observation_space == spaces.MultiDiscrete([6, 6, 6, 6])
    assert main(["evaluate", str(wrapped / "agent.npz"), "--env", "CartPole-v1", "--wrap", "discretize"]) == 2
    assert "differ from the agent's" in capsys.readouterr().err
