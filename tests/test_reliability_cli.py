"""Reliability of the command line and of checkpoints: user errors print one `error:` line and exit 2
before anything is written; corrupt checkpoints raise CheckpointError naming the file and the table or
tensor; Ctrl-C saves a loadable agent for every algorithm; a SIGKILLed DQN run resumes bit for bit."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from agents.base import load_agent, make_agent
from agents.cli import main
from agents.common.checkpoint import CheckpointError, load_npz, load_torch, save_npz, save_torch
from agents.common.envs import make_env
from agents.compare.plan import build_plan, load_plan_file

ROOT = Path(__file__).resolve().parents[1]


def cli_error(capsys, *argv: str) -> str:
    """Run the CLI in-process; it must exit 2 with one `error:` line (ours or argparse's) and no traceback."""
    try:
        code = main(list(argv))
    except SystemExit as stop:  # argparse: usage line + "prog: error: ..."
        code = stop.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture()
def tabular_checkpoint(tmp_path: Path) -> Path:
    env = make_env("mdp-v0")
    agent = make_agent("tabular-q", env, seed=0)
    agent.train(env, 500, progress=False)
    path = tmp_path / "agent.npz"
    agent.save(path)
    return path


# ---------------------------------------------------------------------------- CLI user errors
def test_negative_seed_is_a_usage_error(capsys, tabular_checkpoint: Path) -> None:
    line = cli_error(capsys, "evaluate", str(tabular_checkpoint), "--env", "mdp-v0", "--seed", "-1")
    assert "--seed" in line and "-1" in line


def test_unknown_env_kwarg_names_the_key_and_the_accepted_ones(capsys, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    line = cli_error(capsys, "train", "tabular-q", "--env", "mdp-v0", "--env-kwargs", '{"foo": 1}', "--steps", "10")
    assert "'foo'" in line and "invalid_action" in line
    assert not (tmp_path / "results").exists()


def test_bad_env_kwarg_value_is_a_user_error(capsys) -> None:
    line = cli_error(capsys, "solve", "--env", "FrozenLake-v1", "--env-kwargs", '{"map_name": 3}')
    assert "FrozenLake-v1" in line and "map_name" in line


def test_value_iteration_that_cannot_converge_is_a_quick_clean_error(capsys) -> None:
    line = cli_error(capsys, "solve", "--env", "mdp-v0", "--gamma", "1")
    assert "gamma=1" in line and "converge" in line


@pytest.mark.parametrize("gamma", ["1.5", "-0.1", "nan", "x"])
def test_gamma_outside_0_1_is_a_usage_error(capsys, gamma: str) -> None:
    assert "--gamma" in cli_error(capsys, "solve", "--env", "mdp-v0", "--gamma", gamma)


def test_rejected_argument_leaves_no_run_folder(capsys, tmp_path: Path) -> None:
    out = tmp_path / "run"
    cli_error(
        capsys, "train", "dqn", "--env", "CartPole-v1", "--steps", "100", "--checkpoint-every", "-1", "--out", str(out)
    )
    cli_error(capsys, "train", "tabular-q", "--env", "mdp-v0", "--steps", "100", "--seed", "-3", "--out", str(out))
    assert not out.exists()


def test_compare_config_that_is_a_folder(capsys, tmp_path: Path) -> None:
    assert "is a folder" in cli_error(capsys, "compare", "--config", str(tmp_path), "--dry-run")


def test_hyperparams_file_whose_top_level_is_a_list(capsys, tmp_path: Path) -> None:
    hyperparams = tmp_path / "h.yml"
    hyperparams.write_text("- dqn\n- 3\n")
    line = cli_error(
        capsys,
        "compare",
        "--envs",
        "mdp-v0",
        "--algos",
        "random",
        "--steps",
        "100",
        "--hyperparams",
        str(hyperparams),
        "--dry-run",
    )
    assert "--hyperparams" in line and "mapping" in line


@pytest.mark.parametrize("flag", ["--resume", "--extend", "--report"])
def test_run_folder_flags_given_a_file(capsys, tmp_path: Path, flag: str) -> None:
    a_file = tmp_path / "run.json"
    a_file.write_text("{}")
    argv = ["compare", flag, str(a_file)] + (["--algos", "random"] if flag == "--extend" else [])
    assert "not a folder" in cli_error(capsys, *argv)


def test_tabular_checkpoint_with_malformed_episode_log(capsys, tabular_checkpoint: Path) -> None:
    meta, arrays = load_npz(tabular_checkpoint)
    arrays["episode_log"] = np.arange(5.0)  # 1-D: not (episodes, 3)
    save_npz(
        tabular_checkpoint, meta.pop("algo"), {k: v for k, v in meta.items() if k not in ("format", "version")}, arrays
    )
    with pytest.raises(CheckpointError, match="episode_log"):
        load_agent(tabular_checkpoint)
    line = cli_error(capsys, "evaluate", str(tabular_checkpoint), "--env", "mdp-v0")
    assert str(tabular_checkpoint) in line and "episode_log" in line


def test_resume_of_an_algorithm_without_resumable_checkpoints(capsys, tabular_checkpoint: Path) -> None:
    line = cli_error(capsys, "resume", str(tabular_checkpoint), "--env", "mdp-v0")
    assert "cannot be resumed" in line and "evaluate" in line


# ---------------------------------------------------------------------------- comparison plans
@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"eval_every": 0}, r"eval_every of mdp-v0 .*got 0"),
        ({"eval_every": 2000}, r"eval_every of mdp-v0 \(at most its steps\) must be .*1,000.*got 2000"),
        ({"eval_every": 1.5}, r"eval_every of mdp-v0 .*got 1.5"),
        ({"eval_episodes": 0}, r"eval_episodes of mdp-v0 .*got 0"),
        ({"eval_episodes": True}, r"eval_episodes of mdp-v0 .*got True"),
        ({"steps": 0}, r"steps of mdp-v0 .*got 0"),
        ({"steps": "1000"}, r"steps of mdp-v0 .*got '1000'"),
        ({"env_kwargs": [1]}, r"env_kwargs of mdp-v0 must be a mapping"),
        ({"env_kwargs": {1: 2}}, r"env_kwargs of mdp-v0 must be a mapping with string keys"),
        ({"algos": []}, r"algos of mdp-v0 must be a non-empty list"),
        ({"algos": "random"}, r"algos of mdp-v0 must be a non-empty list"),
        ({"id": 7}, r"id of mdp-v0 must be an env id"),
        ({"stepz": 10}, r"unknown key\(s\) \['stepz'\]"),
    ],
)
def test_every_plan_value_is_checked(entry: dict, message: str) -> None:
    raw = {"envs": {"mdp-v0": {"steps": 1000, "algos": ["random"], **entry}}}
    with pytest.raises(ValueError, match=message):
        build_plan(raw)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"seeds": 0}, r"seeds must be a positive integer .*got 0"),
        ({"seeds": 10**6}, r"seeds must be .*at most 1,000.*got 1000000"),
        ({"seeds": [0, -1]}, r"each seed .*got -1"),
        ({"eval_episodes": 0}, r"eval_episodes of mdp-v0 .*got 0"),
        ({"name": ["x"]}, r"name of the comparison config must be a string"),
        ({"hyperparams": ["dqn"]}, r"hyperparams of the comparison config must be a mapping"),
        ({"hyperparams": {"dqn": 3}}, r"hyperparams of the comparison config\['dqn'\] must be a mapping"),
        ({"envs": ["mdp-v0"]}, r"envs .*must be a mapping"),
    ],
)
def test_every_top_level_plan_value_is_checked(raw: dict, message: str) -> None:
    raw = {"envs": {"mdp-v0": {"steps": 1000, "algos": ["random"]}}, **raw}
    with pytest.raises(ValueError, match=message):
        build_plan(raw)


def test_command_line_zero_overrides_are_not_ignored() -> None:
    raw = {"envs": {"mdp-v0": {"steps": 1000, "eval_every": 100, "algos": ["random"]}}}
    with pytest.raises(ValueError, match="eval_every"):
        build_plan(raw, eval_every=0)
    with pytest.raises(ValueError, match="seeds"):
        build_plan(raw, seeds=0)
    # --steps shorter than the config's eval_every shortens it (evaluates at least at the end)
    assert build_plan(raw, steps=50).envs[0].eval_every == 50


def test_plan_file_whose_top_level_is_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "plan.yml"
    path.write_text("[1, 2]\n")
    with pytest.raises(ValueError, match="must be a mapping"):
        load_plan_file(path)


# ---------------------------------------------------------------------------- NaN / inf in checkpoints
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_tabular_checkpoint_with_non_finite_q_values(tabular_checkpoint: Path, bad: float) -> None:
    meta, arrays = load_npz(tabular_checkpoint)
    arrays["q0"] = arrays["q0"].copy()
    arrays["q0"][0, 0] = bad
    save_npz(
        tabular_checkpoint, meta.pop("algo"), {k: v for k, v in meta.items() if k not in ("format", "version")}, arrays
    )
    with pytest.raises(CheckpointError, match=rf"{tabular_checkpoint}: Q-table q0 holds"):
        load_agent(tabular_checkpoint)


def test_tabular_minus_inf_marks_of_disallowed_actions_still_load(tmp_path: Path) -> None:
    env = make_env("mdp-v0")  # masks actions: its table holds -inf for the disallowed ones
    agent = make_agent("tabular-q", env, seed=0).train(env, 300, progress=False)
    assert np.isneginf(agent.q_table).any()
    agent.save(tmp_path / "a.npz")
    np.testing.assert_array_equal(load_agent(tmp_path / "a.npz").q_table, agent.q_table)


def _rewrite_torch(path: Path, change) -> None:
    meta, payload = load_torch(path)
    change(payload)
    save_torch(path, meta.pop("algo"), {k: v for k, v in meta.items() if k not in ("format", "version")}, payload)


@pytest.mark.parametrize("where", ["all", "one"])
def test_dqn_checkpoint_with_non_finite_weights(tmp_path: Path, where: str) -> None:
    env = make_env("CartPole-v1")
    agent = make_agent("dqn", env, {"hidden_sizes": [8]}, seed=0)
    path = tmp_path / "dqn.pt"
    agent.save(path)
    key = next(iter(agent.q_network.state_dict()))

    def poison(payload) -> None:
        tensor = payload["q_network"][key]
        if where == "all":
            tensor.fill_(float("nan"))
        else:
            tensor.view(-1)[0] = float("inf")

    _rewrite_torch(path, poison)
    with pytest.raises(CheckpointError, match=rf"{path}: tensor '{key}' of q_network holds"):
        load_agent(path)


def test_sb3_checkpoint_with_nan_weights(tmp_path: Path) -> None:
    env = make_env("CartPole-v1")
    agent = make_agent("sb3-ppo", env, {"n_steps": 64, "batch_size": 32}, seed=0)
    path = tmp_path / "ppo.pt"
    agent.save(path)
    key = next(iter(agent.model.policy.state_dict()))
    _rewrite_torch(path, lambda payload: payload["policy"][key].fill_(float("nan")))
    with pytest.raises(CheckpointError, match=rf"tensor '{key}' of policy holds"):
        load_agent(path)


# ---------------------------------------------------------------------------- real signals to a real CLI
def _cli(*argv: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "agents", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        **kwargs,
    )


def _wait_for(path: Path, process: subprocess.Popen, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"the run ended before writing {path}: {process.communicate()}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"no {path} after {timeout} s")
        time.sleep(0.01)


class _StderrReader(threading.Thread):
    """Collects a process's stderr as it comes (the progress bar writes '\r', not lines)."""

    def __init__(self, process: subprocess.Popen) -> None:
        super().__init__(daemon=True)
        self.process, self.text = process, ""

    def run(self) -> None:
        while chunk := self.process.stderr.read(1):
            self.text += chunk

    def wait_for_steps(self, steps: int, timeout: float = 300.0) -> None:
        """Until the progress bar shows at least `steps` env steps."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            counts = [int(n) for n in re.findall(r"(\d+)/100000000", self.text)]
            if counts and max(counts) >= steps:
                return
            time.sleep(0.05)
        self.process.kill()
        raise AssertionError(f"training did not reach {steps} steps: {self.text[-2000:]}")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("algo", "env_id", "extra", "steps"),
    [("tabular-q", "mdp-v0", [], 3000), ("sb3-ppo", "CartPole-v1", ["--n-steps", "64", "--batch-size", "32"], 300)],
)
def test_ctrl_c_saves_a_loadable_agent(tmp_path: Path, algo: str, env_id: str, extra: list[str], steps: int) -> None:
    out = tmp_path / "run"
    process = _cli("train", algo, "--env", env_id, "--steps", "100000000", "--out", str(out), *extra)
    reader = _StderrReader(process)
    reader.start()
    reader.wait_for_steps(steps)  # inside the training loop
    process.send_signal(signal.SIGINT)
    process.wait(timeout=120)
    reader.join(timeout=10)
    err = reader.text
    assert process.returncode == 130, err
    assert "Traceback" not in err
    suffix = ".npz" if algo == "tabular-q" else ".pt"
    saved = out / f"interrupted{suffix}"
    assert f"saved to {saved}" in err and f"python -m agents evaluate {saved} --env {env_id}" in err
    agent = load_agent(saved, make_env(env_id))
    assert agent.algo == algo
    if algo == "tabular-q":
        assert agent.num_timesteps >= steps and agent.num_timesteps % 1000 == 0  # stopped between whole steps
        assert np.abs(agent.q_table[np.isfinite(agent.q_table)]).sum() > 0  # learned something before the stop
    else:
        assert len(agent.episode_log) > 0  # the episodes trained on before the stop
    assert main(["evaluate", str(saved), "--env", env_id, "--episodes", "2"]) == 0


DQN_RUN = [
    "--env",
    "CartPole-v1",
    "--seed",
    "3",
    "--steps",
    "600",
    "--checkpoint-every",
    "150",
    "--learning-starts",
    "50",
    "--batch-size",
    "16",
    "--buffer-size",
    "2000",
    "--hidden-sizes",
    "16",
    "--target-update-interval",
    "100",
    "--eval-episodes",
    "1",
    "--no-progress",
]


@pytest.mark.slow
def test_sigkilled_dqn_run_resumes_bit_for_bit(tmp_path: Path) -> None:
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    uninterrupted = _cli("train", "dqn", *DQN_RUN, "--out", str(whole))
    process = _cli("train", "dqn", *DQN_RUN, "--out", str(killed))
    _wait_for(killed / "checkpoint.pt", process)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    meta, payload = load_torch(killed / "checkpoint.pt")
    assert payload["counters"]["env_steps"] < 600  # killed mid-run, not after the end
    assert meta["checkpoint_replay"] is True
    resumed = subprocess.run(
        [
            sys.executable,
            "-m",
            "agents",
            "resume",
            str(killed / "checkpoint.pt"),
            "--env",
            "CartPole-v1",
            "--eval-episodes",
            "1",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert uninterrupted.wait(timeout=600) == 0, uninterrupted.communicate()
    # the final checkpoints (written at the end, with the replay buffer) hold every counter and the buffer
    _, whole_end = load_torch(whole / "checkpoint.pt")
    _, killed_end = load_torch(killed / "checkpoint.pt")
    assert whole_end["counters"] == killed_end["counters"]
    assert whole_end["counters"]["transitions_added"] == 600 and whole_end["counters"]["gradient_steps"] > 100
    for name in ("q_network", "target_network", "replay"):
        for key, value in whole_end[name].items():
            assert torch.equal(value, killed_end[name][key]), f"{name}.{key} differs"
    assert whole_end["episode_log"] == killed_end["episode_log"]
    a, b = load_agent(whole / "agent.pt"), load_agent(killed / "agent.pt")  # what `train` leaves: the same agent
    for (key, x), (_, y) in zip(a.q_network.state_dict().items(), b.q_network.state_dict().items()):
        assert torch.equal(x, y), f"agent.pt: q_network.{key} differs"


def test_no_replay_in_checkpoint_warns_and_leaves_the_buffer_out(capsys, tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "dqn",
                "--env",
                "CartPole-v1",
                "--steps",
                "200",
                "--learning-starts",
                "100",
                "--hidden-sizes",
                "8",
                "--eval-episodes",
                "1",
                "--no-progress",
                "--out",
                str(out),
                "--no-replay-in-checkpoint",
            ]
        )
        == 0
    )
    assert "will differ from an uninterrupted one" in capsys.readouterr().err
    meta, payload = load_torch(out / "checkpoint.pt")
    assert meta["checkpoint_replay"] is False and payload["replay"] is None
    config = json.loads((out / "config.json").read_text())
    assert config["algo"] == "dqn"
