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
