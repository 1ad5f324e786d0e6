"""The comparison runner on a multi-node Ray cluster (real Ray, nodes started on this machine with
`ray.cluster_utils.Cluster`), and the fault handling it relies on: a worker node killed mid-run, the
head killed then `--resume` on a fresh cluster, results reaching the run folder only through the driver.

Cluster tests take a file lock so that two of them in parallel pytest-xdist workers never share the
machine's CPUs (each node has one); the nodes pick free ports themselves, and the runner always
passes an explicit address, so clusters of different tests never meet.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.compare.backends import SCRATCH_FOLDER, RayBackend, read_files, run_job_for_ray
from agents.compare.job import check_plan
from agents.compare.plan import build_plan
from agents.compare.rundir import RunError, install_job_files, job_dir, remove_staging
from agents.compare.runner import _wait_for_orphans, execute, start_run

# tabular, random and our DQN: deterministic on CPU with fixed seeds, so a disturbed run must equal an undisturbed one
PLAN = {
    "name": "cluster",
    "seeds": 2,
    "eval_episodes": 2,
    "envs": {"mdp-v0": {"steps": 1500, "eval_every": 500, "algos": ["tabular-q", "random", "dqn"]}},
}
# one CPU per node, and no optional helper process (they compete with the raylet's agents at start-up)
NODE = {"num_cpus": 1, "object_store_memory": 100 * 2**20, "include_dashboard": False, "include_log_monitor": False}
HEAD = {**NODE, "no_monitor": True}
# a dead node is noticed within about 2 s (Ray's default is 5 checks 3 s apart)
FAST_HEALTH_CHECKS = {
    "health_check_period_ms": 500,
    "health_check_timeout_ms": 500,
    "health_check_failure_threshold": 4,
}
DETERMINISTIC_SEED_COLUMNS = (
    "env",
    "algo",
    "seed",
    "status",
    "final_return_mean",
    "final_return_std",
    "final_exact_return",
)
DETERMINISTIC_SUMMARY_COLUMNS = (
    "env",
    "algo",
    "seeds",
    "seeds_done",
    "final_return_mean",
    "ci95_low",
    "ci95_high",
    "iqm",
    "exact_return_mean",
    "optimum",
    "gap_to_optimum",
)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def tiny_jobs(plan: dict = PLAN) -> tuple[Any, list]:
    built = build_plan(plan)
    return built, check_plan(built)


# ----------------------------------------------------------------------------- without a cluster
def test_install_job_files_is_all_or_nothing_and_idempotent(tmp_path) -> None:
    folder = tmp_path / "run" / "jobs" / "mdp-v0__random__s0"
    done = {"status.json": b'{"status": "done"}', "tensorboard/eval/events": b"\x00\x01"}
    # a file that cannot be written (its parent is a file): nothing of the job appears, no staging is left
    with pytest.raises(OSError):
        install_job_files(folder, {"metrics.csv": b"x", "metrics.csv/oops": b"y"})
    assert not folder.exists() and not list(folder.parent.iterdir())
    with pytest.raises(ValueError, match=r"'\.\./escape'"):
        install_job_files(folder, {"../escape": b"x"})
    assert install_job_files(folder, done)
    assert read_files(folder) == done
    # a second delivery of a finished job is dropped: the first copy stands
    assert not install_job_files(folder, {"status.json": b'{"status": "done", "second": 1}'})
    assert read_files(folder) == done
    # an unfinished folder in the way is set aside, not overwritten or merged
    other = tmp_path / "run" / "jobs" / "mdp-v0__random__s1"
    install_job_files(other, {"status.json": b'{"status": "interrupted"}', "log.txt": b"partial"})
    assert install_job_files(other, done)
    assert read_files(other) == done
    assert read_files(tmp_path / "run" / "failed_attempts" / "mdp-v0__random__s1.1")["log.txt"] == b"partial"
    # a runner killed halfway leaves only a hidden staging folder, which the next runner removes
    leftover = folder.parent / ".mdp-v0__random__s2.abc.incoming"
    leftover.mkdir()
    assert remove_staging(tmp_path / "run") == [leftover] and not leftover.exists()


def test_a_ray_job_writes_only_its_node_local_folder(tmp_path) -> None:
    """The task body, called here without Ray: it never sees the run folder, returns every file of the
    job, and deletes its scratch folder; installing the returned files gives the complete job folder."""
    _, jobs = tiny_jobs({**PLAN, "seeds": 1, "envs": {"mdp-v0": {**PLAN["envs"]["mdp-v0"], "algos": ["tabular-q"]}}})
    scratch = tmp_path / "node-local"
    result = run_job_for_ray(jobs[0].to_json(), 1, str(scratch))
    assert result["status"]["status"] == "done"
    assert list((scratch / SCRATCH_FOLDER).iterdir()) == []
    names = set(result["files"])
    assert {"config.json", "metrics.csv", "episodes.csv", "status.json", "log.txt", "agent.npz", "worker.json"} <= names
    assert any(name.startswith("tensorboard/eval/") for name in names)
    folder = tmp_path / "run" / "jobs" / jobs[0].name
    install_job_files(folder, result["files"])
    assert read_files(folder) == result["files"]
    assert json.loads((folder / "status.json").read_text()) == result["status"]


def test_resume_waits_for_a_live_orphan_and_not_for_a_dead_one(tmp_path) -> None:
    """A killed runner's job that still runs on this host blocks a resume; one whose process is gone does not."""
    plan, jobs = tiny_jobs({**PLAN, "seeds": 1, "envs": {"mdp-v0": {**PLAN["envs"]["mdp-v0"], "algos": ["random"]}}})
    run_dir = start_run(plan, jobs, tmp_path / "run")
    orphan = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        status = {"status": "running", "pid": orphan.pid, "host": __import__("socket").gethostname()}
        job_dir(run_dir, jobs[0]).mkdir(parents=True)
        (job_dir(run_dir, jobs[0]) / "status.json").write_text(json.dumps(status))
        with pytest.raises(RunError, match=f"still running \\(pid {orphan.pid}\\)"):
            _wait_for_orphans(run_dir, jobs, timeout=0.5)
    finally:
        orphan.kill()
        orphan.wait()
    _wait_for_orphans(run_dir, jobs, timeout=0.5)  # returns at once


# ----------------------------------------------------------------------------- on a local cluster
@pytest.fixture
def one_cluster_at_a_time() -> Iterator[None]:
    with open(Path(tempfile.gettempdir()) / "rlsuite-ray-cluster-tests.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def add_node(cluster: Any, tries: int = 3, **node_args: Any) -> Any:
    """`cluster.add_node`, tried again if the node missed one of Ray's startup deadlines (a raylet gives
    its agents 15 s to report their ports, which a heavily loaded 2-core machine can miss)."""
    for attempt in range(tries):
        try:
            return cluster.add_node(**node_args)
        except Exception as error:
            if attempt == tries - 1 or "timed out during startup" not in str(error):
                raise


@contextlib.contextmanager
def local_cluster(workers: int, head_cpus: int) -> Iterator[Any]:
    """A head node with `head_cpus` CPUs and `workers` one-CPU worker nodes; all of it removed afterwards.
    Workers are started on demand (not pre-started), so that nodes start quickly on a busy machine."""
    import ray
    from ray.cluster_utils import Cluster

    cluster = Cluster()
    try:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("RAY_enable_worker_prestart", "0")
            add_node(cluster, **{**HEAD, "num_cpus": head_cpus}, _system_config=FAST_HEALTH_CHECKS)
            for _ in range(workers):
                add_node(cluster, **NODE)
        cluster.wait_for_nodes()
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()


def wait_for(condition, what: str, timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return found


def attempts(scratch: Path, name: str) -> list[Path]:
    """The scratch folders of a job's attempts still on disk (those whose worker died)."""
    return sorted((scratch / SCRATCH_FOLDER).glob(f"{name}.*"))


def training(scratch: Path, name: str) -> dict | None:
    """worker.json of an attempt of `name` that has started training (its first evaluation is written)."""
    for folder in attempts(scratch, name):
        if (read_json(folder / "status.json") or {}).get("status") == "running" and (folder / "metrics.csv").exists():
            return read_json(folder / "worker.json")
    return None


def run_files(run_dir: Path) -> dict[str, list[str]]:
    """Each job's files; TensorBoard event files by folder (their names hold the host, time and pid)."""

    def kind(name: str) -> str:
        return name.rpartition("/")[0] + "/events" if name.startswith("tensorboard/") else name

    return {folder.name: sorted(map(kind, read_files(folder))) for folder in (run_dir / "jobs").iterdir()}


@pytest.mark.slow
def test_worker_node_killed_mid_run_finishes_every_job_once(tmp_path, one_cluster_at_a_time) -> None:
    plan, jobs = tiny_jobs()
    target = "mdp-v0__dqn__s0"
    with local_cluster(workers=2, head_cpus=0) as cluster:  # jobs run on the two worker nodes only
        calm_scratch, scratch = tmp_path / "calm-nodes", tmp_path / "nodes"
        calm = start_run(plan, jobs, tmp_path / "calm")
        assert execute(calm, jobs, RayBackend(2, cluster.address, scratch=str(calm_scratch)), progress=False) == 0

        killed: list[str] = []

        def kill_the_node_training_the_target() -> None:
            # generous: on a loaded machine Ray can take minutes to place the job
            worker = wait_for(lambda: training(scratch, target), f"{target} to train", 600.0)
            node = next(node for node in cluster.worker_nodes if node.node_id == worker["node_id"])
            # a dead machine takes its processes at once: Ray's worker would otherwise notice its raylet's
            # death only later, and could finish the job (and clear its folder) in between (seen in CI)
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker["pid"], signal.SIGKILL)
            cluster.remove_node(node, allow_graceful=False)
            killed.append(worker["node_id"])

        killer = threading.Thread(target=kill_the_node_training_the_target, daemon=True)
        killer.start()
        disturbed = start_run(plan, jobs, tmp_path / "disturbed")
        code = execute(disturbed, jobs, RayBackend(2, cluster.address, scratch=str(scratch)), progress=False)
        killer.join(timeout=30)
        assert killed, "the node was not killed"
        assert code == 0
        assert len(cluster.worker_nodes) == 1

    # the target's first attempt died with its node, mid-training; the retry ran elsewhere, from scratch
    dead = attempts(scratch, target)
    assert len(dead) == 1 and read_json(dead[0] / "worker.json")["node_id"] == killed[0]
    assert read_json(dead[0] / "status.json")["status"] == "running"
    assert read_json(disturbed / "jobs" / target / "worker.json")["node_id"] != killed[0]
    # every job exactly once: one complete folder each, nothing set aside or half-copied
    assert sorted(p.name for p in (disturbed / "jobs").iterdir()) == sorted(job.name for job in jobs)
    assert not (disturbed / "failed_attempts").exists()
    assert run_files(disturbed) == run_files(calm)  # the same files for every job (all sent by the workers)
    for job in jobs:
        metrics = read_csv(job_dir(disturbed, job) / "metrics.csv")
        assert [int(r["step"]) for r in metrics] == [0, 500, 1000, 1500]
        calm_metrics = read_csv(job_dir(calm, job) / "metrics.csv")
        assert [r["return_mean"] for r in metrics] == [r["return_mean"] for r in calm_metrics]
    seeds = read_csv(disturbed / "seeds.csv")
    assert len(seeds) == len(jobs)
    assert [{c: r[c] for c in DETERMINISTIC_SEED_COLUMNS} for r in seeds] == [
        {c: r[c] for c in DETERMINISTIC_SEED_COLUMNS} for r in read_csv(calm / "seeds.csv")
    ]
    assert [{c: r[c] for c in DETERMINISTIC_SUMMARY_COLUMNS} for r in read_csv(disturbed / "summary.csv")] == [
        {c: r[c] for c in DETERMINISTIC_SUMMARY_COLUMNS} for r in read_csv(calm / "summary.csv")
    ]


@pytest.mark.slow
def test_head_killed_then_resume_on_a_fresh_cluster(tmp_path, one_cluster_at_a_time) -> None:
    from agents.cli import main

    run_dir = tmp_path / "run"
    args = [
        "--envs",
        "mdp-v0",
        "--algos",
        "tabular-q",
        "random",
        "--seeds",
        "3",
        "--steps",
        "4000",
        "--eval-every",
        "2000",
        "--eval-episodes",
        "2",
        "--no-progress",
        "--backend",
        "ray",
    ]
    with local_cluster(workers=1, head_cpus=1) as cluster:
        runner = subprocess.Popen(
            [sys.executable, "-m", "agents", "compare", *args, "--address", cluster.address, "--out", str(run_dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:

            def two_done() -> bool:
                assert runner.poll() is None, f"the runner ended before it could be killed: {runner.stderr.read()}"
                return len(list(run_dir.glob("jobs/[!.]*/status.json"))) >= 2

            wait_for(two_done, "two jobs to finish")
            # the head machine dies: the runner on it and the head node's Ray processes
            runner.send_signal(signal.SIGKILL)
            cluster.remove_node(cluster.head_node, allow_graceful=False)
        finally:
            runner.kill()
            runner.wait()
    finished = {p.parent.name: p.read_text() for p in run_dir.glob("jobs/[!.]*/status.json")}
    assert 2 <= len(finished) < 6, "every job finished before the head was killed"
    assert all(json.loads(text)["status"] == "done" for text in finished.values())

    with local_cluster(workers=1, head_cpus=1) as fresh:
        resume = ["compare", "--resume", str(run_dir), "--no-progress", "--backend", "ray", "--address", fresh.address]
        assert main(resume) == 0
    statuses = {p.parent.name: json.loads(p.read_text()) for p in run_dir.glob("jobs/[!.]*/status.json")}
    assert len(statuses) == 6 and all(s["status"] == "done" for s in statuses.values())
    for name, text in finished.items():  # finished jobs were not run again
        assert (run_dir / "jobs" / name / "status.json").read_text() == text
    assert sorted(p.name for p in (run_dir / "jobs").iterdir()) == sorted(statuses)  # no staging folder, no duplicate
    assert not (run_dir / "failed_attempts").exists() and not (run_dir / ".lock").exists()
    assert len(read_csv(run_dir / "seeds.csv")) == 6 and (run_dir / "report.md").exists()
