"""Whole comparisons with real SB3 agents on real envs: the report's contents, resuming a killed run,
and the same comparison on a local Ray instance."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from agents import load_agent
from agents.cli import main
from agents.common.envs import make_env
from agents.compare import stats
from agents.compare.job import check_plan
from agents.compare.plan import build_plan
from agents.compare.runner import run_comparison

pytestmark = pytest.mark.slow

TINY = {
    "name": "tiny",
    "seeds": 2,
    "eval_episodes": 3,
    "envs": {
        "mdp-v0": {"steps": 1000, "eval_every": 500, "algos": ["sb3-dqn", "random"]},
        "CartPole-v1": {"steps": 1000, "eval_every": 500, "algos": ["sb3-ppo", "random"]},
    },
    "hyperparams": {
        "sb3-dqn": {"mdp-v0": {"source": "test", "hyperparameters": {"buffer_size": 1000, "learning_starts": 200}}}
    },
}


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def statuses(run_dir: Path) -> dict[str, dict]:
    found = {}
    for path in (run_dir / "jobs").glob("[!.]*/status.json"):  # not staging folders
        try:
            found[path.parent.name] = json.loads(path.read_text())
        except ValueError:  # being replaced right now
            continue
    return found


def run_tiny(tmp_path: Path, backend: str, plan_dict: dict = TINY) -> Path:
    plan = build_plan(plan_dict)
    run_dir, code = run_comparison(
        plan, check_plan(plan), tmp_path / backend, backend=backend, workers=2, progress=False
    )
    assert code == 0
    return run_dir


def test_tiny_comparison_end_to_end(tmp_path) -> None:
    run_dir = run_tiny(tmp_path, "local")
    summary = {(r["env"], r["algo"]): r for r in read_csv(run_dir / "summary.csv")}
    seeds = read_csv(run_dir / "seeds.csv")
    assert set(summary) == {
        ("mdp-v0", "sb3-dqn"),
        ("mdp-v0", "random"),
        ("CartPole-v1", "sb3-ppo"),
        ("CartPole-v1", "random"),
    }
    for (env, algo), row in summary.items():
        finals = np.array([float(s["final_return_mean"]) for s in seeds if (s["env"], s["algo"]) == (env, algo)])
        assert row["seeds_done"] == "2" and len(finals) == 2
        mean, low, high = float(row["final_return_mean"]), float(row["ci95_low"]), float(row["ci95_high"])
        assert mean == pytest.approx(finals.mean(), rel=1e-5)
        assert finals.min() - 1e-6 <= low <= mean <= high <= finals.max() + 1e-6
        assert (low, high) == pytest.approx(stats.bootstrap_ci(finals), rel=1e-5)
        assert float(row["iqm"]) == pytest.approx(finals.mean(), rel=1e-5)  # two seeds: nothing to trim
        assert float(row["steps_per_second"]) > 0 and float(row["wall_seconds"]) > 0
    # mdp-v0's model is known: optimum, the greedy DQN policy's exact return, and the gap between them
    dqn = summary[("mdp-v0", "sb3-dqn")]
    assert float(dqn["optimum"]) == pytest.approx(137.17, abs=0.01)
    assert float(dqn["gap_to_optimum"]) == pytest.approx(
        float(dqn["optimum"]) - float(dqn["exact_return_mean"]), rel=1e-5
    )
    assert summary[("mdp-v0", "random")]["exact_return_mean"] == ""  # a random policy has no single action per state
    assert summary[("CartPole-v1", "sb3-ppo")]["optimum"] == ""
    # every job: evaluations at 0, 500, 1000 on the same episodes for every algorithm, and its files
    for seed in (0, 1):
        configs = [json.loads(p.read_text()) for p in run_dir.glob(f"jobs/*__s{seed}/config.json")]
        assert len(configs) == 4 and len({c["eval_seed"] for c in configs}) == 1
    for job in (run_dir / "jobs").iterdir():
        metrics = read_csv(job / "metrics.csv")
        assert [int(r["step"]) for r in metrics] == [0, 500, 1000]
        status = json.loads((job / "status.json").read_text())
        assert float(metrics[-1]["return_mean"]) == pytest.approx(status["final_return_mean"], rel=1e-5)
        assert list((job / "tensorboard" / "eval").iterdir()) and list((job / "tensorboard" / "train").iterdir())
    agent = load_agent(run_dir / "jobs" / "CartPole-v1__sb3-ppo__s0" / "agent.pt")
    assert agent.act(make_env("CartPole-v1").reset(seed=0)[0]) in (0, 1)
    report = (run_dir / "report.md").read_text()
    assert "## mdp-v0" in report and "## CartPole-v1" in report and "| sb3-dqn | 2/2 |" in report
    for png in ("curves_mdp-v0.png", "curves_CartPole-v1.png", "final_returns.png"):
        assert (run_dir / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png in report


@pytest.mark.parametrize("kill_signal", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_resume_runs_each_unfinished_job_once(tmp_path, kill_signal) -> None:
    run_dir = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "agents",
        "compare",
        "--envs",
        "mdp-v0",
        "--algos",
        "random",
        "sb3-a2c",
        "--seeds",
        "2",
        "--steps",
        "6000",
        "--eval-every",
        "3000",
        "--eval-episodes",
        "2",
        "--workers",
        "1",
        "--no-progress",
        "--out",
        str(run_dir),
    ]
    runner = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while True:  # kill the runner once some jobs are done and the next one is training
        found = statuses(run_dir) if run_dir.exists() else {}
        done = {name for name, s in found.items() if s["status"] == "done"}
        if len(done) >= 2 and any(s["status"] == "running" for s in found.values()):
            break
        assert runner.poll() is None, f"the runner ended before it could be killed: {runner.stderr.read()}"
        assert time.monotonic() < deadline, "no job finished in time"
        time.sleep(0.05)
    before = {name: (run_dir / "jobs" / name / "status.json").read_text() for name in done}
    runner.send_signal(kill_signal)
    assert runner.wait(timeout=60) == (130 if kill_signal == signal.SIGTERM else -signal.SIGKILL)
    # the job seen running was stopped; or, if it finished just before the signal, the one started after
    # it (a job the runner had not started yet when the signal came has no folder, and is left to --resume)
    interrupted = {name: s["status"] for name, s in statuses(run_dir).items() if s["status"] != "done"}
    assert set(interrupted.values()) <= ({"interrupted"} if kill_signal == signal.SIGTERM else {"running"})
    assert len(statuses(run_dir)) - len(interrupted) < 4, "every job finished before the runner was stopped"
    # a stopped runner still reports what finished; a killed one cannot
    assert (run_dir / "report.md").exists() == (kill_signal == signal.SIGTERM)

    assert main(["compare", "--resume", str(run_dir), "--workers", "1", "--no-progress"]) == 0
    final = statuses(run_dir)
    assert len(final) == 4 and all(s["status"] == "done" for s in final.values())
    for name, text in before.items():  # finished jobs were not run again
        assert (run_dir / "jobs" / name / "status.json").read_text() == text
    for name in interrupted:  # the unfinished job's partial folder was set aside, then it ran once, completely
        assert (run_dir / "failed_attempts" / f"{name}.1").is_dir()
    for job in (run_dir / "jobs").iterdir():
        assert [int(r["step"]) for r in read_csv(job / "metrics.csv")] == [0, 3000, 6000]
    pids = {s["pid"] for s in final.values()}
    assert len(pids) == 4  # one process per job, each ran once
    assert not (run_dir / ".lock").exists() and (run_dir / "report.md").exists()


def test_same_comparison_on_a_local_ray_instance(tmp_path) -> None:
    """The Ray backend runs the jobs of the local one and gets the same results (same seeds, one torch thread)."""
    plan = {**TINY, "envs": {"mdp-v0": TINY["envs"]["mdp-v0"]}}
    ray_run, local_run = run_tiny(tmp_path, "ray", plan), run_tiny(tmp_path, "local", plan)
    ray_seeds, local_seeds = read_csv(ray_run / "seeds.csv"), read_csv(local_run / "seeds.csv")
    assert len(ray_seeds) == 4 and all(r["status"] == "done" for r in ray_seeds)
    for ray_row, local_row in zip(ray_seeds, local_seeds):
        for column in ("env", "algo", "seed", "final_return_mean", "final_exact_return"):
            assert ray_row[column] == local_row[column]
    assert (ray_run / "report.md").exists() and (ray_run / "curves_mdp-v0.png").exists()
    assert os.environ.get("RAY_ADDRESS") is None  # the test started (and stopped) its own instance


def test_extend_adds_an_algorithm_to_a_finished_run(tmp_path, capsys) -> None:
    run_dir = tmp_path / "run"
    args = [
        "--envs",
        "mdp-v0",
        "--seeds",
        "2",
        "--steps",
        "400",
        "--eval-every",
        "200",
        "--eval-episodes",
        "2",
        "--workers",
        "2",
        "--no-progress",
    ]
    assert main(["compare", "--algos", "random", "--out", str(run_dir), *args]) == 0
    before = {p.parent.name: p.read_text() for p in run_dir.glob("jobs/[!.]*/status.json")}
    assert (
        main(["compare", "--extend", str(run_dir), "--algos", "random", "sb3-a2c", "--workers", "2", "--no-progress"])
        == 0
    )
    after = statuses(run_dir)
    assert set(after) == set(before) | {"mdp-v0__sb3-a2c__s0", "mdp-v0__sb3-a2c__s1"}
    assert all(s["status"] == "done" for s in after.values())
    assert {name: (run_dir / "jobs" / name / "status.json").read_text() for name in before} == before  # not re-run
    configs = [
        json.loads((run_dir / "jobs" / f"mdp-v0__sb3-a2c__s{seed}" / "config.json").read_text()) for seed in (0, 1)
    ]
    assert [(c["steps"], c["eval_every"], c["eval_episodes"]) for c in configs] == [(400, 200, 2)] * 2
    report = (run_dir / "report.md").read_text()
    assert "| sb3-a2c | 2/2 |" in report and "| random | 2/2 |" in report and "- extended " in report
    capsys.readouterr()
    assert main(["compare", "--extend", str(run_dir), "--algos", "sb3-a2c"]) == 2
    assert "already has sb3-a2c" in capsys.readouterr().err
    assert main(["compare", "--extend", str(run_dir), "--algos", "sb3-ppo", "--envs", "CartPole-v1"]) == 2
    assert "has no env(s) ['CartPole-v1']" in capsys.readouterr().err


def test_a_run_locked_by_a_live_runner_is_refused_and_a_stale_lock_is_taken(tmp_path: Path) -> None:
    """The lock check raised its RunError inside a `suppress(ValueError)` (RunError is one), so a second
    runner always went ahead on a run in use."""
    import socket

    from agents.compare.rundir import RunError, run_lock

    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock = tmp_path / ".lock"
        lock.write_text(json.dumps({"pid": other.pid, "host": socket.gethostname()}))
        with pytest.raises(RunError, match=rf"in use by another runner \(pid {other.pid}\)"), run_lock(tmp_path):
            pass
        assert json.loads(lock.read_text())["pid"] == other.pid  # the other runner's lock stays
    finally:
        other.kill()
        other.wait()
    with run_lock(tmp_path):  # its runner is gone: the lock is stale and taken over
        assert json.loads(lock.read_text())["pid"] == os.getpid()
    assert not lock.exists()
    lock.write_text("{not json")  # a runner killed while writing it
    with run_lock(tmp_path):
        assert json.loads(lock.read_text())["pid"] == os.getpid()


@pytest.mark.parametrize("envs", ["x", [{"label": "mdp-v0"}], [7]])
def test_a_run_json_with_malformed_env_entries_is_a_run_error(tmp_path: Path, envs: object) -> None:
    """An edited run.json used to reach the report as a TypeError ("string indices must be integers")."""
    from agents.compare.rundir import RunError, load_run

    (tmp_path / "run.json").write_text(json.dumps({"envs": envs, "jobs": []}))
    with pytest.raises(RunError, match=r"run.json is unreadable: .*'envs'"):
        load_run(tmp_path)
