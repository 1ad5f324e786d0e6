"""One comparison job: train an algorithm on an env with one seed, evaluating at fixed points.

The protocol, identical for every algorithm:
- the training env is `gym.make(env_id, **env_kwargs)` plus the algorithm's observation wrappers
  (`hyperparams/<algo>.yml`), or a `SyncVectorEnv` of `n_envs` such envs when the
  algorithm's config asks for several; the agent seeds it with the job's seed at its first reset;
- a separate evaluation env, built the same way, plays `eval_episodes` greedy episodes at env steps
  0, eval_every, 2 * eval_every, ..., steps; episode i starts from `reset(seed=eval_seed + i)`
  (`plan.eval_seed`), so every algorithm faces the same start states;
- training stops after `steps` env steps; time spent evaluating is not counted in steps/s.

Files in the job's folder:
    config.json     the job, the agent's full hyperparameters, library versions
    metrics.csv     one row per evaluation (METRICS_COLUMNS); exact_return where the env's model gives
                    the greedy policy's exact expected return (reference.ExactEvaluator), else empty
    episodes.csv    training episodes: step, return, length
    status.json     running | done | failed | interrupted, timings, final return
    error.txt       the traceback of a failed job
    log.txt         the job's stdout/stderr (when run by a backend)
    agent.pt|.npz   the trained agent
    tensorboard/    train/ (the agent's own logging) and eval/ (evaluation returns)
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import io
import os
import platform
import socket
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from agents import base
from agents.common.checkpoint import atomic_write_json, atomic_write_text
from agents.common.envs import check_env_id, make_env
from agents.common.evaluation import evaluate
from agents.compare.plan import Job, Plan
from agents.compare.reference import ExactEvaluator
from agents.hyperparams import apply_wrappers

METRICS_COLUMNS = (
    "step",
    "env_steps",
    "return_mean",
    "return_std",
    "length_mean",
    "exact_return",
    "train_seconds",
    "wall_seconds",
)
VERSIONED_PACKAGES = ("gymnasium", "numpy", "torch", "stable-baselines3", "sb3-contrib", "rlsuite-agents")


def make_single_env(job: Job) -> gym.Env:
    """The job's env with the algorithm's observation wrappers: the same for training and evaluation."""
    return apply_wrappers(make_env(job.env_id, **job.env_kwargs), [(target, kwargs) for target, kwargs in job.wrappers])


def make_training_env(job: Job, n_envs: int = 1) -> gym.Env | gym.vector.VectorEnv:
    if n_envs == 1:
        return make_single_env(job)
    return gym.vector.SyncVectorEnv([functools.partial(make_single_env, job) for _ in range(n_envs)])


def eval_points(steps: int, every: int) -> list[int]:
    """0, every, 2 * every, ... and always the final step."""
    return sorted(set(range(0, steps, every)) | {steps})


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in VERSIONED_PACKAGES:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found[package] = importlib.metadata.version(package)
    return found


def write_table(path: Path, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """A small CSV file with a header, written atomically."""
    buffer = io.StringIO()
    buffer.write(",".join(columns) + "\n")
    for row in rows:
        buffer.write(",".join(f"{v:.6g}" if isinstance(v, float) else str(v) for v in row) + "\n")
    atomic_write_text(path, buffer.getvalue())


class Evaluator:
    """The training callback: evaluates the greedy policy whenever training passes an evaluation point."""

    def __init__(self, job: Job, job_dir: Path, start: float) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.job, self.job_dir, self.start = job, job_dir, start
        self.env = make_single_env(job)
        # model-known envs seen without wrappers (mdp-v0, FrozenLake): also the greedy policy's exact return
        self.exact = None if job.wrappers else ExactEvaluator.for_env(self.env)
        self.points = eval_points(job.steps, job.eval_every)
        self.next_index = 0
        self.rows: list[tuple] = []
        self.train_start: float | None = None  # set by `start_training`
        self.eval_seconds = 0.0  # spent evaluating since training started
        self.env_steps = 0
        self.writer = SummaryWriter(str(job_dir / "tensorboard" / "eval"))

    def __call__(self, agent: Any, env_steps: int) -> bool:
        self.env_steps = env_steps
        passed = self.next_index
        while passed < len(self.points) - 1 and env_steps >= self.points[passed]:
            passed += 1
        if passed > self.next_index:  # evaluate once, at the last point passed (the final one: after training)
            self.evaluate(agent, self.points[passed - 1])
            self.next_index = passed
        return False

    def start_training(self, agent: Any) -> None:
        """Evaluate the untrained agent (step 0) and start the training clock."""
        self.evaluate(agent, 0)
        self.next_index = 1
        self.train_start = time.perf_counter()

    @property
    def train_seconds(self) -> float:
        """Time in `train` so far, evaluations excluded."""
        if self.train_start is None:
            return 0.0
        return time.perf_counter() - self.train_start - self.eval_seconds

    def evaluate(self, agent: Any, point: int) -> None:

        began = time.perf_counter()
        result = evaluate(agent, self.env, self.job.eval_episodes, seed=self.job.eval_seed)
        exact = self.exact(agent) if self.exact is not None else None
        if self.train_start is not None:
            self.eval_seconds += time.perf_counter() - began
        self.rows.append(
            (
                point,
                self.env_steps,
                result.mean,
                result.std,
                float(result.lengths.mean()),
                "" if exact is None else exact,
                self.train_seconds,
                time.perf_counter() - self.start,
            )
        )
        write_table(self.job_dir / "metrics.csv", METRICS_COLUMNS, self.rows)
        self.writer.add_scalar("eval/return_mean", result.mean, point)
        self.writer.add_scalar("eval/return_std", result.std, point)
        if exact is not None:
            self.writer.add_scalar("eval/exact_return", exact, point)

    def finish(self, agent: Any) -> None:
        self.env_steps = max(self.env_steps, self.job.steps)
        self.evaluate(agent, self.job.steps)
        self.writer.close()
        self.env.close()


@contextlib.contextmanager
def redirected_output(path: Path) -> Iterator[None]:
    """Send this process's stdout/stderr (Python and C level) to `path` while the job runs."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(path, "a", buffering=1) as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def write_status(job_dir: Path, status: str, **fields: Any) -> dict[str, Any]:
    record = {"status": status, "pid": os.getpid(), "host": socket.gethostname(), "time": time.time(), **fields}
    atomic_write_json(job_dir / "status.json", record)
    return record


def run_job(
    job_data: dict[str, Any], job_dir: str | Path, *, threads: int = 1, redirect: bool = True
) -> dict[str, Any]:
    """Run one job in this process and return its final status record (also in status.json).

    A failure is caught and recorded (`failed`, traceback in error.txt); an interruption
    (KeyboardInterrupt) is recorded as `interrupted` and re-raised.
    """
    job = Job.from_json(job_data)
    job_dir = Path(job_dir)
    job_dir.mkdir(parents=True, exist_ok=True)
    write_status(job_dir, "running", name=job.name)
    output = redirected_output(job_dir / "log.txt") if redirect else contextlib.nullcontext()
    with output:
        try:
            return _train_and_evaluate(job, job_dir, threads)
        except KeyboardInterrupt:
            write_status(job_dir, "interrupted", name=job.name)
            raise
        except Exception as error:
            atomic_write_text(job_dir / "error.txt", traceback.format_exc())
            return write_status(job_dir, "failed", name=job.name, error=f"{type(error).__name__}: {error}")


def _train_and_evaluate(job: Job, job_dir: Path, threads: int) -> dict[str, Any]:
    import torch

    torch.set_num_threads(threads)
    start = time.perf_counter()
    agent_class = base.get_agent_class(job.algo)
    config = base.make_config(agent_class, job.hyperparameters)
    n_envs = getattr(config, "n_envs", 1)
    env = make_training_env(job, n_envs)
    agent = base.make_agent(job.algo, env, config, seed=job.seed)
    atomic_write_json(
        job_dir / "config.json",
        {
            **job.to_json(),
            "name": job.name,
            "eval_seed": job.eval_seed,
            "n_envs": n_envs,
            "eval_points": eval_points(job.steps, job.eval_every),
            "agent_hyperparameters": agent.hyperparameters(),
            "versions": versions(),
        },
    )
    evaluator = Evaluator(job, job_dir, start)
    evaluator.start_training(agent)
    agent.train(env, job.steps, callback=evaluator, log_dir=job_dir / "tensorboard" / "train", progress=False)
    evaluator.finish(agent)
    env.close()
    train_seconds = evaluator.rows[-1][6]  # measured before the final evaluation
    episodes = [(int(s), float(r), int(n)) for s, r, n in agent.episode_log]
    write_table(job_dir / "episodes.csv", ("step", "return", "length"), episodes)
    agent.save(job_dir / f"agent{agent_class.checkpoint_suffix}")
    final = evaluator.rows[-1]
    return write_status(
        job_dir,
        "done",
        name=job.name,
        final_return_mean=final[2],
        final_return_std=final[3],
        final_exact_return=final[5] if final[5] != "" else None,
        env_steps=int(evaluator.env_steps),
        train_seconds=train_seconds,
        wall_seconds=time.perf_counter() - start,
        eval_seconds=evaluator.eval_seconds,
        steps_per_second=evaluator.env_steps / max(train_seconds, 1e-9),
        cpu_seconds=time.process_time(),  # this process's CPU time: a load-independent cost estimate
        episodes=len(episodes),
        mean_train_return_last_10=float(np.mean([r for _, r, _ in episodes[-10:]])) if episodes else None,
    )


def check_plan(plan: Plan) -> list[Job]:
    """Build every (env, algorithm) pair of the plan once; raise a ValueError naming the pair and the
    problem for the first that cannot run. Returns the plan's jobs."""
    for spec in plan.envs:
        check_env_id(spec.id)
    for algo in dict.fromkeys(a for spec in plan.envs for a in spec.algos):
        base.get_agent_class(algo)
    jobs = plan.jobs()
    checked = set()
    for job in jobs:
        if (job.env_label, job.algo) in checked:
            continue
        checked.add((job.env_label, job.algo))
        try:
            check_job(job)
        except (ValueError, TypeError, AssertionError, gym.error.Error) as error:
            raise ValueError(f"{job.algo} on {job.env_label}: {error}") from error
    return jobs


def check_job(job: Job) -> None:
    """Construct the job's env and agent (no training): the errors a worker would hit first."""
    agent_class = base.get_agent_class(job.algo)
    config = base.make_config(agent_class, job.hyperparameters)
    env = make_training_env(job, getattr(config, "n_envs", 1))
    try:
        base.make_agent(job.algo, env, config, seed=job.seed)
    except ValueError as error:
        if "wrap" not in str(error):
            raise
        # the agent asks for an observation wrapper: say where a comparison takes one
        raise ValueError(
            f"{error} (in a comparison, an algorithm's observation wrappers go in its per-env entry, `wrappers:`, "
            f"of agents/hyperparams/{job.algo}.yml or of a --hyperparams file)"
        ) from error
    finally:
        env.close()
