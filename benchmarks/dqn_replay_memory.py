"""Resident memory of DQN replay buffers holding 84x84 frames stacked 4 deep (Atari's observations).

    python benchmarks/dqn_replay_memory.py                       # 100,000 transitions
    python benchmarks/dqn_replay_memory.py --transitions 20000 --sb3-transitions 5000

Each buffer is built and filled in a fresh subprocess, which reports how much its resident set size
(RSS, from /proc/self/statm) grew: that is the memory the buffer really takes, page by page.
The yardstick is the unique frames: transitions x 84 x 84 bytes (target: ours <= 1.1x that).
Peers: Stable-Baselines3's `ReplayBuffer`, which stores the whole stack of every observation and of
every next observation, or with `optimize_memory_usage=True` shares the next observation with the
following row but still stores whole stacks. SB3 is filled with fewer transitions (its buffers would
take gigabytes) and reported per transition. Episodes last 1,000 steps.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np

FRAME_BYTES = 84 * 84
EPISODE_LENGTH = 1000


def resident_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def stacked_observations(n: int, rng: np.random.Generator):
    """(observation, next observation, episode start) for n steps of a 4-stack of random frames."""
    stack = np.zeros((4, 84, 84), dtype=np.uint8)
    for t in range(n):
        start = t % EPISODE_LENGTH == 0
        if start:
            stack[:] = rng.integers(0, 256, (84, 84), dtype=np.uint8)
        following = np.concatenate([stack[1:], rng.integers(0, 256, (1, 84, 84), dtype=np.uint8)])
        yield stack, following, start
        stack = following


def fill_ours(transitions: int) -> int:
    import gymnasium as gym

    from agents.dqn.replay import ReplayBuffer

    rng = np.random.default_rng(0)
    space = gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)
    before = resident_bytes()
    buffer = ReplayBuffer(transitions, space, 6, frame_stack=4)
    env = np.array([0])
    for obs, next_obs, start in stacked_observations(transitions, rng):
        if start:
            buffer.start_episodes(env, obs[None])
        buffer.add(env, 0, 0.0, next_obs[None], False, False)
    return resident_bytes() - before


def fill_sb3(transitions: int, optimize: bool) -> int:
    import gymnasium as gym
    from stable_baselines3.common.buffers import ReplayBuffer as SB3ReplayBuffer

    rng = np.random.default_rng(0)
    space = gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)
    before = resident_bytes()
    buffer = SB3ReplayBuffer(
        transitions,
        space,
        gym.spaces.Discrete(6),
        device="cpu",
        optimize_memory_usage=optimize,
        handle_timeout_termination=False,
    )
    for obs, next_obs, _ in stacked_observations(transitions, rng):
        buffer.add(obs[None], next_obs[None], np.zeros(1), np.zeros(1), np.zeros(1), [{}])
    return resident_bytes() - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--transitions", type=int, default=100_000)
    parser.add_argument("--sb3-transitions", type=int, default=10_000)
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, n = args.worker[0], int(args.worker[1])
        grew = fill_ours(n) if kind == "ours" else fill_sb3(n, optimize=kind == "sb3-optimized")
        print(json.dumps({"bytes": grew}))
        return

    def measure(kind: str, n: int) -> int:
        out = subprocess.run(
            [sys.executable, __file__, "--worker", kind, str(n)], capture_output=True, text=True, check=True
        )
        return json.loads(out.stdout.strip().splitlines()[-1])["bytes"]

    unique = args.transitions * FRAME_BYTES
    ours = measure("ours", args.transitions)
    print(
        f"84x84 uint8 frames, 4-stack, episodes of {EPISODE_LENGTH} steps; unique frames of {args.transitions} "
        f"transitions: {unique / 2**20:.0f} MiB"
    )
    print(f"ours: RSS grew {ours / 2**20:.0f} MiB = {ours / unique:.3f}x the unique frames (target <= 1.10)")
    for kind in ("sb3", "sb3-optimized"):
        grew = measure(kind, args.sb3_transitions)
        per_transition = grew / args.sb3_transitions
        print(
            f"{kind}: {per_transition / 1024:.1f} KiB per transition ({args.sb3_transitions} filled) = "
            f"{per_transition / FRAME_BYTES:.2f}x a frame; ours / {kind}: "
            f"{ours / args.transitions / per_transition:.3f}"
        )


if __name__ == "__main__":
    main()
