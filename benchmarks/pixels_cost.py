"""CPU cost of the pixel comparison's learners, to size `--preset pixels` (benchmarks/RESULTS.md).

    python benchmarks/pixels_cost.py                 # 4,000 steps of dqn, sb3-dqn, sb3-ppo on both pixel envs
    python benchmarks/pixels_cost.py --steps 2000 --algos dqn sb3-dqn
    python benchmarks/pixels_cost.py --envs snake-rgb --algos dqn sb3-dqn --rounds 4   # interleaved, medians
    python benchmarks/pixels_cost.py --envs snake-rgb --algos dqn sb3-dqn --rounds 4 --from-step 52000

For each (env label, algorithm) of the preset it trains with the preset's settings (hyperparams files)
for `--steps` env steps on one torch thread and prints the process CPU time per 1,000 steps after
`learning_starts` (the steady state: learning at every train_freq) and the ratio to our DQN, then the
estimated CPU time of the whole preset. CPU time, not wall time: the figure does not depend on how
busy the machine is (the wall time on a quiet core is about the same).

By default each round trains a fresh agent and measures the steps right after `learning_starts`, while
epsilon is still near 1: the greedy network then runs on few steps, so acting costs are under-weighted.
`--from-step N` builds each agent once, trains it N steps unmeasured (past the exploration schedule: 50k
steps in the pixel preset), then measures `--steps` more steps per round, each `train` call continuing the
last (the steady state of most of a job).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from agents.base import make_agent
from agents.compare.job import make_training_env
from agents.compare.plan import build_plan, load_plan_file, preset_path


def new_agent(job):
    """(agent, env) of `job` with the preset's settings, seed 0."""
    env = make_training_env(job, int(job.hyperparameters.get("n_envs", 1)))
    return make_agent(job.algo, env, job.hyperparameters, seed=0), env


def cpu_per_1k_steps(job, steps: int) -> float:
    settings = job.hyperparameters
    n_envs = int(settings.get("n_envs", 1))
    agent, env = new_agent(job)
    warmup = int(settings.get("learning_starts", 0)) + (1024 if n_envs > 1 else 0)
    marks = {}

    def callback(_agent, step):
        if step >= warmup and "start" not in marks:
            marks["start"], marks["step"] = time.process_time(), step

    agent.train(env, warmup + steps, callback=callback, progress=False)
    return 1000 * (time.process_time() - marks["start"]) / (warmup + steps - marks["step"])


def trained_agent(job, steps: int):
    """(agent, env) of `job`, trained `steps` env steps (unmeasured)."""
    agent, env = new_agent(job)
    agent.train(env, steps, progress=False)
    return agent, env


def cpu_per_1k_more_steps(agent, env, steps: int) -> float:
    """CPU seconds per 1,000 env steps of `steps` more training (train() continues where it stopped)."""
    start = time.process_time()
    agent.train(env, steps, progress=False)
    return 1000 * (time.process_time() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--algos", nargs="+", default=["dqn", "sb3-dqn", "sb3-ppo", "planner", "random"])
    parser.add_argument("--envs", nargs="+", default=None, help="env labels of the preset (default: all)")
    parser.add_argument(
        "--rounds", type=int, default=1, help="measure every algorithm this many times, in turn; report medians"
    )
    parser.add_argument(
        "--from-step",
        type=int,
        default=None,
        help="train each agent this many steps first, unmeasured, then measure continued training (see above)",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    plan = build_plan(load_plan_file(preset_path("pixels")))
    total = 0.0
    for spec in plan.envs:
        if args.envs is not None and spec.label not in args.envs:
            continue
        jobs = [job for job in plan.jobs() if job.env_label == spec.label and job.seed == 0 and job.algo in args.algos]
        costs: dict[str, list[float]] = {job.algo: [] for job in jobs}
        trained = {job.algo: trained_agent(job, args.from_step) for job in jobs} if args.from_step else {}
        for round_number in range(1, args.rounds + 1):  # in turn, so a drift of the machine's speed hits all alike
            for job in jobs:
                if args.from_step:
                    costs[job.algo].append(cpu_per_1k_more_steps(*trained[job.algo], args.steps))
                else:
                    costs[job.algo].append(cpu_per_1k_steps(job, args.steps))
            if args.rounds > 1:
                measured = ", ".join(f"{algo} {values[-1]:.2f}" for algo, values in costs.items())
                print(f"{spec.label} round {round_number}: {measured} CPU-s per 1k steps", flush=True)
        for algo, values in costs.items():
            cost = statistics.median(values)
            ratio = ""
            if "dqn" in costs and algo != "dqn":
                per_round = ", ".join(f"{a / b:.2f}" for a, b in zip(costs["dqn"], values))
                ratio = f"; dqn / {algo} {statistics.median(costs['dqn']) / cost:.2f} (rounds: {per_round})"
            job_cpu = cost * spec.steps / 1000
            total += job_cpu * len(plan.seeds)
            print(
                f"{spec.label} {algo}: {cost:.2f} CPU-s per 1k steps{ratio}; "
                f"a {spec.steps:,}-step job about {job_cpu:,.0f} CPU-s",
                flush=True,
            )
    print(
        f"estimated preset (training only, {len(plan.seeds)} seeds, the envs measured): {total:,.0f} CPU-s = "
        f"{total / 3600 / 2:.1f} h on 2 cores"
    )


if __name__ == "__main__":
    main()
