"""User errors of the agents and their commands: sizes that would not fit in memory or would crash torch,
malformed settings and files, and runs that must not overwrite or mix with another run. Each is one
`error:` line with exit code 2 (or a ValueError from the API), before anything large is allocated."""

from __future__ import annotations

import fractions
import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

from agents.cli import main
from agents.dqn import DQN
from agents.dqn.replay import ReplayBuffer


def error_line(capsys) -> str:
    """The one line a command printed to stderr (after any library banner), which must be an `error:` line."""
    err = capsys.readouterr().err
    assert "Traceback" not in err
    line = err.strip().splitlines()[-1]
    assert line.startswith("error: "), err
    return line


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"buffer_size": 10**11}, r"buffer_size must be at most 1,000,000,000 .* got 100000000000"),
        ({"batch_size": 10**11}, r"batch_size must be at most 65,536"),
        ({"n_step": 10**11}, r"n_step must be at most 1,000"),
        ({"hidden_sizes": (10**11,)}, r"hidden_sizes must be integers from 1 to 16,384"),
        ({"hidden_sizes": "64"}, r"hidden_sizes must be a list of layer sizes \(integers\), got '64'"),
        ({"hidden_sizes": (True, 8)}, r"hidden_sizes must be a list of layer sizes"),
        ({"dueling": "yes"}, r"dueling must be true or false, got 'yes'"),
        ({"double_dqn": 1}, r"double_dqn must be true or false, got 1"),
        ({"num_threads": 100_000}, r"num_threads must be an integer from 0 \(automatic\) to 256"),
        ({"exploration": "2"}, r"exploration must stay within \[0, 1\], got '2'"),
        ({"exploration": "linear:1:-0.1:100"}, r"exploration must stay within \[0, 1\]"),
    ],
)
def test_dqn_settings_out_of_bounds_are_value_errors(settings: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DQN(gym.make("CartPole-v1"), settings)


def test_a_replay_buffer_larger_than_the_machine_is_refused_before_allocating() -> None:
    frames = gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)
    with pytest.raises(ValueError, match=r"a replay buffer of 1,000,000,000 transitions would take 65\d\d\.\d GiB"):
        ReplayBuffer(10**9, frames, 6, frame_stack=4)
    assert ReplayBuffer(1000, frames, 6, frame_stack=4).nbytes < 8 * 2**20  # frames stored once


def test_the_cli_refuses_a_thread_count_that_crashed_torch(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    args = ["train", "dqn", "--env", "CartPole-v1", "--steps", "50", "--num-threads", "100000", "--out", str(out)]
    assert main(args) == 2
    assert "num_threads must be an integer from 0 (automatic) to 256" in error_line(capsys)


@pytest.mark.parametrize(
    ("write", "message"),
    [
        (lambda path: path.write_bytes(bytes(range(256)) * 20), "its bytes are not a torch checkpoint"),
        (
            lambda path: torch.save({"meta": fractions.Fraction(1, 3)}, path),
            "it holds a Python object (fractions.Fraction), not only tensors and plain values, and checkpoints are "
            "never unpickled",
        ),
    ],
)
def test_a_checkpoint_torch_refuses_is_one_line_without_advice_to_unpickle(tmp_path: Path, capsys, write, message):
    path = tmp_path / "agent.pt"
    write(path)
    assert main(["evaluate", str(path), "--env", "CartPole-v1", "--episodes", "1"]) == 2
    line = error_line(capsys)
    assert f"{path} is not a readable .pt agent checkpoint: {message}" in line
    assert "weights_only" not in line


def test_a_malformed_yaml_file_is_one_error_line(tmp_path: Path, capsys) -> None:
    config = tmp_path / "plan.yml"
    config.write_text("envs: [CartPole-v1\nalgos: {dqn\n")  # unclosed brackets: PyYAML's error spans 7 lines
    assert main(["compare", "--config", str(config), "--dry-run"]) == 2
    assert "plan.yml" in error_line(capsys)


@pytest.mark.atari
def test_the_atari_command_never_overwrites_a_run_and_resumes_only_its_own_game(tmp_path: Path, capsys) -> None:
    from agents.dqn.atari import main as atari_main

    small = ["--steps", "120", "--learning-starts", "100", "--buffer-size", "500", "--eval-episodes", "0"]
    out = tmp_path / "run"
    assert atari_main(["--game", "PongNoFrameskip-v4", "--no-progress", "--out", str(out), *small]) == 0
    first = (out / "agent.pt").read_bytes()
    assert atari_main(["--game", "BreakoutNoFrameskip-v4", "--no-progress", "--out", str(out), *small]) == 0
    assert (out / "agent.pt").read_bytes() == first  # untouched: the second run went to run-1
    assert json.loads((tmp_path / "run-1" / "config.json").read_text())["game"] == "BreakoutNoFrameskip-v4"
    capsys.readouterr()
    resume = ["--no-progress", "--resume", str(out / "checkpoint.pt")]
    assert atari_main(["--game", "BreakoutNoFrameskip-v4", *resume]) == 2
    assert f"{out} is a run of PongNoFrameskip-v4, not BreakoutNoFrameskip-v4" in error_line(capsys)
    assert (out / "agent.pt").read_bytes() == first
    missing = tmp_path / "empty" / "checkpoint.pt"
    missing.parent.mkdir()
    assert atari_main(["--game", "PongNoFrameskip-v4", "--no-progress", "--resume", str(missing)]) == 2
    assert "no such checkpoint file" in error_line(capsys)
    assert not any(missing.parent.iterdir())  # no episodes.csv left behind


def test_train_steps_and_run_names_are_bounded_like_comparison_plans(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "random", "--env", "mdp-v0", "--steps", str(10**27)])
    assert exit_info.value.code == 2
    assert "argument --steps: must be an integer from 1 to 10,000,000,000" in capsys.readouterr().err
    config = tmp_path / "plan.yml"
    config.write_text("name: ../../escaped\nenvs: {mdp-v0: {steps: 100}}\nalgos: [random]\n")
    assert main(["compare", "--config", str(config), "--dry-run"]) == 2
    assert "names the run folder: no '/'" in error_line(capsys)


@pytest.mark.parametrize("where", ["under_a_file", "a_folder", "missing_folder"])
def test_a_video_path_that_cannot_be_written_is_refused_before_evaluating(tmp_path: Path, capsys, where) -> None:
    agent = tmp_path / "agent.npz"
    assert main(["train", "random", "--env", "CartPole-v1", "--steps", "10", "--out", str(tmp_path / "r")]) == 0
    agent = next((tmp_path / "r").glob("agent.*"))
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "folder.gif").mkdir()
    video = {
        "under_a_file": tmp_path / "file.txt" / "x.gif",
        "a_folder": tmp_path / "folder.gif",
        "missing_folder": tmp_path / "no" / "x.gif",
    }[where]
    capsys.readouterr()
    args = ["evaluate", str(agent), "--env", "CartPole-v1", "--episodes", "1", "--video", str(video)]
    assert main(args) == 2
    line = error_line(capsys)
    assert str(video) in line and ("not an existing writable folder" in line or "is a folder" in line)


def test_a_diverged_training_run_is_a_user_error(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    args = ["train", "dqn", "--env", "CartPole-v1", "--steps", "3000", "--learning-rate", "1e300"]
    assert main([*args, "--learning-starts", "100", "--train-freq", "1", "--out", str(out)]) == 2
    assert "Try a smaller learning_rate" in error_line(capsys)


@pytest.mark.parametrize("counters", [{"run_end": 10**30}, {"env_steps": -5}, {"gradient_steps": 1.5}])
def test_a_checkpoint_with_impossible_counters_is_refused(tmp_path: Path, capsys, counters: dict) -> None:
    """A run_end of 10**30 used to "resume" forever; negative counters were taken as they were."""
    from agents.common.checkpoint import load_torch, save_torch

    out = tmp_path / "run"
    args = ["train", "dqn", "--env", "CartPole-v1", "--steps", "300", "--learning-starts", "100", "--out", str(out)]
    assert main(args) == 0
    meta, payload = load_torch(out / "checkpoint.pt")
    payload["counters"].update(counters)
    save_torch(out / "checkpoint.pt", meta["algo"], {k: v for k, v in meta.items() if k != "algo"}, payload)
    capsys.readouterr()
    assert main(["resume", str(out / "checkpoint.pt"), "--env", "CartPole-v1"]) == 2
    assert "its counters must be integers from 0 to 10,000,000,000" in error_line(capsys)


def test_resume_refuses_another_env_than_the_run_trained_on(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    args = ["train", "dqn", "--env", "CartPole-v1", "--steps", "200", "--learning-starts", "100", "--out", str(out)]
    assert main(args) == 0
    before = (out / "agent.pt").read_bytes()
    for flags in (["--env", "CartPole-v0"], ["--env", "CartPole-v1", "--env-kwargs", '{"max_episode_steps": 5}']):
        capsys.readouterr()
        assert main(["resume", str(out / "checkpoint.pt"), *flags]) == 2
        assert "trained on --env CartPole-v1 --env-kwargs '{}'; resume it with the same" in error_line(capsys)
    assert (out / "agent.pt").read_bytes() == before


def test_an_npz_that_would_unpack_beyond_the_limit_is_refused_before_decompressing(tmp_path: Path, monkeypatch):
    """A 5 MB zip of zeros can unpack to gigabytes: the sizes in its directory are checked first."""
    from agents.common import checkpoint

    path = tmp_path / "agent.npz"
    checkpoint.save_npz(path, "tabular-q", {}, {"q": np.zeros(1000)})
    assert checkpoint.load_npz(path)[1]["q"].shape == (1000,)
    monkeypatch.setattr(checkpoint, "MAX_NPZ_BYTES", 4000)
    with pytest.raises(checkpoint.CheckpointError, match=r"would unpack to \d,\d\d\d bytes, more than .* \(4,000,"):
        checkpoint.load_npz(path)


@pytest.mark.parametrize(
    ("algo", "settings", "message"),
    [
        ("sb3-ppo", {"net_arch": [10**11]}, r"net_arch must be one or more layer sizes from 1 to 16,384"),
        ("sb3-a2c", {"n_steps": 10**11}, r"n_steps must be at most 16,777,216"),
        ("sb3-ppo", {"n_epochs": 10**9}, r"n_epochs must be at most 10,000"),
        ("sb3-dqn", {"buffer_size": 10**11}, r"buffer_size must be at most 1,000,000,000"),
    ],
)
def test_sb3_sizes_out_of_bounds_are_value_errors(algo: str, settings: dict, message: str) -> None:
    from agents.base import make_agent

    with pytest.raises(ValueError, match=message):
        make_agent(algo, gym.make("CartPole-v1"), settings)


def test_hyperparameters_of_an_unknown_algorithm_are_refused(tmp_path: Path, capsys) -> None:
    """A misspelt algorithm name in --hyperparams used to be ignored: the comparison ran with the defaults."""
    table = tmp_path / "hp.yml"
    table.write_text("dqm:\n  CartPole-v1:\n    hyperparameters: {gamma: 0.9}\n")
    assert main(["compare", "--preset", "quick", "--hyperparams", str(table), "--dry-run"]) == 2
    assert "unknown algorithm 'dqm'; known algorithms: double-q, dqn," in error_line(capsys)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tiles_per_dim": 10**6}, r"4 dimensions of 1000000 tiles .* more than 4,611,686,018,427,387,904 tiles"),
        ({"n_tilings": 10**8}, r"n_tilings must be at most 1024, got 100000000"),
    ],
)
def test_tile_coding_sizes_are_bounded(kwargs: dict, message: str) -> None:
    """tiles_per_dim 10**6 used to overflow int64 (OverflowError); n_tilings 10**8 allocated 6 GB first."""
    from agents.tabular.tiles import TileCoding

    with pytest.raises(ValueError, match=f"TileCoding: {message}"):
        TileCoding(gym.make("CartPole-v1"), **kwargs)
