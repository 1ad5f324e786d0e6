"""agents.compare without training: statistics, exact references, plans and their checks, CLI errors."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import gym_mdp  # noqa: F401 - registers mdp-v0
from agents.cli import main
from agents.compare import stats
from agents.compare.job import check_plan
from agents.compare.plan import build_plan, eval_seed, load_plan_file, preset_path
from agents.compare.reference import optimal_return, policy_return, reference_returns
from agents.compare.rundir import create_run_dir
from agents.tabular.planners import tabular_model


# ----------------------------------------------------------------------------- statistics
def test_iqm_drops_the_lowest_and_highest_quarter() -> None:
    assert stats.iqm(np.array([1.0, 2, 3, 4, 5, 6, 7, 1000])) == pytest.approx(4.5)  # mean of 3..6
    assert stats.iqm(np.array([0.0, 10, 20, 30, 40])) == pytest.approx(20.0)  # 5 seeds: drop one at each end
    assert stats.iqm(np.array([3.0, 5.0])) == pytest.approx(4.0)  # fewer than 4 values: the mean
    np.testing.assert_allclose(stats.iqm(np.array([[1.0, 2, 3, 100], [0, 0, 4, 4]])), [2.5, 2.0])


def test_bootstrap_ci_brackets_the_mean_and_is_reproducible() -> None:
    values = np.array([10.0, 12, 15, 9, 30])
    low, high = stats.bootstrap_ci(values)
    assert values.min() <= low < values.mean() < high <= values.max()
    assert (low, high) == stats.bootstrap_ci(values)  # fixed seed: the same report twice
    # the interval of the mean of n values shrinks like 1/sqrt(n)
    rng = np.random.default_rng(0)
    wide = np.subtract(*stats.bootstrap_ci(rng.normal(size=10), n_resamples=2000)[::-1])
    narrow = np.subtract(*stats.bootstrap_ci(rng.normal(size=640), n_resamples=2000)[::-1])
    assert wide / 12 < narrow < wide / 5  # sqrt(64) = 8
    assert stats.bootstrap_ci(np.array([7.0])) == (7.0, 7.0)
    low, high = stats.bootstrap_ci(np.array([0.0, 22.0]))  # two seeds: the resampled means are 0, 11, 22
    assert (low, high) == (0.0, 22.0)
    with pytest.raises(ValueError, match="at least one value"):
        stats.bootstrap_ci(np.array([]))


# ----------------------------------------------------------------------------- exact references
def test_finite_horizon_optimum_of_mdp_v0_by_hand() -> None:
    model = tabular_model(gym.make("mdp-v0"))
    start = np.array([1.0, 0.0, 0.0])
    # one step from state 0: action 0 pays 10 with probability 0.7
    assert optimal_return(model.R, model.C, model.allowed, start, 1) == pytest.approx(7.0)
    # two steps: action 0 again (7 + 0.7 * 7 + 0.3 * 0 = 11.9) beats the detour through state 1
    assert optimal_return(model.R, model.C, model.allowed, start, 2) == pytest.approx(11.9)


def test_mdp_v0_references_match_a_simulation() -> None:
    reference = reference_returns("mdp-v0")
    assert reference.horizon == 100 and reference.stationary_label == "best state-only policy"
    assert reference.optimum == pytest.approx(137.1676, abs=1e-3)
    assert reference.stationary == pytest.approx(120.8541, abs=1e-3)
    env = gym.make("mdp-v0")
    policy = {0: 0, 1: 2, 2: 1}  # the best state-only policy
    returns = []
    for episode in range(300):
        state, _ = env.reset(seed=episode)
        total, done = 0.0, False
        while not done:
            state, reward, terminated, truncated, _ = env.step(policy[state])
            total += reward
            done = terminated or truncated
        returns.append(total)
    assert abs(np.mean(returns) - reference.stationary) < 4 * np.std(returns) / np.sqrt(len(returns))


def test_frozenlake_references() -> None:
    assert reference_returns("FrozenLake-v1", {"is_slippery": False}).optimum == pytest.approx(1.0)
    slippery = reference_returns("FrozenLake-v1")
    assert slippery.stationary_label == "value-iteration policy (gamma 0.99)"
    assert 0.70 < slippery.stationary <= slippery.optimum < 0.80
    model = tabular_model(gym.make("FrozenLake-v1"))
    always_left = np.zeros(16, dtype=int)
    assert policy_return(model.R, model.C, always_left, np.eye(16)[0], 100) < 0.05
    assert reference_returns("CartPole-v1") is None


# ----------------------------------------------------------------------------- plans
def test_presets_build_valid_plans() -> None:
    for name in ("quick", "full"):
        plan = build_plan(load_plan_file(preset_path(name)))
        assert plan.jobs(), name
        assert all(job.eval_every <= job.steps for job in plan.jobs())
    quick = build_plan(load_plan_file(preset_path("quick")))
    assert len(quick.seeds) == 2
    assert [spec.id for spec in quick.envs] == ["mdp-v0", "CartPole-v1", "snake-v0", "gridworld-v0"]
    for spec in quick.envs:  # each env: one of our agents and a Stable-Baselines3 baseline at least
        assert {"tabular-q", "dqn"} & set(spec.algos) and any(a.startswith("sb3-") for a in spec.algos), spec.label


def test_command_line_overrides_and_job_names() -> None:
    plan = build_plan({}, envs=["mdp-v0", "CartPole-v1"], algos=["random", "sb3-dqn"], seeds=3, steps=1000)
    jobs = plan.jobs()
    assert len(jobs) == 2 * 2 * 3
    assert jobs[0].name == "mdp-v0__random__s0" and jobs[0].eval_every == 100 and jobs[0].eval_episodes == 10
    # every algorithm faces the same evaluation episodes for a given seed; seeds get different ones
    assert {j.eval_seed for j in jobs if j.seed == 1} == {eval_seed(1)}
    assert eval_seed(0) + 10_000 <= eval_seed(1)
    cartpole = [j for j in jobs if j.env_id == "CartPole-v1" and j.algo == "sb3-dqn"][0]
    assert cartpole.hyperparameters["train_freq"] == 256  # rl-zoo3's entry, from the hyperparams file


@pytest.mark.parametrize(
    ("raw", "overrides", "message"),
    [
        ({}, {}, "no envs to compare on"),
        ({}, {"envs": ["mdp-v0"], "algos": ["random"]}, "no training budget for env mdp-v0"),
        ({}, {"envs": ["mdp-v0"], "steps": 10}, "no algorithms for env mdp-v0"),
        ({"envs": {"mdp-v0": {"step": 10}}}, {}, "unknown key"),
        ({"seeds": [0, 0], "envs": {"mdp-v0": {"steps": 10, "algos": ["random"]}}}, {}, "seeds must not repeat"),
        ({"envs": {"mdp-v0": {"steps": -5, "algos": ["random"]}}}, {}, "steps of mdp-v0 must be a positive integer"),
    ],
)
def test_bad_plans_fail_with_a_clear_message(raw, overrides, message) -> None:
    with pytest.raises(ValueError, match=message):
        build_plan(raw, **overrides)


@pytest.mark.parametrize(
    ("envs", "algos", "message"),
    [
        (["Snek-v0"], ["random"], "unknown env id 'Snek-v0'; the suite's ids are .*mdp-v0"),
        (["mdp-v0"], ["sb3-dqm"], "unknown algorithm 'sb3-dqm'; known algorithms: .*sb3-dqn"),
        (["CartPole-v1"], ["sb3-maskable-ppo"], "sb3-maskable-ppo on CartPole-v1: .*needs an env with action masks"),
        (["Pendulum-v1"], ["sb3-dqn"], "sb3-dqn on Pendulum-v1: sb3-dqn needs a Discrete action space"),
    ],
)
def test_check_plan_fails_early_on_envs_algorithms_and_mismatches(envs, algos, message) -> None:
    with pytest.raises(ValueError, match=message):
        check_plan(build_plan({}, envs=envs, algos=algos, steps=100))


def test_tabular_agents_on_images_or_continuous_observations_need_a_wrapper() -> None:
    no_wrappers = {"tabular-q": {env: {"source": "test"} for env in ("snake-v0", "CartPole-v1")}}
    images = {"envs": {"snake-rgb": {"id": "snake-v0", "env_kwargs": {"obs_type": "rgb"}, "steps": 100}}}
    for raw, envs in ((images, None), ({}, ["CartPole-v1"])):
        plan = build_plan(raw, envs=envs, algos=["tabular-q"], steps=100, hyperparams=no_wrappers)
        with pytest.raises(ValueError, match=r"tabular-q on (snake-rgb|CartPole-v1): .*Discretize.*`wrappers:`"):
            check_plan(plan)
    # with the wrapper of hyperparams/tabular-q.yml, CartPole is fine
    assert len(check_plan(build_plan({}, envs=["CartPole-v1"], algos=["tabular-q"], steps=100))) == 1


# ----------------------------------------------------------------------------- folders and CLI errors
def test_run_folders_are_never_reused(tmp_path) -> None:
    first = create_run_dir(tmp_path / "run")
    (first / "run.json").write_text("{}")
    second = create_run_dir(tmp_path / "run")
    assert (first.name, second.name) == ("run", "run-1")
    assert create_run_dir(tmp_path / "run") == second  # still empty: nothing to overwrite


def test_cli_errors_exit_with_code_2(tmp_path, capsys) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert (
        main(["compare", "--envs", "mdp-v0", "--algos", "random", "--steps", "10", "--out", str(blocker / "run")]) == 2
    )
    assert "cannot write to output folder" in capsys.readouterr().err
    assert main(["compare", "--envs", "Snek-v0", "--algos", "random", "--steps", "10"]) == 2
    assert "unknown env id 'Snek-v0'" in capsys.readouterr().err
    assert main(["compare", "--resume", str(tmp_path), "--seeds", "3"]) == 2
    assert "drop --seeds" in capsys.readouterr().err
    assert main(["compare", "--resume", str(tmp_path)]) == 2
    assert "not a comparison run folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", "--preset", "quick", "--config", "x.yml"])
    assert exit_info.value.code == 2


def test_dry_run_lists_the_jobs(capsys) -> None:
    assert (
        main(
            [
                "compare",
                "--envs",
                "mdp-v0",
                "--algos",
                "random",
                "sb3-a2c",
                "--seeds",
                "2",
                "--steps",
                "500",
                "--dry-run",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "mdp-v0__sb3-a2c__s1: 500 steps, eval every 50 x 10" in out and "4 jobs" in out


def test_every_baseline_builds_on_every_env_of_the_suite() -> None:
    """Default observations (images for snake, gridworld and pacman: SB3's CnnPolicy), every SB3 adapter."""
    from agents.common.envs import SUITE_ENV_IDS

    jobs = check_plan(
        build_plan({}, envs=list(SUITE_ENV_IDS), algos=["sb3-dqn", "sb3-ppo", "sb3-a2c", "random"], steps=100)
    )
    assert {job.env_id for job in jobs} == set(SUITE_ENV_IDS)
    assert len(check_plan(build_plan({}, envs=["mdp-v0"], algos=["sb3-maskable-ppo"], steps=100))) == 1


def test_builtin_algorithms_keep_their_colour_across_reports() -> None:
    from types import SimpleNamespace

    from agents.compare.report import algo_colors

    def report(*names: str) -> list:
        return [SimpleNamespace(algos=[SimpleNamespace(algo=name) for name in names])]

    one = algo_colors(report("dqn", "sb3-ppo", "random"))
    other = algo_colors(report("random", "my-agent", "tabular-q", "sb3-ppo", "dqn", "your-agent"))
    assert all(one[name] == other[name] for name in one)
    assert len(set(other.values())) == len(other)  # new algorithms take free colours
