"""Where jobs run: local processes (default) or a Ray cluster.

Both take a list of (job, job folder) pairs and call `on_done(job, status)` as each job ends, in
completion order, and `on_tick()` every couple of seconds (the runner refreshes its progress bar).
A job writes its own files (`job.run_job`): in its job folder (local), or in a scratch folder on its
worker node whose files the driver then installs as the job folder (Ray). If the job could not
record its end (its process died, Ray gave up on it), the backend records it as failed. On
KeyboardInterrupt (Ctrl-C, or SIGTERM turned into one by the runner) a backend stops every running
job (local: recorded as interrupted; Ray: left without a folder) and re-raises.

- `LocalBackend`: one fresh process per job, at most `workers` at a time, each torch-limited to
  `threads` threads. Processes come from a fork server that has imported torch and SB3 once, so a
  job starts in milliseconds rather than re-importing them (spawn where fork servers do not exist).
  A job process exits on its own when the runner dies, however it dies (it watches a pipe that only
  the runner writes to), so a killed runner leaves no job running that could race a `--resume`.
- `RayBackend`: one Ray task per job (`num_cpus=threads`). `address=None` starts a local Ray
  instance with `workers` CPUs (never joins a cluster that happens to run on this machine); otherwise
  it connects to the cluster at `address` ("auto", "host:port" or "ray://host:port").

How results travel on Ray (no shared disk assumed): the task runs the job in a fresh folder on its
worker node's own disk (`<scratch or the node's temp dir>/rlsuite-compare/<job>.<random>/`), returns
every file of it through Ray's object store, and deletes the folder. Only the driver (the runner)
writes the run folder: `rundir.install_job_files` puts the job's files into a staging folder beside
`jobs/<name>` and renames it into place, so a job folder is complete or absent, never half-written.

Faults on Ray: a task whose worker process or node dies is retried by Ray (`RAY_TASK_RETRIES` times,
on any node with a free CPU) from scratch, in a new scratch folder; the dead attempt's folder is left
on its node, and the driver sees one result per job, installed once (a second delivery of a finished
job is dropped). A job that still fails is recorded as failed in its folder. If the driver dies (the
head node, or Ctrl-C), Ray stops its tasks; jobs without a folder in the run are not done, and
`--resume` against any cluster (a fresh one) runs exactly those.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from agents.common.checkpoint import atomic_write_json
from agents.compare.job import run_job, write_status
from agents.compare.plan import Job
from agents.compare.rundir import install_job_files

OnDone = Callable[[Job, dict[str, Any]], None]
OnTick = Callable[[], None]
TICK_SECONDS = 2.0
Task = tuple[Job, Path]
RAY_TASK_RETRIES = 3  # retries of a job whose worker process or node died (not of a job that failed)
SCRATCH_FOLDER = "rlsuite-compare"
# torch._dynamo: torch imports it lazily when the first optimizer is built (about 2 s)
FORKSERVER_PRELOAD = [
    "agents.compare.job",
    "torch",
    "torch._dynamo",
    "torch.utils.tensorboard",
    "stable_baselines3",
    "sb3_contrib",
]


def read_status(job_dir: Path) -> dict[str, Any] | None:
    """The job's status record, or None if it has none (never started) or it is unreadable."""
    try:
        return json.loads((job_dir / "status.json").read_text())
    except (OSError, ValueError):
        return None


def _mark_interrupted(tasks: list[Task]) -> None:
    for job, job_dir in tasks:
        status = read_status(job_dir)
        if status is None or status["status"] == "running":
            write_status(job_dir, "interrupted", name=job.name)


# ----------------------------------------------------------------------------- local processes
def _exit_when_runner_dies(lifeline: Any) -> None:
    """Block on the read end of a pipe whose only write end the runner holds: when the runner dies,
    however it dies, the read returns EOF and this job process exits too."""
    with contextlib.suppress(EOFError, OSError):
        lifeline.recv()
    os._exit(3)


class _Stop:
    """Set when the runner's SIGTERM reached this job process."""

    requested = False


def _interrupt(signum: int, frame: Any) -> None:
    _Stop.requested = True
    raise KeyboardInterrupt


def _job_process(job_data: dict[str, Any], job_dir: str, threads: int, lifeline: Any) -> None:
    """Entry point of a job process. SIGTERM (the runner stopping it) ends the job cleanly, recorded
    as interrupted."""
    threading.Thread(target=_exit_when_runner_dies, args=(lifeline,), daemon=True).start()
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        status = run_job(job_data, job_dir, threads=threads, redirect=True)
    except KeyboardInterrupt:
        sys.exit(130)
    if _Stop.requested and status["status"] == "failed":
        # the SIGTERM surfaced inside a library as another exception: still the runner's interruption
        # (error.txt keeps the traceback), so --resume re-runs the job
        write_status(Path(job_dir), "interrupted", name=Job.from_json(job_data).name)
        sys.exit(130)


class LocalBackend:
    def __init__(self, workers: int, threads: int = 1) -> None:
        self.workers, self.threads = workers, threads

    def _context(self) -> Any:
        if "forkserver" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(FORKSERVER_PRELOAD)
            return context
        return multiprocessing.get_context("spawn")

    def run(self, tasks: list[Task], on_done: OnDone, on_tick: OnTick = lambda: None) -> None:
        context = self._context()
        pending = list(tasks)
        running: dict[int, tuple[Any, Job, Path, Any]] = {}
        try:
            while pending or running:
                while pending and len(running) < self.workers:
                    job, job_dir = pending.pop(0)
                    lifeline, keep_alive = context.Pipe(duplex=False)
                    process = context.Process(
                        target=_job_process,
                        args=(job.to_json(), str(job_dir), self.threads, lifeline),
                        name=job.name,
                        daemon=True,
                    )
                    process.start()
                    lifeline.close()  # the job holds the read end, this process the only write end
                    running[process.sentinel] = (process, job, job_dir, keep_alive)
                on_tick()
                for sentinel in multiprocessing.connection.wait(list(running), timeout=TICK_SECONDS):
                    process, job, job_dir, keep_alive = running.pop(cast(int, sentinel))  # wait() returns our keys
                    process.join()
                    keep_alive.close()
                    status = read_status(job_dir)
                    if status is None or status["status"] not in ("done", "failed"):
                        status = write_status(
                            job_dir,
                            "failed",
                            name=job.name,
                            error=f"the job process exited with code {process.exitcode} before finishing",
                        )
                    on_done(job, status)
        except BaseException:
            for process, _, _, _ in running.values():
                process.terminate()
            for process, _, _, keep_alive in running.values():
                process.join(10)
                if process.is_alive():
                    process.kill()
                    process.join()
                keep_alive.close()
            _mark_interrupted([(job, job_dir) for _, job, job_dir, _ in running.values()])
            raise


# ----------------------------------------------------------------------------- Ray
def read_files(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, by its path relative to it ("tensorboard/eval/events...")."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()
    }


def run_job_for_ray(job_data: dict[str, Any], threads: int, scratch: str | None = None) -> dict[str, Any]:
    """A Ray task: run the job in a fresh folder on this node's own disk, return its status and files.

    The folder, `<scratch or the temp dir>/rlsuite-compare/<job>.<random>/`, also gets `worker.json`
    (node, host, pid: where this attempt ran); it is deleted once its files are read, so only the
    attempts that died with their worker are left behind."""
    import ray

    job = Job.from_json(job_data)
    root = Path(scratch or tempfile.gettempdir()) / SCRATCH_FOLDER
    root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{job.name}.", dir=root))
    node_id = ray.get_runtime_context().get_node_id() if ray.is_initialized() else None
    atomic_write_json(
        folder / "worker.json",
        {"node_id": node_id, "host": socket.gethostname(), "pid": os.getpid(), "started": time.time()},
    )
    try:
        status = run_job(job_data, folder, threads=threads, redirect=True)
        return {"status": status, "files": read_files(folder)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class RayBackend:
    def __init__(self, workers: int, address: str | None = None, threads: int = 1, scratch: str | None = None) -> None:
        """`scratch`: the folder on each node where jobs run (default: the node's temp dir)."""
        self.workers, self.address, self.threads, self.scratch = workers, address, threads, scratch

    def run(self, tasks: list[Task], on_done: OnDone, on_tick: OnTick = lambda: None) -> None:
        import ray

        started_here = not ray.is_initialized()
        if started_here:
            if self.address is None:  # "local": a new instance even if `ray start` runs on this machine
                ray.init(
                    address="local",
                    num_cpus=self.workers * self.threads,
                    include_dashboard=False,
                    log_to_driver=False,
                    logging_level=logging.ERROR,
                    configure_logging=False,
                )
            else:
                ray.init(
                    address=self.address, log_to_driver=False, logging_level=logging.ERROR, configure_logging=False
                )
        remote = ray.remote(num_cpus=self.threads, max_retries=RAY_TASK_RETRIES, retry_exceptions=False)
        remote = remote(run_job_for_ray)
        refs = {remote.remote(job.to_json(), self.threads, self.scratch): (job, job_dir) for job, job_dir in tasks}
        try:
            while refs:
                on_tick()
                done, _ = ray.wait(list(refs), num_returns=1, timeout=TICK_SECONDS)
                for ref in done:
                    job, job_dir = refs.pop(ref)
                    on_done(job, self._collect(ray, ref, job, job_dir))
        except BaseException:
            for ref in refs:  # the unfinished jobs have no folder in the run: --resume runs them
                ray.cancel(ref, force=True)
            raise
        finally:
            if started_here:
                ray.shutdown()

    @staticmethod
    def _collect(ray: Any, ref: Any, job: Job, job_dir: Path) -> dict[str, Any]:
        """Write the job's folder from the task's result (the driver is the only writer of the run folder)."""
        try:
            result = ray.get(ref)
        except ray.exceptions.RayError as error:
            status = {
                "status": "failed",
                "name": job.name,
                "time": time.time(),
                "error": f"Ray task failed (retried up to {RAY_TASK_RETRIES} times if its worker died): "
                f"{type(error).__name__}: {error}",
            }
            install_job_files(
                job_dir, {"status.json": json.dumps(status, indent=2).encode(), "error.txt": str(error).encode()}
            )
            return status
        if not install_job_files(job_dir, result["files"]):  # delivered twice: the first copy stands
            return read_status(job_dir) or result["status"]
        return result["status"]
