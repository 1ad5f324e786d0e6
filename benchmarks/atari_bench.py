"""Atari preprocessing speed: our stack against a hand-written ALE loop, SB3, Gymnasium, envpool and
ale-py's C++ AtariVectorEnv, on Pong with random actions, with 1 and 8 envs.

    python benchmarks/atari_bench.py                  # 3 rounds of 2,000 agent steps per contender
    python benchmarks/atari_bench.py --steps 500 --rounds 1 --no-envpool

Each round runs every contender once, in turn, so that a busy machine slows them alike; the table
gives the median over rounds of agent steps/s and emulator frames/s (agent steps x 4: the nominal
frame skip, reset frames not counted), then the ratios. envpool is not a dependency of this project:
it is installed on first use into benchmarks/.venv-envpool/ (gitignored) and run there in a subprocess.

Contenders (all: 84x84 gray, max-pool of the last two of 4 frames, 4-frame stack):
  raw ALE       ale_py.ALEInterface by hand: 4 act calls, grayscale grabs of the last two frames,
                np.maximum, cv2.resize(INTER_AREA); no frame stack, no wrappers
  ours          make_atari_env (SB3's semantics and pixels: RGB max-pool, read as palette indices and
                converted by a gray-of-the-pooled-colours table; fire reset, life loss, clipping)
  ours gray     make_atari_env(max_pool="gray"): the same work as the raw loop, plus the full stack
  ours no polling  ours with spin_s=0: the vector env's processes sleep while they wait (8 envs)
  SB3           AtariWrapper + VecFrameStack on DummyVecEnv (1 env) / SubprocVecEnv (8 envs)
  Gymnasium     AtariPreprocessing + FrameStackObservation; AsyncVectorEnv for 8 envs
  envpool       envpool.make("Pong-v5", env_type="gymnasium"), num_threads = min(envs, cores);
                its defaults: gray max-pool, fire reset, no life loss (C++ threads)
  AtariVectorEnv ale_py.vector_env.AtariVectorEnv("pong"), num_threads = min(envs, cores);
                its defaults, as envpool's (C++ threads)
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

GAME, NOFRAMESKIP_ID, FRAME_SKIP, N_ACTIONS = "pong", "PongNoFrameskip-v4", 4, 6
ENVPOOL_VENV = HERE / ".venv-envpool"
ENVPOOL_PINS = ["envpool==1.2.5", "gymnasium==1.4.0", "numpy==2.4.6"]
CORES = os.cpu_count() or 1

# A contender: make(num_envs) -> (run, close), or None where it does not apply; run(actions) -> (wall s, CPU s)
# for len(actions) vector steps


def _cpu_seconds() -> float:
    """CPU time of this process (all threads) and of every live descendant process (Linux /proc;
    elsewhere this process only): the work a contender does, whatever else runs on the machine."""
    total = time.process_time()
    proc = Path("/proc")
    if not proc.is_dir():
        return total
    parents, ticks = {}, {}
    for stat in proc.glob("[0-9]*/stat"):
        try:  # after the ")" that ends the name: state, ppid, ..., utime (index 11), stime (12)
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        pid = int(stat.parent.name)
        parents[pid], ticks[pid] = int(fields[1]), int(fields[11]) + int(fields[12])
    me = os.getpid()
    for pid in ticks:
        ancestor = parents.get(pid)
        while ancestor not in (None, 0, 1, me):
            ancestor = parents.get(ancestor)
        if ancestor == me:
            total += ticks[pid] / os.sysconf("SC_CLK_TCK")
    return total


def _timed_loop(step: Callable[[np.ndarray], None], actions: np.ndarray) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process and its children) for stepping through `actions`."""
    wall, cpu = time.perf_counter(), _cpu_seconds()
    for action in actions:
        step(action)
    return time.perf_counter() - wall, _cpu_seconds() - cpu


# --------------------------------------------------------------------------- contenders
def raw_ale(num_envs: int):
    import ale_py
    import cv2
    from ale_py import roms

    ales = []
    for i in range(num_envs):
        ale = ale_py.ALEInterface()
        ale.setLoggerMode(ale_py.LoggerMode.Error)
        ale.setInt("random_seed", i)
        ale.setFloat("repeat_action_probability", 0.0)
        ale.loadROM(roms.get_rom_path(GAME))
        ale.reset_game()
        ales.append(ale)
    action_set = ales[0].getMinimalActionSet()
    frames = np.zeros((num_envs, 2, 210, 160), np.uint8)

    def step(actions: np.ndarray) -> None:
        for ale, action, pair in zip(ales, actions, frames):
            act = action_set[action]
            ale.act(act)
            ale.act(act)
            ale.act(act)
            ale.getScreenGrayscale(pair[0])
            ale.act(act)
            ale.getScreenGrayscale(pair[1])
            cv2.resize(np.maximum(pair[0], pair[1]), (84, 84), interpolation=cv2.INTER_AREA)
            if ale.game_over():
                ale.reset_game()

    return (lambda actions: _timed_loop(step, actions)), (lambda: None)


def _gym_single_loop(env):
    env.reset(seed=0)

    def step(actions: np.ndarray) -> None:
        _, _, terminated, truncated, _ = env.step(actions[0])
        if terminated or truncated:
            env.reset()

    return (lambda actions: _timed_loop(step, actions)), env.close


def _vector_loop(venv):
    venv.reset(seed=0)
    return (lambda actions: _timed_loop(venv.step, actions)), venv.close


def ours(num_envs: int, **options):
    from agents.wrappers.atari import make_atari_env

    if num_envs == 1:
        return _gym_single_loop(make_atari_env(NOFRAMESKIP_ID, **options))
    return _vector_loop(make_atari_env(NOFRAMESKIP_ID, num_envs=num_envs, **options))


def ours_gray(num_envs: int):
    return ours(num_envs, max_pool="gray")


def ours_no_polling(num_envs: int):
    return ours(num_envs, spin_s=0.0) if num_envs > 1 else None  # one env has no processes to wait for


def _make_atari(wrap: Callable):
    """`wrap(gym.make(NOFRAMESKIP_ID))`, registering ale-py's ids first (worker processes need it)."""
    import ale_py
    import gymnasium as gym

    gym.register_envs(ale_py)
    return wrap(gym.make(NOFRAMESKIP_ID))


def sb3(num_envs: int):
    from stable_baselines3.common.atari_wrappers import AtariWrapper
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecFrameStack

    make = [functools.partial(_make_atari, AtariWrapper) for _ in range(num_envs)]
    venv = VecFrameStack(DummyVecEnv(make) if num_envs == 1 else SubprocVecEnv(make), n_stack=4)
    venv.seed(0)
    venv.reset()
    return (lambda actions: _timed_loop(venv.step, actions)), venv.close


def gymnasium_stack(num_envs: int):
    import gymnasium as gym
    from gymnasium.wrappers import AtariPreprocessing, FrameStackObservation

    def stack(env):
        return FrameStackObservation(AtariPreprocessing(env), 4)

    make = functools.partial(_make_atari, stack)

    if num_envs == 1:
        return _gym_single_loop(make())
    return _vector_loop(gym.vector.AsyncVectorEnv([make] * num_envs))


def ale_vector(num_envs: int):
    from ale_py.vector_env import AtariVectorEnv

    return _vector_loop(AtariVectorEnv(GAME, num_envs, num_threads=min(num_envs, CORES)))


ENVPOOL_SCRIPT = """
import json, sys, time, numpy as np, envpool
num_envs, steps, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
threads = min(num_envs, {cores})
env = envpool.make("Pong-v5", env_type="gymnasium", num_envs=num_envs, num_threads=threads, seed=0)
env.reset()
actions = np.random.default_rng(seed).integers(0, {n_actions}, (steps, num_envs))
wall, cpu = time.perf_counter(), time.process_time()
for a in actions:
    env.step(a)
print(json.dumps([time.perf_counter() - wall, time.process_time() - cpu]))
"""


def ensure_envpool() -> str | None:
    """The envpool venv's python, installing it on first use; None (with a note) if that fails."""
    python = ENVPOOL_VENV / "bin" / "python"
    if not python.exists():
        print(f"installing envpool into {ENVPOOL_VENV} (first run only) ...", flush=True)
        try:
            subprocess.run([sys.executable, "-m", "venv", str(ENVPOOL_VENV)], check=True)
            subprocess.run([str(python), "-m", "pip", "install", "--quiet", *ENVPOOL_PINS], check=True)
        except (subprocess.CalledProcessError, OSError) as error:
            print(f"envpool: skipped ({error})")
            return None
    return str(python)


def envpool_runner(python: str):
    def make(num_envs: int):
        def run(actions: np.ndarray) -> tuple[float, float]:
            script = ENVPOOL_SCRIPT.format(cores=CORES, n_actions=N_ACTIONS)
            out = subprocess.run(
                [python, "-c", script, str(num_envs), str(len(actions)), "0"],
                check=True,
                capture_output=True,
                text=True,
            )
            wall, cpu = json.loads(out.stdout.strip().splitlines()[-1])
            return wall, cpu

        return run, (lambda: None)

    return make


# --------------------------------------------------------------------------- driver
def measure(contenders: dict, env_counts: list[int], steps: int, rounds: int) -> dict[tuple[str, int, str], float]:
    """Median agent steps/s of each (contender, num_envs, "wall" or "cpu") over `rounds` interleaved rounds.
    "cpu" divides by the CPU seconds the contender used (its threads and worker processes): a measure of
    efficiency that other load on a shared machine disturbs much less than wall-clock time."""
    samples: dict[tuple[str, int, str], list[float]] = {}
    rng = np.random.default_rng(0)
    for round_index in range(rounds):
        for num_envs in env_counts:
            vector_steps = max(1, steps // num_envs)
            actions = rng.integers(0, N_ACTIONS, (vector_steps, num_envs))
            for name, make in contenders.items():
                made = make(num_envs)
                if made is None:  # the contender does not apply to this many envs
                    continue
                run, close = made
                run(actions[: max(1, vector_steps // 20)])  # warm-up
                wall, cpu = run(actions)
                close()
                agent_steps = vector_steps * num_envs
                samples.setdefault((name, num_envs, "wall"), []).append(agent_steps / wall)
                samples.setdefault((name, num_envs, "cpu"), []).append(agent_steps / max(cpu, 1e-9))
                rate = agent_steps / wall
                print(
                    f"  round {round_index + 1}: {name:<15} {num_envs} env(s): {rate:8.0f} agent steps/s",
                    flush=True,
                )
    return {key: statistics.median(values) for key, values in samples.items()}


def report(rates: dict[tuple[str, int, str], float], env_counts: list[int]) -> None:
    names = list(dict.fromkeys(name for name, _, _ in rates))
    print("\nagent steps/s (emulator frames/s) [agent steps per CPU second], median of rounds")
    print(f"{'contender':<16}" + "".join(f"{f'{n} env(s)':>34}" for n in env_counts))
    for name in names:
        cells = []
        for n in env_counts:
            rate, cpu = rates.get((name, n, "wall")), rates.get((name, n, "cpu"))
            cells.append(f"{rate:>8.0f} ({rate * FRAME_SKIP:>6.0f} fps) [{cpu:>6.0f}]" if rate else "-")
        print(f"{name:<16}" + "".join(f"{c:>34}" for c in cells))
    print("\nratios (same run): wall clock [per CPU second]")
    pairs = [
        ("ours gray", "raw ALE", 1, "target >= 0.9 (the same work)"),
        ("ours", "raw ALE", 1, "target >= 0.9 (SB3's pixels: RGB pooling, from palette indices)"),
        ("ours", "SB3", 1, "target >= 1.5"),
        ("ours gray", "SB3", 1, ""),
        ("ours", "Gymnasium", 1, ""),
        ("ours gray", "Gymnasium", 1, "the same work"),
        ("ours", "envpool", 1, ""),
        ("ours", "AtariVectorEnv", 1, ""),
    ]
    for n in env_counts:
        if n > 1:
            pairs += [
                ("ours", "envpool", n, "target >= 1.0"),
                ("ours gray", "envpool", n, ""),
                ("ours no polling", "envpool", n, "workers sleep in recv (spin_s=0)"),
                ("ours", "ours no polling", n, "what polling gains"),
                ("ours", "AtariVectorEnv", n, ""),
                ("ours", "SB3", n, ""),
                ("ours", "Gymnasium", n, ""),
                ("ours", "raw ALE", n, "raw: all envs in one process"),
            ]
    for a, b, n, note in pairs:
        if (a, n, "wall") in rates and (b, n, "wall") in rates:
            wall = rates[(a, n, "wall")] / rates[(b, n, "wall")]
            cpu = rates[(a, n, "cpu")] / rates[(b, n, "cpu")]
            print(f"{f'  {a} / {b}, {n} env(s): {wall:.2f} [{cpu:.2f}]':<50}{note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--steps", type=int, default=2000, help="agent steps per contender and round (all envs together)"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--envs", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--no-envpool", action="store_true", help="skip envpool (no install)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these contenders (names as printed)")
    args = parser.parse_args()

    contenders = {
        "raw ALE": raw_ale,
        "ours": ours,
        "ours gray": ours_gray,
        "ours no polling": ours_no_polling,
        "SB3": sb3,
        "Gymnasium": gymnasium_stack,
        "AtariVectorEnv": ale_vector,
    }
    python = None if args.no_envpool or (args.only and "envpool" not in args.only) else ensure_envpool()
    if python:
        contenders["envpool"] = envpool_runner(python)
    if args.only:
        unknown = set(args.only) - set(contenders) - {"envpool"}
        if unknown:
            parser.error(f"unknown contenders {sorted(unknown)}; choose from {sorted(contenders)}")
        contenders = {name: make for name, make in contenders.items() if name in args.only}
    setup = f"{args.steps} agent steps x {args.rounds} rounds, {CORES} cores, envs {args.envs}"
    print(f"Pong, random actions, {setup}")
    report(measure(contenders, args.envs, args.steps, args.rounds), args.envs)


if __name__ == "__main__":
    main()
