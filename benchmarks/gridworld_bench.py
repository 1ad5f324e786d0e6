"""Steps per second of gridworld-v0 (single and native vector env) and pacman-v0, with MiniGrid
measured in the same run as the peer, printed as ratios against the targets of issue 5.

    .venv/bin/python benchmarks/gridworld_bench.py            # full run (about 2 minutes)
    .venv/bin/python benchmarks/gridworld_bench.py --quick    # a smoke run (seconds)
    .venv/bin/python benchmarks/gridworld_bench.py --images   # only the image renderer, old vs new
    .venv/bin/python benchmarks/gridworld_bench.py --pacman-only   # pac-man's vector env vs SyncVectorEnv only

The image comparison (also part of the full run) times gridworld-v0's rgb observations drawn by the
old renderer (every image redrawn from scratch, kept below as `OldImages*`) against the current one
(only changed cells redrawn on a persistent canvas), in interleaved rounds of the same process, and
checks that both give the same pixels.

MiniGrid is not a dependency of this project: the first run creates `benchmarks/.venv-minigrid/`
(gitignored) with a pinned MiniGrid and measures it there in a subprocess (`--peer-only` mode of
this same script, which imports nothing of ours). Every figure is the best of `--repeats` timed
runs, and the peer is measured before and after our envs (best of both), so a busy machine hurts
both sides alike. Only ratios from one run are comparable.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import venv
from collections.abc import Callable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PEER_VENV = HERE / ".venv-minigrid"
PEER_PACKAGES = ["minigrid==3.2.0", "gymnasium==1.4.0", "numpy==2.4.6", "pygame==2.6.1"]
PEER_ID = "MiniGrid-Empty-8x8-v0"


def best_rate(run: Callable[[], int], repeats: int) -> float:
    """The best steps/s of `repeats` calls of `run` (which returns the number of steps it took)."""
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        steps = run()
        best = max(best, steps / (time.perf_counter() - start))
    return best


def single_env_rate(make: Callable[[], object], n_steps: int, repeats: int, n_actions: int) -> float:
    """Steps/s of a `gym.make` env under seeded random actions, resetting when an episode ends."""
    env = make()
    env.reset(seed=0)
    actions = np.random.default_rng(0).integers(0, n_actions, n_steps).tolist()

    def run() -> int:
        for action in actions:
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()
        return n_steps

    rate = best_rate(run, repeats)
    env.close()
    return rate


def vector_env_rate(make: Callable[[], object], n_steps: int, repeats: int, n_actions: int) -> float:
    """Sub-env steps/s of a vector env (num_envs steps per call) under random actions."""
    envs = make()
    envs.reset(seed=0)
    actions = np.random.default_rng(0).integers(0, n_actions, (n_steps, envs.num_envs))

    def run() -> int:
        for batch in actions:
            envs.step(batch)
        return n_steps * envs.num_envs

    rate = best_rate(run, repeats)
    envs.close()
    return rate


# ----------------------------------------------------------------------------- the peer
def measure_minigrid(n_steps: int, repeats: int) -> dict[str, float]:
    """MiniGrid's steps/s with its symbolic observation and with RGBImgObsWrapper (run in its venv)."""
    import gymnasium as gym
    import minigrid
    from minigrid.wrappers import RGBImgObsWrapper

    gym.register_envs(minigrid)
    n_actions = 3  # left, right, forward: the moves of the Empty rooms
    return {
        "symbolic": single_env_rate(lambda: gym.make(PEER_ID), n_steps, repeats, n_actions),
        "rgb": single_env_rate(lambda: RGBImgObsWrapper(gym.make(PEER_ID)), max(n_steps // 5, 200), repeats, n_actions),
    }


def ensure_peer_venv() -> Path:
    python = PEER_VENV / "bin" / "python"
    if not (PEER_VENV / ".installed").exists():
        print(f"creating {PEER_VENV} with {' '.join(PEER_PACKAGES)} (first run only) ...", flush=True)
        venv.create(PEER_VENV, with_pip=True, clear=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *PEER_PACKAGES], check=True)
        (PEER_VENV / ".installed").touch()
    return python


def run_peer(n_steps: int, repeats: int) -> dict[str, float]:
    python = ensure_peer_venv()
    command = [str(python), __file__, "--peer-only", "--steps", str(n_steps), "--repeats", str(repeats)]
    out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=HERE).stdout
    return json.loads(out.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- images: old vs new
def old_images(game: object) -> np.ndarray:
    """The rgb observations as the renderer before the canvas drew them (the code of issue 14's "today"):
    every image of the batch from scratch, rows taken from the packed colours' RGB view, a fresh array.
    Kept here as it was, so that the baseline does not move with `render.scaled_cells`."""
    from gym_gridworld import render
    from gym_gridworld.gridworld import IMAGE_SIZE, PALETTE

    kinds = game.shown_kinds()
    h, w = kinds.shape[-2:]
    rows, cols = render._nearest_index(h, IMAGE_SIZE), render._nearest_index(w, IMAGE_SIZE)
    one_line_per_row = PALETTE.take(np.take(kinds, cols, axis=-1))
    return np.take(render._rgb_view(one_line_per_row), rows, axis=-3)


def image_comparison(batch: int, vector_steps: int, single_steps: int, repeats: int) -> list[tuple[str, float, float]]:
    """(name, best wall steps/s, best CPU steps/s) of old and new image paths, in interleaved rounds."""
    from gym_gridworld.gridworld import GridworldEnv
    from gym_gridworld.vector import GridworldVectorEnv

    class OldImagesVectorEnv(GridworldVectorEnv):
        def _observations(self) -> np.ndarray:
            return old_images(self.game)

    class OldImagesEnv(GridworldEnv):
        def _observation(self) -> np.ndarray:
            return old_images(self.game)[0]

    rng = np.random.default_rng(0)
    vector_actions = rng.integers(0, 4, (vector_steps, batch))
    single_actions = rng.integers(0, 4, single_steps).tolist()

    def vector_run(envs: GridworldVectorEnv) -> Callable[[], int]:
        def run() -> int:
            for actions in vector_actions:
                envs.step(actions)
            return vector_steps * batch

        return run

    def single_run(env: GridworldEnv) -> Callable[[], int]:
        def run() -> int:
            for step, action in enumerate(single_actions):
                env.step(action)
                if step % 50 == 49:  # the registered 50-step episodes
                    env.reset()
            return single_steps

        return run

    cases = {
        f"vector x{batch} rgb, old renderer": OldImagesVectorEnv(batch, max_episode_steps=50),
        f"vector x{batch} rgb, new (copy=True)": GridworldVectorEnv(batch, max_episode_steps=50),
        f"vector x{batch} rgb, new (copy=False)": GridworldVectorEnv(batch, max_episode_steps=50, copy=False),
        f"vector x{batch} partial rgb, old renderer": OldImagesVectorEnv(batch, partial=True, max_episode_steps=50),
        f"vector x{batch} partial rgb, new (copy=True)": GridworldVectorEnv(batch, partial=True, max_episode_steps=50),
        f"vector x{batch} partial rgb, new (copy=False)": GridworldVectorEnv(
            batch, partial=True, max_episode_steps=50, copy=False
        ),
        "single rgb, old renderer": OldImagesEnv(),
        "single rgb, new": GridworldEnv(),
    }
    runs = {}
    for name, env in cases.items():
        env.reset(seed=0)
        runs[name] = vector_run(env) if isinstance(env, GridworldVectorEnv) else single_run(env)
    best = {name: (0.0, 0.0) for name in cases}
    for _ in range(repeats):  # interleaved, so load changes hit every case alike
        for name, run in runs.items():
            wall, cpu = time.perf_counter(), time.process_time()
            steps = run()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            best[name] = (max(best[name][0], steps / wall), max(best[name][1], steps / max(cpu, 1e-9)))
    envs = list(cases.values())
    for old, new in ((envs[0], envs[1]), (envs[0], envs[2]), (envs[3], envs[4]), (envs[3], envs[5])):
        if not np.array_equal(old_images(old.game), new._observations()):
            raise AssertionError("the old and new renderers disagree")
    return [(name, *rates) for name, rates in best.items()]


def print_image_comparison(rows: list[tuple[str, float, float]]) -> None:
    old = {}
    print(f"{'rgb observations':44s} {'wall steps/s':>13s} {'CPU steps/s':>13s}  new / old (wall, CPU)")
    for name, wall, cpu in rows:
        kind, _, variant = name.partition(", ")
        line = f"{name:44s} {wall:13,.0f} {cpu:13,.0f}"
        if variant == "old renderer":
            old[kind] = (wall, cpu)
        elif kind in old:
            line += f"  {wall / old[kind][0]:5.1f}x {cpu / old[kind][1]:5.1f}x"
        print(line)
    sys.stdout.flush()


def interleaved_rates(runs: dict[str, Callable[[], int]], rounds: int) -> tuple[dict[str, float], dict[str, float]]:
    """The best steps/s of each run over `rounds` rounds, the runs taking turns within each round,
    so a neighbour's load spike hurts every run alike (this machine shares its cores); also the best
    steps per CPU-second of this process (what the run would do on a core of its own, roughly)."""
    wall, cpu = dict.fromkeys(runs, 0.0), dict.fromkeys(runs, 0.0)
    for _ in range(rounds):
        for name, run in runs.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            steps = run()
            wall[name] = max(wall[name], steps / (time.perf_counter() - start))
            cpu[name] = max(cpu[name], steps / max(time.process_time() - start_cpu, 1e-9))
    return wall, cpu


JUMANJI_PACMAN_256 = 210_000  # Jumanji's JAX PacMan, 256 games, on this CPU (reference figure, not run here)


def measure_pacman_vector(batch: int, vector_steps: int, sync_steps: int, rounds: int) -> dict[str, float]:
    """Agent steps/s of pacman-v0's native vector env and of SyncVectorEnv over single pacman-v0 envs
    (the same `batch` of games, grid observations, small layout), measured in interleaved rounds;
    and the seconds a 100x100 layout takes to construct and reset."""
    import gymnasium as gym

    import gym_gridworld  # noqa: F401  (registers the ids)
    from gym_gridworld import parse_layout

    def stepper(envs: object, n_steps: int) -> Callable[[], int]:
        envs.reset(seed=0)
        actions = np.random.default_rng(0).integers(0, 4, (n_steps, envs.num_envs))

        def run() -> int:
            for batch_actions in actions:
                envs.step(batch_actions)
            return n_steps * envs.num_envs

        return run

    runs = {
        f"pacman vector x{batch} grid": stepper(
            gym.make_vec("pacman-v0", num_envs=batch, obs_type="grid"), vector_steps
        ),
        f"pacman vector x{batch} rgb": stepper(gym.make_vec("pacman-v0", num_envs=batch), max(vector_steps // 10, 3)),
        f"pacman sync x{batch} grid": stepper(
            gym.make_vec("pacman-v0", num_envs=batch, vectorization_mode="sync", obs_type="grid"), sync_steps
        ),
        "pacman medium vector x256 grid": stepper(
            gym.make_vec("pacman-v0", num_envs=256, layout="medium", obs_type="grid"), vector_steps
        ),
    }
    rates, cpu_rates = interleaved_rates(runs, rounds)
    rates.update({f"{name} (per CPU-s)": rate for name, rate in cpu_rates.items()})
    side = 100
    rows = ["%" * side] + ["%" + "." * (side - 2) + "%"] * (side - 2) + ["%" * side]
    rows[1], rows[-2] = "%P" + rows[1][2:], rows[-2][: side - 3] + "GG%"
    start = time.perf_counter()
    gym.make("pacman-v0", layout=parse_layout("\n".join(rows), "100x100"), obs_type="grid").reset(seed=0)
    rates["pacman 100x100 construct+reset (s)"] = time.perf_counter() - start
    return rates


def report_pacman_vector(rates: dict[str, float], batch: int) -> None:
    native, sync = rates[f"pacman vector x{batch} grid"], rates[f"pacman sync x{batch} grid"]
    for name, rate in rates.items():
        print(f"{name:48s} {rate:12,.2f} s" if name.endswith("(s)") else f"{name:48s} {rate:12,.0f} steps/s")
    print(
        f"pacman native / SyncVectorEnv (x{batch} grid): {native / sync:.1f}x  (target >= 10x: "
        f"{'met' if native / sync >= 10 else 'NOT met'})"
    )
    for label, rate in (("wall clock", native), ("per CPU-second", rates[f"pacman vector x{batch} grid (per CPU-s)"])):
        print(
            f"pacman native x{batch} grid, {label}: {rate / 1e6:.2f}M steps/s (target >= 1M: "
            f"{'met' if rate >= 1e6 else 'NOT met'}); {rate / JUMANJI_PACMAN_256:.1f}x Jumanji's JAX PacMan at 256 "
            f"({JUMANJI_PACMAN_256 / 1e6:.2f}M, reference)"
        )


# ----------------------------------------------------------------------------- ours
def measure_ours(n_steps: int, vector_steps: int, batch: int, repeats: int) -> dict[str, float]:
    import gymnasium as gym

    import gym_gridworld  # noqa: F401  (registers the ids)

    def single(env_id: str, **kwargs: object) -> float:
        return single_env_rate(lambda: gym.make(env_id, **kwargs), n_steps, repeats, 4)

    def vector(n: int, **kwargs: object) -> float:
        return vector_env_rate(lambda: gym.make_vec("gridworld-v0", num_envs=n, **kwargs), vector_steps, repeats, 4)

    return {
        "gridworld rgb": single("gridworld-v0"),
        "gridworld grid": single("gridworld-v0", obs_type="grid"),
        "gridworld partial grid": single("gridworld-v0", obs_type="grid", partial=True),
        f"gridworld vector x{batch} grid": vector(batch, obs_type="grid"),
        f"gridworld vector x{batch} rgb": vector(batch),
        "pacman small rgb": single("pacman-v0"),
        "pacman small grid": single("pacman-v0", obs_type="grid"),
        "pacman medium rgb": single("pacman-v0", layout="medium"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=20_000, help="steps per timed run of a single env")
    parser.add_argument("--vector-steps", type=int, default=300, help="vector steps per timed run")
    parser.add_argument("--batch", type=int, default=1024, help="num_envs of the vector env")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per figure (the best counts)")
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--images", action="store_true", help="only the image renderer, old vs new (no MiniGrid)")
    parser.add_argument("--pacman-only", action="store_true", help="only pac-man's vector env vs SyncVectorEnv")
    parser.add_argument("--peer-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.steps, args.vector_steps, args.repeats = 2_000, 30, 1
    if args.peer_only:
        print(json.dumps(measure_minigrid(args.steps, args.repeats)))
        return
    if args.images:
        print_image_comparison(image_comparison(args.batch, args.vector_steps, args.steps // 4, max(args.repeats, 5)))
        return
    pacman_rounds = max(args.repeats, 2) + 1
    pacman_vector = measure_pacman_vector(args.batch, args.vector_steps, max(args.vector_steps // 30, 3), pacman_rounds)
    if args.pacman_only:
        report_pacman_vector(pacman_vector, args.batch)
        return

    peer_runs = [run_peer(args.steps, args.repeats)]
    ours = measure_ours(args.steps, args.vector_steps, args.batch, args.repeats)
    peer_runs.append(run_peer(args.steps, args.repeats))
    peer = {key: max(run[key] for run in peer_runs) for key in peer_runs[0]}

    vector_grid = f"gridworld vector x{args.batch} grid"
    targets = {  # ours, peer key (None: an absolute target), required ratio or steps/s
        "gridworld rgb": ("rgb", 10.0),
        "gridworld grid": ("symbolic", 5.0),
        vector_grid: (None, 1_000_000.0),
        "pacman small rgb": ("symbolic", 1.0),
        "pacman small grid": ("symbolic", 1.0),
    }
    print(f"MiniGrid {PEER_ID}: symbolic {peer['symbolic']:,.0f} steps/s, RGBImgObsWrapper {peer['rgb']:,.0f} steps/s")
    print(f"{'env':34s} {'steps/s':>12s} {'vs MiniGrid symbolic':>21s} {'vs MiniGrid rgb':>16s}  target")
    for name, rate in ours.items():
        line = f"{name:34s} {rate:12,.0f} {rate / peer['symbolic']:20.1f}x {rate / peer['rgb']:15.1f}x"
        if name in targets:
            key, needed = targets[name]
            achieved = rate if key is None else rate / peer[key]
            unit = " steps/s" if key is None else f"x MiniGrid {key}"
            verdict = "met" if achieved >= needed else "NOT met"
            line += f"  >= {needed:,.0f}{unit}: {verdict}"
        print(line)
    print()
    print_image_comparison(image_comparison(args.batch, args.vector_steps, args.steps // 4, args.repeats))
    report_pacman_vector(pacman_vector, args.batch)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
