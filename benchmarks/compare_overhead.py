"""Scheduling overhead per job of the comparison runner: local processes vs a Ray cluster, same run.

    python benchmarks/compare_overhead.py                 # 20 tiny jobs, 2 job slots each way
    python benchmarks/compare_overhead.py --jobs 40 --slots 2

A tiny job (`random` on mdp-v0, `--steps` env steps, one evaluation episode at the start and the end)
spends almost all of its time outside training: starting, writing its files, being collected. The
script runs the same `--jobs` such jobs with:
- `local`: `LocalBackend(slots)`, a fresh process per job from a fork server that has imported
  torch and SB3 (started by a warm-up run before the clock starts);
- `ray`: `RayBackend` on a local multi-node cluster (`ray.cluster_utils.Cluster`: a head without
  CPUs and `slots` one-CPU worker nodes, started before the clock starts); the cluster is warmed
  with one run first, as a long-lived cluster would be (its worker processes are reused by later
  jobs, so imports a job does lazily are paid once per worker, not once per job);
and prints, for each, the wall time of the whole `execute` (report included) per job, the mean time
inside the job (`wall_seconds` of its status, which starts once the job process runs) and the
overhead per job = wall * slots / jobs - mean job time: what each job slot loses per job to
scheduling, process start and moving results. Only figures from one run are comparable.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from agents.compare.backends import LocalBackend, RayBackend
from agents.compare.job import check_plan
from agents.compare.plan import build_plan
from agents.compare.runner import execute, start_run


def timed_run(root: Path, label: str, plan, jobs, backend) -> tuple[float, float]:
    run_dir = start_run(plan, jobs, root / label)
    began = time.perf_counter()
    code = execute(run_dir, jobs, backend, progress=False)
    wall = time.perf_counter() - began
    assert code == 0, f"{label}: exit code {code}"
    inside = [json.loads(p.read_text())["wall_seconds"] for p in run_dir.glob("jobs/*/status.json")]
    assert len(inside) == len(jobs)
    return wall, statistics.mean(inside)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--slots", type=int, default=2, help="jobs at a time (local workers, Ray worker nodes)")
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    plan = build_plan(
        {
            "name": "overhead",
            "seeds": args.jobs,
            "eval_episodes": 1,
            "envs": {"mdp-v0": {"steps": args.steps, "eval_every": args.steps, "algos": ["random"]}},
        }
    )
    jobs = check_plan(plan)
    print(
        f"{platform.node()} {os.cpu_count()} cpus, load {os.getloadavg()[0]:.2f}; "
        f"{len(jobs)} jobs of {args.steps} steps, {args.slots} slots"
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        local = LocalBackend(args.slots)
        timed_run(root, "local-warmup", plan, jobs[: 2 * args.slots], local)  # starts the fork server
        results = {"local": timed_run(root, "local", plan, jobs, local)}

        import ray
        from ray.cluster_utils import Cluster

        began = time.perf_counter()
        node = {"num_cpus": 1, "object_store_memory": 100 * 2**20, "include_dashboard": False}
        cluster = Cluster(initialize_head=True, head_node_args={**node, "num_cpus": 0})
        try:
            for _ in range(args.slots):
                cluster.add_node(**node)
            cluster.wait_for_nodes()
            print(f"cluster of {args.slots + 1} nodes started in {time.perf_counter() - began:.1f} s")
            ray.init(address=cluster.address, log_to_driver=False, logging_level="ERROR", configure_logging=False)
            backend = RayBackend(args.slots, cluster.address, scratch=str(root / "nodes"))
            timed_run(root, "ray-warmup", plan, jobs[: 2 * args.slots], backend)
            results["ray"] = timed_run(root, "ray", plan, jobs, backend)
        finally:
            ray.shutdown()
            cluster.shutdown()
    print(f"load after: {os.getloadavg()[0]:.2f}")
    print(f"{'backend':8} {'wall s':>8} {'s/job':>7} {'in job s':>9} {'overhead s/job/slot':>20}")
    for label, (wall, inside) in results.items():
        per_job = wall / len(jobs)
        print(f"{label:8} {wall:8.2f} {per_job:7.3f} {inside:9.3f} {per_job * args.slots - inside:20.3f}")
    print(f"ray / local, wall per job: {results['ray'][0] / results['local'][0]:.2f}")


if __name__ == "__main__":
    main()
