"""Q-learning updates per second: our `tabular-q` agent next to a plain textbook loop, same env, same run.

    python benchmarks/tabular_bench.py              # mdp-v0 and FrozenLake-v1, 200,000 steps each
    python benchmarks/tabular_bench.py --steps 50000 --repeats 5

For each env it times, interleaved over `--repeats` rounds (best round kept, which filters out the
noise of a shared machine):
- `env only`: `env.step` with random actions and no learning (the floor: what the env itself costs);
- `reference`: the Q-learning loop as a textbook writes it (numpy table, `np.argmax`/`np.max`,
  epsilon-greedy with `rng.random()`), about 15 lines, no logging, no masks;
- `agent`: `make_agent("tabular-q", env).train(env, steps, progress=False)`, i.e. with the progress
  counter, episode log, schedules, action masks and the callback check.

It prints updates/s measured in process CPU time (steadier than wall time on a shared machine; the
loops are single-threaded, so on a quiet machine the two agree) and in wall time, with the ratios
agent/reference and agent/env-only. Only ratios from one run are comparable.
"""

from __future__ import annotations

import argparse
import platform
import time

import gymnasium as gym
import numpy as np

from agents.base import make_agent
from agents.common.envs import make_env

GAMMA, ALPHA, EPSILON = 0.95, 0.1, 0.1


def env_only(env: gym.Env, steps: int) -> None:
    rng = np.random.default_rng(0)
    n_actions = int(env.action_space.n)
    env.reset(seed=0)
    for _ in range(steps):
        _, _, terminated, truncated, _ = env.step(int(rng.integers(n_actions)))
        if terminated or truncated:
            env.reset()


def reference_q_learning(env: gym.Env, steps: int) -> np.ndarray:
    """Textbook tabular Q-learning: epsilon-greedy behaviour, max over the next state's values."""
    rng = np.random.default_rng(0)
    n_actions = int(env.action_space.n)
    q = np.zeros((int(env.observation_space.n), n_actions))
    state, _ = env.reset(seed=0)
    for _ in range(steps):
        if rng.random() < EPSILON:
            action = int(rng.integers(n_actions))
        else:
            action = int(np.argmax(q[state]))
        next_state, reward, terminated, truncated, _ = env.step(action)
        target = reward + (0.0 if terminated else GAMMA * np.max(q[next_state]))
        q[state, action] += ALPHA * (target - q[state, action])
        state = next_state
        if terminated or truncated:
            state, _ = env.reset()
    return q


def agent_q_learning(env: gym.Env, steps: int) -> None:
    config = {"gamma": GAMMA, "learning_rate": str(ALPHA), "epsilon": str(EPSILON)}
    make_agent("tabular-q", env, config, seed=0).train(env, steps, progress=False)


def rates(function, env_id: str, steps: int) -> tuple[float, float]:
    """(steps per CPU second, steps per wall second) of one run."""
    env = make_env(env_id)
    cpu, wall = time.process_time(), time.perf_counter()
    function(env, steps)
    return steps / (time.process_time() - cpu), steps / (time.perf_counter() - wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=200_000, help="env steps per timed run (default: 200,000)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds; the best is kept (default: 3)")
    parser.add_argument("--envs", nargs="+", default=["mdp-v0", "FrozenLake-v1"])
    args = parser.parse_args()
    runners = {"env only": env_only, "reference": reference_q_learning, "agent": agent_q_learning}
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, gymnasium {gym.__version__}; "
        f"{args.steps:,} steps, best of {args.repeats}"
    )
    print(
        f"{'env':15s} {'clock':5s} {'env only/s':>12s} {'reference/s':>12s} {'agent/s':>12s} "
        f"{'agent/ref':>10s} {'agent/env':>10s}"
    )
    for env_id in args.envs:
        best = {name: [0.0, 0.0] for name in runners}
        for _ in range(args.repeats):
            for name, function in runners.items():
                best[name] = [max(b, r) for b, r in zip(best[name], rates(function, env_id, args.steps))]
        for clock, i in (("cpu", 0), ("wall", 1)):
            env_only_rate, reference, agent = (best[name][i] for name in runners)
            print(
                f"{env_id:15s} {clock:5s} {env_only_rate:12,.0f} {reference:12,.0f} {agent:12,.0f} "
                f"{agent / reference:10.2f} {agent / env_only_rate:10.2f}"
            )


if __name__ == "__main__":
    main()
