"""Where jobs run: local processes (default) or a Ray cluster.

Both take a list of (job, job folder) pairs and call `on_done(job, status)` as each job ends, in
completion order, and `on_tick()` every couple of seconds (the runner refreshes its progress bar). A job writes its own files (`job.run_job`); a backend only starts it, watches it
and, if the job could not record its end (its process died, Ray lost it), records it as failed.
On KeyboardInterrupt (Ctrl-C, or SIGTERM turned into one by the runner) a backend stops every
running job, records it as interrupted and re-raises.

- `LocalBackend`: one fresh process per job, at most `workers` at a time, each torch-limited to
  `threads` threads. Processes come from a fork server that has imported torch and SB3 once, so a
  job starts in milliseconds rather than re-importing them (spawn where fork servers do not exist).
  A job process exits on its own when the runner dies, however it dies (it watches a pipe that only
  the runner writes to), so a killed runner leaves no job running that could race a `--resume`.
- `RayBackend`: one Ray task per job (`num_cpus=threads`). `address=None` starts a local Ray
  instance with `workers` CPUs; otherwise it connects to the cluster at `address` ("auto",
  "host:port" or "ray://host:port"). On a multi-node cluster the output folder should be on a shared
  filesystem; if it is not, the driver writes each job's small files (status, config, metrics,
  episodes) from the task's result, while checkpoints and TensorBoard logs stay on the worker node.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Callable

from agents.common.checkpoint import atomic_write_text
from agents.compare.job import run_job, write_status
from agents.compare.plan import Job

OnDone = Callable[[Job, dict[str, Any]], None]
OnTick = Callable[[], None]
TICK_SECONDS = 2.0
Task = tuple[Job, Path]
SMALL_FILES = ("config.json", "metrics.csv", "episodes.csv", "error.txt", "status.json")
# torch._dynamo: torch imports it lazily when the first optimizer is built (about 2 s)
FORKSERVER_PRELOAD = ["agents.compare.job", "torch", "torch._dynamo", "torch.utils.tensorboard", "stable_baselines3", "sb3_contrib"]


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


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _job_process(job_data: dict[str, Any], job_dir: str, threads: int, lifeline: Any) -> None:
    """Entry point of a job process. SIGTERM (the runner stopping it) ends the job cleanly, recorded
    as interrupted."""
    threading.Thread(target=_exit_when_runner_dies, args=(lifeline,), daemon=True).start()
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        run_job(job_data, job_dir, threads=threads, redirect=True)
    except KeyboardInterrupt:
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
                        target=_job_process, args=(job.to_json(), str(job_dir), self.threads, lifeline), name=job.name,
                        daemon=True,
                    )
                    process.start()
                    lifeline.close()  # the job holds the read end, this process the only write end
                    running[process.sentinel] = (process, job, job_dir, keep_alive)
                on_tick()
                for sentinel in multiprocessing.connection.wait(list(running), timeout=TICK_SECONDS):
                    process, job, job_dir, keep_alive = running.pop(sentinel)
                    process.join()
                    keep_alive.close()
                    status = read_status(job_dir)
                    if status is None or status["status"] not in ("done", "failed"):
                        status = write_status(job_dir, "failed", name=job.name,
                                              error=f"the job process exited with code {process.exitcode} before finishing")
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
def run_job_for_ray(job_data: dict[str, Any], job_dir: str, threads: int) -> dict[str, Any]:
    """A Ray task: run the job on the worker node, return its status and its small files."""
    status = run_job(job_data, job_dir, threads=threads, redirect=True)
    files = {}
    for name in SMALL_FILES:
        path = Path(job_dir) / name
        if path.exists():
            files[name] = path.read_text()
    return {"status": status, "files": files}


class RayBackend:
    def __init__(self, workers: int, address: str | None = None, threads: int = 1) -> None:
        self.workers, self.address, self.threads = workers, address, threads

    def run(self, tasks: list[Task], on_done: OnDone, on_tick: OnTick = lambda: None) -> None:
        import ray

        started_here = not ray.is_initialized()
        if started_here:
            if self.address is None:
                ray.init(num_cpus=self.workers * self.threads, include_dashboard=False, log_to_driver=False,
                         logging_level="ERROR", configure_logging=False)
            else:
                ray.init(address=self.address, log_to_driver=False, logging_level="ERROR", configure_logging=False)
        remote = ray.remote(num_cpus=self.threads, max_retries=0)(run_job_for_ray)
        refs = {remote.remote(job.to_json(), str(job_dir), self.threads): (job, job_dir) for job, job_dir in tasks}
        try:
            while refs:
                on_tick()
                done, _ = ray.wait(list(refs), num_returns=1, timeout=TICK_SECONDS)
                for ref in done:
                    job, job_dir = refs.pop(ref)
                    on_done(job, self._collect(ray, ref, job, job_dir))
        except BaseException:
            for ref in refs:
                ray.cancel(ref, force=True)
            _mark_interrupted(list(refs.values()))
            raise
        finally:
            if started_here:
                ray.shutdown()

    @staticmethod
    def _collect(ray: Any, ref: Any, job: Job, job_dir: Path) -> dict[str, Any]:
        try:
            result = ray.get(ref)
        except ray.exceptions.RayError as error:
            job_dir.mkdir(parents=True, exist_ok=True)
            return write_status(job_dir, "failed", name=job.name, error=f"Ray task failed: {error}")
        if read_status(job_dir) != result["status"]:  # the job ran on a node that does not share our disk
            job_dir.mkdir(parents=True, exist_ok=True)
            for name, text in result["files"].items():
                atomic_write_text(job_dir / name, text)
        return result["status"]
