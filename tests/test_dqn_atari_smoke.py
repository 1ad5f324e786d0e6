"""`python -m agents.dqn.atari` end to end on the real Breakout ROM: train, checkpoint on Ctrl-C, resume,
evaluate one whole game. A smoke test for CI: a few thousand cheap random-phase steps and a few updates."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from agents.dqn import DQN
from agents.wrappers.atari import make_atari_env

pytestmark = [pytest.mark.atari, pytest.mark.slow]

GAME = "BreakoutNoFrameskip-v4"
STEPS, LEARNING_STARTS, SEED = 3000, 2900, 0  # ~12 Nature-CNN updates at the preset's train_freq of 8
EVAL_EPSILON = 0.5  # half the actions random: FIRE comes soon after each lost life, so the game ends


def cli(*args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    return subprocess.Popen(
        [sys.executable, "-m", "agents.dqn.atari", "--game", GAME, "--no-progress", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_train_interrupt_resume_and_evaluate_whole_games(tmp_path: Path) -> None:
    run = tmp_path / "run"
    checkpoint = run / "checkpoint.pt"
    first = cli(
        "--preset",
        "pong-cpu",
        "--steps",
        str(STEPS),
        "--learning-starts",
        str(LEARNING_STARTS),
        "--buffer-size",
        "8000",
        "--checkpoint-every",
        "200",
        "--eval-episodes",
        "1",
        "--eval-epsilon",
        str(EVAL_EPSILON),
        "--seed",
        str(SEED),
        "--out",
        str(run),
    )
    deadline = time.monotonic() + 120
    while not checkpoint.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert checkpoint.exists(), f"no checkpoint written: {first.communicate(timeout=60)}"
    first.send_signal(signal.SIGINT)  # Ctrl-C: the loop writes a checkpoint and exits with 130
    out, err = first.communicate(timeout=120)
    assert first.returncode == 130, (out, err)
    assert "--resume" in err and not (run / "evaluation.json").exists()
    interrupted_at = DQN.load(checkpoint).env_steps
    assert 200 <= interrupted_at < STEPS, interrupted_at

    second = cli("--resume", str(checkpoint), "--eval-episodes", "1")
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, (out, err)
    for name in ("config.json", "checkpoint.pt", "agent.pt", "episodes.csv", "learning_curve.png", "evaluation.json"):
        assert (run / name).stat().st_size > 0, name
    assert any((run / "tensorboard").iterdir())
    evaluation = json.loads((run / "evaluation.json").read_text())
    assert evaluation["env_steps"] == STEPS and evaluation["epsilon"] == EVAL_EPSILON
    assert len(evaluation["games"]) == 1 and evaluation["games"][0]["game_over"]
    agent = DQN.load(run / "agent.pt")
    assert agent.env_steps == STEPS and agent.gradient_steps_done > 0
    episodes = np.loadtxt(run / "episodes.csv", delimiter=",", skiprows=1, ndmin=2)
    assert len(episodes) >= 5 and np.all(np.diff(episodes[:, 0]) > 0), "training episodes (lives), in order"

    # The evaluation played one whole game: replay it (agent.pt holds the acting RNG as it was when the
    # evaluation began; its seed is 10_000 + seed) and check that the game ran until the last life was
    # lost, not to the first life lost, and scored what evaluation.json says.
    env = make_atari_env(GAME, terminal_on_life_loss=False, clip_reward=False)
    obs, info = env.reset(seed=10_000 + SEED)
    lives = [env.unwrapped.ale.lives()]
    score, steps, terminated, truncated = 0.0, 0, False, False
    while not (terminated or truncated):
        obs, reward, terminated, truncated, info = env.step(agent.act(obs, greedy=False))
        score += float(reward)
        steps += 1
        lives.append(info["lives"])
    assert terminated and not truncated and lives[0] == 5 and lives[-1] == 0, (lives[0], lives[-1], steps)
    assert sorted(set(lives), reverse=True) == [5, 4, 3, 2, 1, 0], "every life was played"
    assert score == evaluation["games"][0]["score"], (score, evaluation["games"])


def test_n_envs_trains_on_a_vector_env_in_this_process_and_resume_uses_the_same_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from agents.dqn import atari

    run = tmp_path / "run"
    common = ["--no-progress", "--eval-episodes", "0"]
    code = atari.main(
        ["--game", GAME, "--preset", "pong-cpu", "--n-envs", "2", "--steps", "600", "--learning-starts", "500"]
        + ["--buffer-size", "2000", "--train-freq", "50", "--seed", str(SEED), "--out", str(run), *common]
    )
    assert code == 0, capsys.readouterr().err
    agent = DQN.load(run / "checkpoint.pt")
    # steps come two at a time, less the autoreset steps of a sub-env whose game ended (not transitions)
    assert agent.n_envs == 2 and 600 <= agent.env_steps <= 601 and agent.gradient_steps_done >= 2
    assert json.loads((run / "config.json").read_text())["hyperparameters"]["n_envs"] == 2
    # make the checkpoint that of a run 100 steps short of its end (as Ctrl-C leaves it), here and moved away
    # from its run folder, whose config.json says how many emulators the run had
    agent.run_end = agent.env_steps + 100
    agent.save(run / "checkpoint.pt", include_replay=True, checkpoint_every=200)
    moved = tmp_path / "elsewhere" / "checkpoint.pt"
    moved.parent.mkdir()
    moved.write_bytes((run / "checkpoint.pt").read_bytes())
    assert atari.main(["--game", GAME, "--resume", str(run / "checkpoint.pt"), *common]) == 0, capsys.readouterr().err
    resumed = DQN.load(run / "checkpoint.pt")
    assert resumed.n_envs == 2 and resumed.env_steps >= agent.run_end
    assert atari.main(["--game", GAME, "--resume", str(moved), *common]) == 2
    assert "holds data from 2 env(s); this env has 1" in capsys.readouterr().err
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**config, "hyperparameters": {"n_envs": "2"}}))
    assert atari.main(["--game", GAME, "--resume", str(run / "checkpoint.pt"), *common]) == 2
    assert "n_envs must be an integer in 1..256" in capsys.readouterr().err
    (run / "config.json").write_text("{not json")
    assert atari.main(["--game", GAME, "--resume", str(run / "checkpoint.pt"), *common]) == 2
    assert "is not a run's config.json" in capsys.readouterr().err
