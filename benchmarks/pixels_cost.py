"""CPU cost of the pixel comparison's learners, to size `--preset pixels` (benchmarks/RESULTS.md).

    python benchmarks/pixels_cost.py                 # 4,000 steps of dqn, sb3-dqn, sb3-ppo on both pixel envs
    python benchmarks/pixels_cost.py --steps 2000 --algos dqn sb3-dqn

For each (env label, algorithm) of the preset it trains with the preset's settings (hyperparams files)
for `--steps` env steps on one torch thread and prints the process CPU time per 1,000 steps after
`learning_starts` (the steady state: learning at every train_freq) and the ratio to our DQN, then the
estimated CPU time of the whole preset. CPU time, not wall time: the figure does not depend on how
busy the machine is (the wall time on a quiet core is about the same).
"""

from __future__ import annotations

import argparse
import time

import torch

from agents.base import make_agent
from agents.compare.job import make_training_env
from agents.compare.plan import build_plan, load_plan_file, preset_path


def cpu_per_1k_steps(job, steps: int) -> float:
    settings = job.hyperparameters
    n_envs = int(settings.get("n_envs", 1))
    env = make_training_env(job, n_envs)
    agent = make_agent(job.algo, env, settings, seed=0)
    warmup = int(settings.get("learning_starts", 0)) + (1024 if n_envs > 1 else 0)
    marks = {}

    def callback(_agent, step):
        if step >= warmup and "start" not in marks:
            marks["start"], marks["step"] = time.process_time(), step

    agent.train(env, warmup + steps, callback=callback, progress=False)
    return 1000 * (time.process_time() - marks["start"]) / (warmup + steps - marks["step"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--algos", nargs="+", default=["dqn", "sb3-dqn", "sb3-ppo", "planner", "random"])
    args = parser.parse_args()
    torch.set_num_threads(1)
    plan = build_plan(load_plan_file(preset_path("pixels")))
    total = 0.0
    for spec in plan.envs:
        costs = {}
        for job in plan.jobs():
            if job.env_label != spec.label or job.seed != 0 or job.algo not in args.algos:
                continue
            costs[job.algo] = cpu_per_1k_steps(job, args.steps)
            ratio = f", {costs[job.algo] / costs['dqn']:.2f}x dqn" if "dqn" in costs else ""
            job_cpu = costs[job.algo] * spec.steps / 1000
            total += job_cpu * len(plan.seeds)
            print(
                f"{spec.label} {job.algo}: {costs[job.algo]:.2f} CPU-s per 1k steps{ratio}; "
                f"a {spec.steps:,}-step job about {job_cpu:,.0f} CPU-s",
                flush=True,
            )
    print(
        f"estimated preset (training only, {len(plan.seeds)} seeds): {total:,.0f} CPU-s = "
        f"{total / 3600 / 2:.1f} h on 2 cores"
    )


if __name__ == "__main__":
    main()
