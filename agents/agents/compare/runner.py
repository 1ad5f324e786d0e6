"""The comparison runner: run every job of a plan, resumably, then write the report.

    from agents.compare.job import check_plan
    from agents.compare.plan import build_plan, load_plan_file, preset_path
    from agents.compare.runner import run_comparison
    plan = build_plan(load_plan_file(preset_path("quick")))
    run_dir, exit_code = run_comparison(plan, check_plan(plan), Path("results/quick"))

A run folder holds `run.json` (the plan, every job with its resolved hyperparameters, the command),
`jobs/<env>__<algo>__s<seed>/` (see `job.py`), `failed_attempts/` (folders of jobs that did not
finish, moved aside before a re-run) and the report (`report.md`, `summary.csv`, `*.png`).

- A new run never reuses a folder that has files in it: `results/quick` becomes `results/quick-1`, ...
- `resume_comparison(run_dir)` re-runs only the jobs whose status is not `done` (failed,
  interrupted, never started, or `running` in a runner that was killed), with the jobs exactly as
  stored in run.json, so edited hyperparameter files do not change a resumed run.
- `extend_comparison(run_dir, algos)` adds algorithms to a finished run (your new agent against a
  stored baseline run): their jobs use the run's envs, seeds, budgets and evaluation protocol, and
  the report then covers old and new jobs together (run.json records the extension).
- A lock file (`.lock`, holding the runner's pid) keeps two runners out of one folder.
- SIGTERM is handled like Ctrl-C: running jobs are stopped and recorded as interrupted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agents.common.checkpoint import atomic_write_json
from agents.compare.backends import LocalBackend, RayBackend, read_status
from agents.compare.job import check_plan, versions
from agents.compare.plan import EnvSpec, Job, Plan
from agents.compare.report import write_report
from agents.compare.rundir import (
    RunError,
    create_run_dir,
    job_dir,
    load_run,
    pid_alive,
    remove_staging,
    run_lock,
    set_aside,
)

BACKENDS = ("local", "ray")
EXIT_OK, EXIT_JOBS_FAILED, EXIT_INTERRUPTED = 0, 1, 130


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt (in the main thread) so jobs are stopped and recorded."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def make_backend(name: str, workers: int | None, address: str | None, threads: int = 1) -> LocalBackend | RayBackend:
    """`workers` jobs at a time (default: one per CPU), each with `threads` torch threads. One thread
    is the right default: the suite's networks are small, and spare threads of one job only compete
    with the other jobs (on a busy machine a second thread can make a small MLP several times slower)."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; backends: {', '.join(BACKENDS)}")
    workers = workers or available_cpus()
    if workers <= 0 or threads <= 0:
        raise ValueError(f"workers and threads must be positive integers, got {workers} and {threads}")
    if name == "ray":
        if importlib.util.find_spec("ray") is None:
            raise ValueError(
                "the ray backend needs Ray: pip install 'ray==2.60.0' (or the agents package's [ray] extra)"
            )
        return RayBackend(workers, address, threads)
    if address is not None:
        raise ValueError("--address is for the ray backend (--backend ray)")
    return LocalBackend(workers, threads)


def _wait_for_orphans(run_dir: Path, jobs: list[Job], timeout: float = 15.0) -> None:
    """Jobs of a killed runner exit within a second (they watch their parent); wait for them."""
    deadline = time.monotonic() + timeout
    for job in jobs:
        status = read_status(job_dir(run_dir, job))
        if not status or status["status"] != "running" or status.get("host") != socket.gethostname():
            continue
        while pid_alive(status["pid"]):
            if time.monotonic() > deadline:
                raise RunError(f"job {job.name} is still running (pid {status['pid']}); stop it before resuming")
            time.sleep(0.2)


def running_note(run_dir: Path, jobs: list[Job]) -> str:
    """ "2 running: mdp-v0__sb3-dqn__s0 40%, ...": how far the running jobs are, from their metrics."""
    parts = []
    for job in jobs:
        folder = job_dir(run_dir, job)
        if (read_status(folder) or {}).get("status") != "running":
            continue
        step = 0
        with contextlib.suppress(OSError, ValueError, IndexError):
            step = int(float((folder / "metrics.csv").read_text().strip().splitlines()[-1].split(",")[0]))
        parts.append(f"{job.name} {100 * step // job.steps}%")
    return f"{len(parts)} running: {', '.join(parts)}" if parts else ""


def execute(run_dir: Path, jobs: list[Job], backend: LocalBackend | RayBackend, *, progress: bool = True) -> int:
    """Run the jobs of `run_dir` that are not done yet, then write the report; returns the exit code."""
    from tqdm.auto import tqdm

    with run_lock(run_dir), sigterm_as_interrupt():
        _wait_for_orphans(run_dir, jobs)
        remove_staging(run_dir)  # a killed runner's half-copied job folders (Ray backend)
        done = {job.name for job in jobs if (read_status(job_dir(run_dir, job)) or {}).get("status") == "done"}
        todo = [job for job in jobs if job.name not in done]
        for job in todo:
            set_aside(job_dir(run_dir, job))
        failed: list[str] = []
        bar = tqdm(
            total=len(jobs), initial=len(done), desc="jobs", unit="job", disable=not progress, dynamic_ncols=True
        )

        def on_done(job: Job, status: dict[str, Any]) -> None:
            if status["status"] == "done":
                bar.set_postfix_str(f"{job.name}: return {status['final_return_mean']:.4g}", refresh=False)
            else:
                failed.append(job.name)
                bar.write(f"job {job.name} failed: {status.get('error', status['status'])}")
            bar.update(1)

        def on_tick() -> None:
            note = running_note(run_dir, todo)
            if note:
                bar.set_postfix_str(note)

        interrupted = False
        try:
            if todo:
                backend.run([(job, job_dir(run_dir, job)) for job in todo], on_done, on_tick)
        except KeyboardInterrupt:
            interrupted = True
        bar.close()
        report = write_report(run_dir)  # after an interruption too: the finished jobs' results so far
    print(f"report: {report}")
    if interrupted:
        print(f"interrupted; finish with: python -m agents compare --resume {run_dir}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if failed:
        print(
            f"{len(failed)} of {len(jobs)} jobs failed (see jobs/<name>/error.txt); re-run them with: "
            f"python -m agents compare --resume {run_dir}",
            file=sys.stderr,
        )
        return EXIT_JOBS_FAILED
    return EXIT_OK


def _env_json(spec: EnvSpec) -> dict[str, Any]:
    return {
        "label": spec.label,
        "id": spec.id,
        "env_kwargs": spec.env_kwargs,
        "steps": spec.steps,
        "eval_every": spec.eval_every,
        "eval_episodes": spec.eval_episodes,
        "algos": list(spec.algos),
    }


def start_run(plan: Plan, jobs: list[Job], run_dir: Path, command: list[str] | None = None) -> Path:
    """Create the run folder and its run.json."""
    run_dir = create_run_dir(run_dir)
    atomic_write_json(
        run_dir / "run.json",
        {
            "name": plan.name,
            "description": plan.description,
            "seeds": list(plan.seeds),
            "envs": [_env_json(spec) for spec in plan.envs],
            "hyperparams": plan.hyperparams,
            "jobs": [job.to_json() for job in jobs],
            "command": command or sys.argv,
            "created": time.strftime("%Y-%m-%d %H:%M:%S"),
            "host": socket.gethostname(),
            "cpus": available_cpus(),
            "versions": versions(),
        },
    )
    return run_dir


def extend_run(
    run_dir: Path, algos: list[str], envs: list[str] | None = None, command: list[str] | None = None
) -> list[Job]:
    """Add algorithms to an earlier run: their jobs on the run's envs (all, or the labels in `envs`),
    with the run's seeds, budgets and evaluation protocol, checked like a new plan. Returns all jobs."""

    run, jobs = load_run(run_dir)
    specs = [
        EnvSpec(
            e["label"], e["id"], e["env_kwargs"], e["steps"], e["eval_every"], e["eval_episodes"], tuple(e["algos"])
        )
        for e in run["envs"]
    ]
    unknown = sorted(set(envs or ()) - {spec.label for spec in specs})
    if unknown:
        raise RunError(f"{run_dir} has no env(s) {unknown}; its envs: {', '.join(spec.label for spec in specs)}")
    chosen = {
        spec.label: [a for a in algos if a not in spec.algos] for spec in specs if envs is None or spec.label in envs
    }
    addition = Plan(
        run["name"],
        run["description"],
        tuple(run["seeds"]),
        tuple(dataclasses.replace(spec, algos=tuple(chosen[spec.label])) for spec in specs if chosen.get(spec.label)),
        run.get("hyperparams", {}),
    )
    new_jobs = check_plan(addition) if addition.envs else []
    if not new_jobs:
        raise RunError(f"{run_dir} already has {', '.join(algos)} on {', '.join(envs or [s.label for s in specs])}")
    run["envs"] = [
        _env_json(dataclasses.replace(spec, algos=spec.algos + tuple(chosen.get(spec.label, ())))) for spec in specs
    ]
    run["jobs"] += [job.to_json() for job in new_jobs]
    run.setdefault("extended", []).append(
        {"command": command or sys.argv, "time": time.strftime("%Y-%m-%d %H:%M:%S"), "versions": versions()}
    )
    atomic_write_json(run_dir / "run.json", run)
    return jobs + new_jobs


def run_comparison(
    plan: Plan,
    jobs: list[Job],
    run_dir: Path,
    *,
    backend: str = "local",
    workers: int | None = None,
    address: str | None = None,
    threads: int = 1,
    progress: bool = True,
    command: list[str] | None = None,
) -> tuple[Path, int]:
    """Run a checked plan (`job.check_plan` gives `jobs`) in a new folder; returns it and the exit code."""
    runner = make_backend(backend, workers, address, threads)
    run_dir = start_run(plan, jobs, run_dir, command)
    print(f"{len(jobs)} jobs -> {run_dir}")
    return run_dir, execute(run_dir, jobs, runner, progress=progress)


def resume_comparison(
    run_dir: Path,
    *,
    backend: str = "local",
    workers: int | None = None,
    address: str | None = None,
    threads: int = 1,
    progress: bool = True,
) -> int:
    """Re-run the unfinished jobs of an earlier run, then rewrite its report."""
    _, jobs = load_run(run_dir)
    runner = make_backend(backend, workers, address, threads)
    return execute(run_dir, jobs, runner, progress=progress)


def extend_comparison(
    run_dir: Path,
    algos: list[str],
    envs: list[str] | None = None,
    *,
    backend: str = "local",
    workers: int | None = None,
    address: str | None = None,
    threads: int = 1,
    progress: bool = True,
    command: list[str] | None = None,
) -> int:
    """Add algorithms to an earlier run (`extend_run`), run their jobs, then rewrite its report."""
    runner = make_backend(backend, workers, address, threads)
    with run_lock(run_dir):
        jobs = extend_run(run_dir, algos, envs, command)
    return execute(run_dir, jobs, runner, progress=progress)
