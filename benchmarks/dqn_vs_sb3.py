"""Our DQN against Stable-Baselines3's DQN on CartPole-v1: same hyperparameters, steps and seeds.

    python benchmarks/dqn_vs_sb3.py                     # 5 seeds x 50,000 steps each, both agents
    python benchmarks/dqn_vs_sb3.py --seeds 0 1 --steps 20000
    python benchmarks/dqn_vs_sb3.py --no-defaults       # skip the runs of our default config

Both agents use rl-baselines3-zoo's tuned CartPole-v1 hyperparameters for DQN (hyperparams/dqn.yml in
DLR-RM/rl-baselines3-zoo): learning_rate 2.3e-3, batch_size 64, buffer_size 100000,
learning_starts 1000, gamma 0.99, target_update_interval 10, train_freq 256, gradient_steps 128,
exploration_fraction 0.16 (of 50,000 steps: 8,000), exploration_final_eps 0.04, net_arch [256, 256];
the rest are SB3's defaults, which ours match (Adam, Huber loss, max_grad_norm 10, no Double DQN).

Each training run is a fresh subprocess with torch on one thread (`torch.set_num_threads(1)`, the
fastest setting for these small networks); runs of the two agents alternate, so both see the same
machine load. Wall time counts `train`/`learn` only. The final return is the mean over 20 greedy
episodes (episode i reset with seed 10,000 + i). `--sb3-flush-denormal` also runs SB3 with denormal
floats flushed to zero, which our agent does while training (see `agents/dqn/dqn.py`), to show how much
of the gap that setting explains.

A third set of runs trains our DQN with its *default* config (what `python -m agents train dqn` does:
Double DQN, 3-step returns, 128x128, batch 256, decaying learning rate), evaluating every 2,500 steps
(evaluation time not counted), and checks the issue's CartPole targets: every seed's final mean greedy
return >= 475, and the median first step reaching 475 <= 30,000.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np

ZOO_CARTPOLE = dict(
    learning_rate=2.3e-3,
    batch_size=64,
    buffer_size=100_000,
    learning_starts=1000,
    gamma=0.99,
    target_update_interval=10,
    train_freq=256,
    gradient_steps=128,
)
EXPLORATION_FRACTION, FINAL_EPS, NET_ARCH = 0.16, 0.04, (256, 256)


def greedy_return(act, seed: int, episodes: int = 20) -> float:
    import gymnasium as gym

    env = gym.make("CartPole-v1")
    total = 0.0
    for i in range(episodes):
        obs, _ = env.reset(seed=seed + i)
        done = False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(act(obs))
            total += reward
            done = terminated or truncated
    return total / episodes


def worker(agent: str, seed: int, steps: int, flush_denormal: bool) -> dict:
    """One training run in this (fresh) process; returns wall time, final greedy return and, for our
    default config, the greedy return every 2,500 steps."""
    import gymnasium as gym
    import torch

    torch.set_num_threads(1)
    if flush_denormal:
        torch.set_flush_denormal(True)
    env = gym.make("CartPole-v1")
    curve: list[tuple[int, float]] = []
    if agent in ("ours", "ours-default"):
        from agents.common.evaluation import evaluate_batched
        from agents.dqn import DQN

        config = dict(
            ZOO_CARTPOLE,
            hidden_sizes=NET_ARCH,
            device="cpu",
            double_dqn=False,
            n_step=1,
            exploration=f"linear:1.0:{FINAL_EPS}:{int(EXPLORATION_FRACTION * steps)}",
        )
        model = DQN(env, config if agent == "ours" else {"device": "cpu"}, seed=seed)
        evaluation_seconds = 0.0

        def evaluate_every_2500(agent: DQN, step: int) -> None:
            nonlocal evaluation_seconds
            if step % 2500 == 0:
                start = time.perf_counter()
                curve.append((step, evaluate_batched(agent, "CartPole-v1", 20, seed=10_000).mean))
                evaluation_seconds += time.perf_counter() - start

        start = time.perf_counter()
        model.train(env, steps, progress=False, callback=evaluate_every_2500 if agent == "ours-default" else None)
        seconds = time.perf_counter() - start - evaluation_seconds
        act = model.act
    else:
        from stable_baselines3 import DQN as SB3DQN

        model = SB3DQN(
            "MlpPolicy",
            env,
            exploration_fraction=EXPLORATION_FRACTION,
            exploration_final_eps=FINAL_EPS,
            policy_kwargs=dict(net_arch=list(NET_ARCH)),
            seed=seed,
            device="cpu",
            **ZOO_CARTPOLE,
        )
        start = time.perf_counter()
        model.learn(steps)
        seconds = time.perf_counter() - start

        def act(obs):
            return int(model.predict(obs, deterministic=True)[0])

    return {"agent": agent, "seed": seed, "seconds": seconds, "return": greedy_return(act, 10_000), "curve": curve}


def run_worker(*args: str) -> dict:
    result = subprocess.run([sys.executable, __file__, "--worker", *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"worker {args} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--steps", type=int, default=50_000)
    parser.add_argument(
        "--sb3-flush-denormal", action="store_true", help="also time SB3 with denormals flushed to zero"
    )
    parser.add_argument("--no-defaults", action="store_true", help="skip the runs of our default config")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, seed, steps, flush = args.worker
        print(json.dumps(worker(kind, int(seed), int(steps), flush == "1")))
        return

    variants = [("ours", "0"), ("sb3", "0")] + [("sb3", "1")] * args.sb3_flush_denormal
    variants += [] if args.no_defaults else [("ours-default", "0")]
    results: dict[tuple[str, str], list[dict]] = {v: [] for v in variants}
    print(
        f"CartPole-v1, {args.steps} steps, seeds {args.seeds}, torch on 1 thread; ours and sb3: rl-zoo3 hyperparameters"
    )
    for i, seed in enumerate(args.seeds):
        order = variants if i % 2 == 0 else variants[::-1]  # alternate who goes first
        for kind, flush in order:
            result = run_worker(kind, str(seed), str(args.steps), flush)
            results[(kind, flush)].append(result)
            name = kind + (" (flush denormal)" if flush == "1" else "")
            print(
                f"  seed {seed}  {name:22s} {result['seconds']:7.1f} s   final return {result['return']:6.1f}",
                flush=True,
            )

    def summary(kind: str, flush: str) -> tuple[np.ndarray, np.ndarray]:
        runs = results[(kind, flush)]
        return np.array([r["seconds"] for r in runs]), np.array([r["return"] for r in runs])

    ours_time, ours_returns = summary("ours", "0")
    print(
        f"\nours (zoo settings): total {ours_time.sum():.1f} s, final returns {ours_returns.round(1).tolist()} "
        f"(mean {ours_returns.mean():.1f})"
    )
    for kind, flush in [v for v in variants if v[0] == "sb3"]:
        sb3_time, sb3_returns = summary(kind, flush)
        label = "sb3" + (" with flush-denormal" if flush == "1" else "")
        print(
            f"{label} (zoo settings): total {sb3_time.sum():.1f} s, final returns {sb3_returns.round(1).tolist()} "
            f"(mean {sb3_returns.mean():.1f})"
        )
        print(
            f"  wall-time ratio ours / {label}: {ours_time.sum() / sb3_time.sum():.2f} in total, "
            f"{np.median(ours_time / sb3_time):.2f} median of the seeds' ratios  (target <= 0.70)"
        )
        print(f"  mean final return ours - {label}: {ours_returns.mean() - sb3_returns.mean():+.1f}  (target >= 0)")
    if not args.no_defaults:
        default_time, default_returns = summary("ours-default", "0")
        firsts = [
            next((step for step, ret in r["curve"] if ret >= 475), float("inf")) for r in results[("ours-default", "0")]
        ]
        sb3_time = summary("sb3", "0")[0]
        print(
            f"ours (default config): total {default_time.sum():.1f} s = "
            f"{default_time.sum() / sb3_time.sum():.2f}x sb3's, "
            f"final returns {default_returns.round(1).tolist()}, first step >= 475: {firsts}"
        )
        print(
            f"  CartPole targets: every final return >= 475: {bool(np.all(default_returns >= 475))}; "
            f"median first step >= 475: {np.median(firsts):.0f} (target <= 30000)"
        )


if __name__ == "__main__":
    main()
