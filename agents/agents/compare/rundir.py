"""The run folder of a comparison: where it is, what is in it, and who may write to it.

    run_dir = create_run_dir(default_run_dir("quick"))    # results/quick-<date>-<time>, never reused
    with run_lock(run_dir):                               # one runner per folder
        ...
    run, jobs = load_run(run_dir)                         # run.json and its jobs
    folder = job_dir(run_dir, jobs[0])                    # run_dir/jobs/<env>__<algo>__s<seed>

Shared by the runner (which writes runs) and the report (which reads them), so neither imports the other.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from pathlib import Path
from typing import Any, Iterator

from agents.common.checkpoint import atomic_write_json
from agents.compare.plan import Job


class RunError(ValueError):
    """A run folder that cannot be used (unwritable, not a run, in use by another runner)."""


def create_run_dir(path: Path) -> Path:
    """`path`, or `path-1`, `path-2`, ... if it already holds files; created and checked writable."""
    candidate, n = path, 1
    while candidate.exists() and (not candidate.is_dir() or any(candidate.iterdir())):
        candidate = path.with_name(f"{path.name}-{n}")
        n += 1
    try:
        candidate.mkdir(parents=True, exist_ok=True)
        probe = candidate / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise RunError(f"cannot write to output folder {candidate}: {error.strerror or error}") from error
    return candidate


def default_run_dir(name: str, root: Path = Path("results")) -> Path:
    return root / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"


def job_dir(run_dir: Path, job: Job) -> Path:
    return run_dir / "jobs" / job.name


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    lock = run_dir / ".lock"
    if lock.exists():
        with contextlib.suppress(OSError, ValueError):
            owner = json.loads(lock.read_text())
            if owner.get("host") == socket.gethostname() and owner.get("pid") != os.getpid() and _pid_alive(owner["pid"]):
                raise RunError(f"{run_dir} is in use by another runner (pid {owner['pid']}); wait for it or stop it first")
    atomic_write_json(lock, {"pid": os.getpid(), "host": socket.gethostname()})
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)


def load_run(run_dir: Path) -> tuple[dict[str, Any], list[Job]]:
    """run.json and its jobs; RunError if `run_dir` is not a run folder."""
    try:
        run = json.loads((run_dir / "run.json").read_text())
        return run, [Job.from_json(job) for job in run["jobs"]]
    except (FileNotFoundError, NotADirectoryError):
        raise RunError(f"{run_dir} is not a comparison run folder (no run.json)") from None
    except (ValueError, KeyError, TypeError, OSError) as error:
        raise RunError(f"{run_dir}/run.json is unreadable: {error}") from error
