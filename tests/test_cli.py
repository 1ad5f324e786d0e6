"""The `python -m agents` command line: help, solve, and clear errors with non-zero exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from agents.cli import main


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "agents", *args], capture_output=True, text=True)


def test_help_lists_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("train", "evaluate", "solve", "demo"):
        assert command in result.stdout


def test_solve_prints_the_optimal_policy(capsys) -> None:
    assert main(["solve", "--env", "mdp-v0", "--gamma", "0.95"]) == 0
    assert "policy = [0 2 1]" in capsys.readouterr().out
    assert main(["solve", "--env", "mdp-v0", "--gamma", "0.9", "--method", "policy-iteration"]) == 0
    assert "policy = [0 0 1]" in capsys.readouterr().out


def test_unknown_env_fails_with_the_suite_ids(capsys) -> None:
    assert main(["solve", "--env", "Snek-v0"]) == 2
    assert "unknown env id 'Snek-v0'" in capsys.readouterr().err


def test_unknown_algorithm_fails(capsys) -> None:
    assert main(["train", "not-an-algo", "--env", "mdp-v0", "--steps", "10"]) == 2
    assert "unknown algorithm 'not-an-algo'" in capsys.readouterr().err


def test_missing_command_is_a_usage_error() -> None:
    assert run().returncode == 2


def test_env_without_model_cannot_be_solved(capsys) -> None:
    assert main(["solve", "--env", "CartPole-v1"]) == 2
    assert "has no model `P`" in capsys.readouterr().err


def test_debug_shows_the_traceback_of_a_user_error(capsys, monkeypatch) -> None:
    monkeypatch.delenv("RLSUITE_DEBUG", raising=False)
    assert main(["solve", "--env", "Snek-v0"]) == 2  # without --debug: one line, exit 2
    assert "Traceback" not in capsys.readouterr().err
    with pytest.raises(ValueError, match="unknown env id 'Snek-v0'"):
        main(["--debug", "solve", "--env", "Snek-v0"])
    monkeypatch.setenv("RLSUITE_DEBUG", "1")
    with pytest.raises(ValueError, match="unknown env id"):
        main(["solve", "--env", "Snek-v0"])
    result = run("--debug", "solve", "--env", "Snek-v0")
    assert result.returncode == 1 and "Traceback" in result.stderr


def test_demo_records_the_command_that_was_typed(tmp_path) -> None:
    """The report's `command:` line is there to be run again: for demo it is demo's own command line, not the
    `compare --preset quick` it runs (`demo --preset ...` is refused); and demo takes compare's --resume."""
    flags = ["--envs", "mdp-v0", "--algos", "random", "--seeds", "1", "--steps", "200", "--eval-every", "100"]
    flags += ["--eval-episodes", "1", "--workers", "1", "--no-progress", "--out", str(tmp_path / "run")]
    assert main(["demo", *flags]) == 0
    typed = ["python", "-m", "agents", "demo", *flags]
    assert json.loads((tmp_path / "run" / "run.json").read_text())["command"] == typed
    assert f"- command: `{' '.join(typed)}`" in (tmp_path / "run" / "report.md").read_text()
    # the preset is demo's default, not a flag: demo --resume is compare --resume (it was "drop --preset")
    assert main(["demo", "--resume", str(tmp_path / "run"), "--no-progress"]) == 0


def test_train_tuned_takes_a_preset_env_and_its_settings(tmp_path, capsys) -> None:
    """`train ALGO --tuned LABEL` trains as compare does on the presets' env LABEL: env id, env_kwargs, the
    algorithm's per-env hyperparameters and observation wrappers; flags given on the command line win."""
    from agents.hyperparams import per_env_settings

    assert (
        main(
            ["train", "tabular-q", "--tuned", "CartPole-v1", "--steps", "300", "--eval-episodes", "1"]
            + ["--no-progress", "--out", str(tmp_path / "table")]
        )
        == 0
    )
    config = json.loads((tmp_path / "table" / "config.json").read_text())
    entry = per_env_settings("tabular-q", "CartPole-v1")
    assert (config["env"], config["env_kwargs"], config["tuned"]) == ("CartPole-v1", {}, "CartPole-v1")
    assert config["wrap"] == [["discretize", {"bins": 10}]] and entry.wrappers  # the entry's wrapper, by name
    assert all(config["hyperparameters"][key] == value for key, value in entry.hyperparameters.items())
    assert "as in --preset full (300 steps; its schedules are written for 100,000 steps)" in capsys.readouterr().out

    argv = ["train", "dqn", "--tuned", "snake-v0", "--steps", "300", "--learning-starts", "100"]
    assert main([*argv, "--eval-episodes", "1", "--no-progress", "--out", str(tmp_path / "dqn")]) == 0
    config = json.loads((tmp_path / "dqn" / "config.json").read_text())
    assert config["env_kwargs"] == {"obs_type": "features"}  # the full preset's snake-v0
    assert (
        config["hyperparameters"]["learning_rate"]
        == per_env_settings("dqn", "snake-v0").hyperparameters["learning_rate"]
    )
    assert config["hyperparameters"]["learning_starts"] == 100  # a flag wins over the default
    assert per_env_settings("dqn", "snake-v0").hyperparameters["learning_rate"] != "0.001"
    argv = ["train", "dqn", "--tuned", "snake-v0", "--steps", "200", "--learning-rate", "0.001"]
    assert main([*argv, "--eval-episodes", "1", "--no-progress", "--out", str(tmp_path / "flag")]) == 0
    config = json.loads((tmp_path / "flag" / "config.json").read_text())
    assert config["hyperparameters"]["learning_rate"] == "0.001"  # and over the entry


def test_train_tuned_refuses_an_unknown_label_or_another_env(capsys) -> None:
    assert main(["train", "dqn", "--tuned", "snake", "--steps", "10"]) == 2
    error = capsys.readouterr().err
    assert "no env 'snake' in the presets; their envs: CartPole-v1, FrozenLake-v1, gridworld-rgb" in error
    assert main(["train", "dqn", "--tuned", "snake-rgb", "--env", "CartPole-v1", "--steps", "10"]) == 2
    assert "--tuned snake-rgb trains on snake-v0 (--preset pixels); drop --env CartPole-v1" in capsys.readouterr().err
    assert main(["train", "dqn", "--env", "CartPole-v1"]) == 2
    assert "train needs --env and --steps, or --tuned LABEL" in capsys.readouterr().err


def test_evaluate_and_resume_take_the_env_of_the_run(tmp_path, capsys) -> None:
    """Without --env, evaluate and resume read the run's env, env_kwargs and wrappers from the config.json beside
    the checkpoint (train's, or a comparison job's); without a readable one they ask for --env."""
    run = tmp_path / "table"
    assert (
        main(
            ["train", "tabular-q", "--tuned", "CartPole-v1", "--steps", "300", "--eval-episodes", "1"]
            + ["--no-progress", "--out", str(run)]
        )
        == 0
    )
    capsys.readouterr()
    explicit = ["--env", "CartPole-v1", "--wrap", 'discretize:{"bins": 10}', "--episodes", "3"]
    assert main(["evaluate", str(run / "agent.npz"), *explicit]) == 0
    expected = capsys.readouterr().out
    assert main(["evaluate", str(run / "agent.npz"), "--episodes", "3"]) == 0  # the Discretize wrapper included
    assert capsys.readouterr().out == expected
    job = tmp_path / "job"  # a comparison job's folder names its wrappers by class
    job.mkdir()
    (job / "agent.npz").write_bytes((run / "agent.npz").read_bytes())
    wrappers = [["agents.tabular.discretize:Discretize", {"bins": 10}]]
    (job / "config.json").write_text(json.dumps({"env_id": "CartPole-v1", "env_kwargs": {}, "wrappers": wrappers}))
    assert main(["evaluate", str(job / "agent.npz"), "--episodes", "3"]) == 0
    assert capsys.readouterr().out == expected

    (job / "config.json").write_text(json.dumps({"env": "CartPole-v1"}))
    assert main(["evaluate", str(job / "agent.npz")]) == 2
    error = capsys.readouterr().err
    assert "error: give --env: " in error and "(KeyError: 'env_kwargs')" in error
    (job / "config.json").unlink()
    assert main(["evaluate", str(job / "agent.npz")]) == 2
    assert "does not say which env the run trained on (it cannot be read)" in capsys.readouterr().err

    run = tmp_path / "dqn"
    flags = ["--steps", "300", "--learning-starts", "100", "--eval-episodes", "1", "--no-progress"]
    assert main(["train", "dqn", "--tuned", "snake-v0", *flags, "--out", str(run)]) == 0
    assert main(["resume", str(run / "checkpoint.pt"), "--eval-episodes", "1", "--no-progress"]) == 0
    assert "finished training dqn on snake-v0" in capsys.readouterr().out
