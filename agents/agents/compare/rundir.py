"""The run folder of a comparison: where it is, what is in it, and who may write to it.

    run_dir = create_run_dir(default_run_dir("quick"))    # results/quick-<date>-<time>, never reused
    with run_lock(run_dir):                               # one runner per folder
        ...
    run, jobs = load_run(run_dir)                         # run.json and its jobs
    folder = job_dir(run_dir, jobs[0])                    # run_dir/jobs/<env>__<algo>__s<seed>
    install_job_files(folder, files)                      # a job's folder from its files, all or nothing

Shared by the runner (which writes runs) and the report (which reads them), so neither imports the other.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agents.common.checkpoint import OutputFolderError, atomic_write_json, create_output_dir
from agents.compare.plan import Job


class RunError(ValueError):
    """A run folder that cannot be used (unwritable, not a run, in use by another runner)."""


def create_run_dir(path: Path) -> Path:
    """`path`, or `path-1`, `path-2`, ... if it already holds files; created and checked writable."""
    try:
        return create_output_dir(path)
    except OutputFolderError as error:
        raise RunError(str(error)) from error


def default_run_dir(name: str, root: Path = Path("results")) -> Path:
    return root / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"


def job_dir(run_dir: Path, job: Job) -> Path:
    return run_dir / "jobs" / job.name


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def set_aside(folder: Path) -> Path | None:
    """Move an unfinished job's folder (run_dir/jobs/<name>) to run_dir/failed_attempts/<name>.<n>, so that
    its re-run starts clean and nothing is lost. Returns the new place, or None if there was no folder."""
    if not folder.exists():
        return None
    attempts = folder.parent.parent / "failed_attempts"
    attempts.mkdir(exist_ok=True)
    n = 1
    while (attempts / f"{folder.name}.{n}").exists():
        n += 1
    shutil.move(str(folder), str(attempts / f"{folder.name}.{n}"))
    return attempts / f"{folder.name}.{n}"


STAGING_SUFFIX = ".incoming"


def install_job_files(folder: Path, files: dict[str, bytes]) -> bool:
    """Write a job's folder from its files (relative path -> content), all or nothing: into a hidden
    staging folder beside it (`.<name>.<random>.incoming`), then one rename. A runner killed halfway
    leaves only the staging folder, which `remove_staging` deletes, never a half-written job folder.

    Idempotent, keyed by the job's name: if `folder` already holds a finished job (status `done`), the
    files are dropped and False returned (a result delivered twice is recorded once). An unfinished
    folder in the way is set aside first (`set_aside`). Returns True when the files were installed."""
    for name in files:
        relative = Path(name)
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise ValueError(f"job file {name!r} of {folder.name}: not a relative path inside the job's folder")
    if _status_of(folder) == "done":
        return False
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=STAGING_SUFFIX, dir=folder.parent))
    try:
        for name, content in files.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as f:
                f.write(content)
                f.flush()
                os.fsync(f.fileno())
        set_aside(folder)
        os.rename(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already after a successful rename
    return True


def remove_staging(run_dir: Path) -> list[Path]:
    """Delete the staging folders a killed runner left in run_dir/jobs; returns them."""
    leftovers = sorted((run_dir / "jobs").glob(f".*{STAGING_SUFFIX}"))
    for path in leftovers:
        shutil.rmtree(path, ignore_errors=True)
    return leftovers


def _status_of(folder: Path) -> str | None:
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        return json.loads((folder / "status.json").read_text())["status"]
    return None


@contextlib.contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    lock = run_dir / ".lock"
    owner: Any = None
    with contextlib.suppress(OSError, ValueError):  # no lock, or an unreadable one: a runner that died writing it
        owner = json.loads(lock.read_text())
    if (
        isinstance(owner, dict)
        and owner.get("host") == socket.gethostname()
        and isinstance(owner.get("pid"), int)
        and owner["pid"] != os.getpid()
        and pid_alive(owner["pid"])
    ):  # checked outside the suppress above: RunError is a ValueError
        raise RunError(f"{run_dir} is in use by another runner (pid {owner['pid']}); wait for it or stop it first")
    atomic_write_json(lock, {"pid": os.getpid(), "host": socket.gethostname()})
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)


# the fields of each entry of run.json's "envs" (written by `runner._env_json`) and their types
ENV_ENTRY_TYPES = {
    "label": str,
    "id": str,
    "env_kwargs": dict,
    "steps": int,
    "eval_every": int,
    "eval_episodes": int,
    "algos": list,
}


def _check_env_entries(envs: Any) -> None:
    """A ValueError unless `envs` is a list of entries with every field of ENV_ENTRY_TYPES (an edited run.json)."""
    if not isinstance(envs, list):
        raise ValueError(f"'envs' must be a list of env entries, got {envs!r:.80}")
    for entry in envs:
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(key), kind) for key, kind in ENV_ENTRY_TYPES.items()
        ):
            fields = ", ".join(f"{key} ({kind.__name__})" for key, kind in ENV_ENTRY_TYPES.items())
            raise ValueError(f"an entry of 'envs' must have {fields}, got {entry!r:.120}")


def load_run(run_dir: Path) -> tuple[dict[str, Any], list[Job]]:
    """run.json and its jobs; RunError if `run_dir` is not a run folder."""
    try:
        run = json.loads((run_dir / "run.json").read_text())
        _check_env_entries(run["envs"])
        return run, [Job.from_json(job) for job in run["jobs"]]
    except (FileNotFoundError, NotADirectoryError):
        raise RunError(f"{run_dir} is not a comparison run folder (no run.json)") from None
    except (ValueError, KeyError, TypeError, OSError) as error:
        raise RunError(f"{run_dir}/run.json is unreadable: {error}") from error
