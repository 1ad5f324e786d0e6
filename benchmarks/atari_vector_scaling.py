"""Where our 8-env Atari vector env loses against two independent processes (benchmarks/RESULTS.md).

    python benchmarks/atari_vector_scaling.py            # 1,500 vector steps a figure, 2 rounds

Pong, random actions. Prints, per round: 4 single envs stepped in turn in one process; two such processes at
once with no communication (the most two cores give); `make_atari_env(..., num_envs=8)` (this process and one
worker, 4 envs each, in lock step); the same with two workers and this process only coordinating.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import time

import numpy as np

GAME = "PongNoFrameskip-v4"


def four_envs_in_turn(steps: int, queue=None) -> float:
    from agents.wrappers.atari import make_atari_env

    envs = [make_atari_env(GAME) for _ in range(4)]
    for i, env in enumerate(envs):
        env.reset(seed=i)
    actions = np.random.default_rng(0).integers(0, 6, (steps, len(envs)))
    done = [False] * len(envs)
    start = time.perf_counter()
    for step in range(steps):
        for j, env in enumerate(envs):
            if done[j]:
                env.reset()
                done[j] = False
            else:
                _, _, terminated, truncated, _ = env.step(actions[step, j])
                done[j] = terminated or truncated
    rate = steps * len(envs) / (time.perf_counter() - start)
    if queue is not None:
        queue.put(rate)
    return rate


def vector_env(steps: int, num_workers: int | None = None) -> float:
    from agents.wrappers.atari import make_atari_env

    envs = make_atari_env(GAME, num_envs=8, num_workers=num_workers)
    envs.reset(seed=0)
    actions = np.random.default_rng(0).integers(0, 6, (steps, 8))
    start = time.perf_counter()
    for batch in actions:
        envs.step(batch)
    rate = steps * 8 / (time.perf_counter() - start)
    envs.close()
    return rate


def main() -> None:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 1500
    print("uptime:", os.popen("uptime").read().strip())
    context = mp.get_context("fork")
    for round_ in range(2):
        one = four_envs_in_turn(steps)
        queue = context.Queue()
        processes = [context.Process(target=four_envs_in_turn, args=(steps, queue)) for _ in range(2)]
        for process in processes:
            process.start()
        for process in processes:
            process.join()
        two = queue.get() + queue.get()
        vector, vector_two_workers = vector_env(steps), vector_env(steps, num_workers=2)
        print(
            f"round {round_}: one process, 4 envs {one:,.0f} steps/s; two independent processes {two:,.0f} "
            f"({two / one:.2f}x); vector env of 8 (1 worker) {vector:,.0f} ({vector / one:.2f}x); "
            f"(2 workers) {vector_two_workers:,.0f}",
            flush=True,
        )
    print("uptime:", os.popen("uptime").read().strip())


if __name__ == "__main__":
    main()
