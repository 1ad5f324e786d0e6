"""Speed of gym_snake against its peers, all measured in one run: random-action steps per second.

    python benchmarks/snake_bench.py            # about four minutes; --quick for a short smoke run
    python benchmarks/snake_bench.py --only-pufferlib   # just the PufferLib comparison (about two minutes)

PufferLib 3.0's C snake (the fastest peer) is measured side by side with ours, in interleaved
rounds (ours, PufferLib, ours, ...) so that a load change on a shared machine hits both: single
game, 1024 and 4096 games on a 12x12 board (PufferLib: width = height = 22, its 5-cell wall border
of vision 5 included; one food, no corpses, 11x11 int8 view observations written in place), ours
with grid and view observations, each with the default copy and with `copy=False` (the default
engine: numba's compiled loop when numba is installed; grid also with `engine="numpy"`). PufferLib
cannot be pip-installed here (its setup.py downloads raylib and imports torch), so on first use
this script makes benchmarks/.venv-pufferlib/ (numpy<2, gymnasium 0.29.1, gym 0.23.0), downloads
the pufferlib 3.0.0 sdist from the package index (sha256 checked), and compiles only
`pufferlib/ocean/snake/binding.c` with gcc (-O2 -flto, as its setup.py does) against the sdist's
bundled raylib-5.5_linux_amd64; the timing loop runs in that venv's python, in a worker process.

Measured (each the best of `--repeats` timings, because the machines are shared and noisy):
- ours, single env: unwrapped and through `gym.make` (its wrappers), with grid, rgb and features
  observations on the default 10x10 board, and grid on 20x20 (gym-snake's board size);
- ours, vector env (`gym.make_vec`, grid observation built every step) at batch 1, 64, 1024, 4096,
  rgb at 64 and features at 1024;
- in-run reference peers written here: a minimal pure-Python snake (incrementally updated uint8
  grid, returned without a copy) and a rough numpy batched snake at batch 1024 (body arrays shifted
  every step, collisions against every segment, grid rebuilt every step);
- gym-snake==0.1.7 from PyPI (20x20; its observation is 4 integers, it builds no array), in a venv
  of its own (benchmarks/.venv-gym-snake/, created on first use with old `gym`) and a subprocess;
  its `SnakeEnv` is constructed directly because its `gym.make` path crashes on numpy 2;
- snake-gym==1.8: its wheel is downloaded and inspected; it ships no `envs` subpackage, so the env
  its registration points to cannot be made.

Each rate is given by wall clock and by the process's CPU time: on a busy shared machine the CPU
time is the better estimate of what a quiet machine does. Prints a table and the ratios the
targets are stated in; writes benchmarks/out/snake_bench.json.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
import zipfile
from collections import deque
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np

import gym_snake  # noqa: F401  (registers snake-v0)
from gym_snake import SnakeEnv

HERE = Path(__file__).resolve().parent
PEER_VENV = HERE / ".venv-gym-snake"
PUFFER_VENV = HERE / ".venv-pufferlib"
PUFFER_SDIST = "pufferlib-3.0.0.tar.gz"
PUFFER_SHA256 = "7df3a3e3f5f894d78d2a1f5374097890aec01473183e748abefe4f3faa10eaa9"
PUFFER_INDEX = "https://pypi.org/simple/pufferlib/"
PUFFER_BOARD = 12  # playable cells a side; PufferLib's width/height add 2 * vision cells of wall
PUFFER_VISION = 5
OUT = HERE / "out"
GYM_SNAKE = "gym-snake 0.1.7 (20x20, 4-int obs)"
DELTAS = ((-1, 0), (0, 1), (1, 0), (0, -1))


# ----------------------------------------------------------------------------- timing
def time_steps(env: object, actions: list[int]) -> tuple[float, float]:
    """Steps per second of `env` over `actions` by wall clock and by this process's CPU time (less
    disturbed by other work on a shared machine), resetting when step's element 2 or 3 is true
    (gymnasium: terminated, truncated; old gym: done, info)."""
    step, reset = env.step, env.reset
    wall, cpu = time.perf_counter(), time.process_time()
    for action in actions:
        result = step(action)
        if result[2] or result[3]:
            reset()
    return len(actions) / (time.perf_counter() - wall), len(actions) / (time.process_time() - cpu)


# gym-snake, timed by the peer venv's python (isolated: our gym_snake is not on its path) with the
# same `time_steps`, sent as source
PEER_CODE = (
    inspect.getsource(time_steps)
    + """
import contextlib, io, json, sys, time
import numpy as np
with contextlib.redirect_stdout(io.StringIO()):  # it prints a banner on import
    from gym_snake.envs import SnakeEnv
steps, repeats = int(sys.argv[1]), int(sys.argv[2])
actions = np.random.default_rng(0).integers(4, size=steps).tolist()
rates = []
for _ in range(repeats):
    env = SnakeEnv()
    env.reset()
    rates.append(time_steps(env, actions))
print(json.dumps([max(r[0] for r in rates), max(r[1] for r in rates)]))
"""
)


# ----------------------------------------------------------------------------- reference peers
class PurePythonSnake:
    """A minimal snake: a deque body, a numpy uint8 grid updated in place and returned uncopied."""

    def __init__(self, size: int = 10, seed: int = 0) -> None:
        self.size = size
        self.rng = random.Random(seed)
        self.grid = np.zeros((size, size), dtype=np.uint8)

    def reset(self, seed: int | None = None) -> np.ndarray:
        if seed is not None:
            self.rng.seed(seed)
        self.grid[:] = 0
        row = self.size // 2
        self.body = deque([(row, 1), (row, 2), (row, 3)])  # tail .. head, heading right
        for r, c in self.body:
            self.grid[r, c] = 1
        self.grid[row, 3] = 2
        self.heading = 1
        self._food()
        return self.grid

    def _food(self) -> None:
        while True:
            r, c = self.rng.randrange(self.size), self.rng.randrange(self.size)
            if self.grid[r, c] == 0:
                self.grid[r, c] = 3
                self.food = (r, c)
                return

    def step(self, action: int) -> tuple[np.ndarray, float, bool, dict]:
        """(grid, reward, done, info), the old gym API."""
        if action != (self.heading + 2) % 4:
            self.heading = action
        dr, dc = DELTAS[self.heading]
        hr, hc = self.body[-1]
        r, c = hr + dr, hc + dc
        if not (0 <= r < self.size and 0 <= c < self.size):
            return self.grid, -1.0, True, {}
        grid = self.grid
        eat = (r, c) == self.food
        if not eat:
            tr, tc = self.body.popleft()
            grid[tr, tc] = 0
        if grid[r, c] == 1:
            return grid, -1.0, True, {}
        grid[hr, hc] = 1
        grid[r, c] = 2
        self.body.append((r, c))
        if eat:
            self._food()
            return grid, 1.0, False, {}
        return grid, 0.0, False, {}


class RoughNumpySnake:
    """A straightforward batched numpy snake, written the first way that comes to mind: head-first
    body arrays shifted every step, collisions by comparing the head with every segment, the grid
    observation rebuilt from the bodies every step, resets and food by vectorised rejection."""

    def __init__(self, num_envs: int, size: int = 10, seed: int = 0) -> None:
        self.n, self.size, self.area = num_envs, size, size * size
        self.rng = np.random.default_rng(seed)
        self.body = np.zeros((num_envs, self.area), dtype=np.int64)  # flat cells, head first
        self.length = np.zeros(num_envs, dtype=np.int64)
        self.heading = np.zeros(num_envs, dtype=np.int64)
        self.food = np.zeros(num_envs, dtype=np.int64)
        self.d_row, self.d_col = np.array(DELTAS).T
        self.segment = np.arange(self.area)
        self._reset(np.ones(num_envs, dtype=bool))

    def _reset(self, mask: np.ndarray) -> None:
        m = int(mask.sum())
        head = self.rng.integers(self.size, size=m) * self.size + self.rng.integers(2, self.size - 1, size=m)
        self.body[mask, :3] = head[:, None] - np.arange(3)  # heading right, the body to the left
        self.length[mask], self.heading[mask] = 3, 1
        self._place_food(mask)

    def _place_food(self, mask: np.ndarray) -> None:
        games = np.flatnonzero(mask)
        while games.size:
            cells = self.rng.integers(self.area, size=games.size)
            on_body = ((self.body[games] == cells[:, None]) & (self.segment < self.length[games, None])).any(axis=1)
            self.food[games[~on_body]] = cells[~on_body]
            games = games[on_body]

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        self.heading = np.where(actions == (self.heading + 2) % 4, self.heading, actions)
        row, col = np.divmod(self.body[:, 0], self.size)
        row, col = row + self.d_row[self.heading], col + self.d_col[self.heading]
        wall = (row < 0) | (row >= self.size) | (col < 0) | (col >= self.size)
        head = np.where(wall, 0, row * self.size + col)
        eat = (head == self.food) & ~wall
        staying = self.segment < (self.length - 1 + eat)[:, None]  # the tail leaves unless the snake eats
        dead = wall | ((self.body == head[:, None]) & staying).any(axis=1)
        self.body[:, 1:] = self.body[:, :-1]
        self.body[:, 0] = head
        self.length += eat
        reward = np.where(dead, -1.0, eat.astype(np.float64))
        if eat.any():
            self._place_food(eat & ~dead)
        if dead.any():
            self._reset(dead)
        grid = np.zeros((self.n, self.area), dtype=np.uint8)
        games, segments = np.nonzero(self.segment < self.length[:, None])
        grid[games, self.body[games, segments]] = 1
        everyone = np.arange(self.n)
        grid[everyone, self.body[:, 0]] = 2
        grid[everyone, self.food] = 3
        return grid.reshape(self.n, self.size, self.size), reward, dead


# ----------------------------------------------------------------------------- measurements
Rates = tuple[float, float]  # steps per second by wall clock, by process CPU time


def best(run: Callable[[], Rates], repeats: int) -> Rates:
    """The highest wall-clock and CPU-time rates of `repeats` runs."""
    rates = [run() for _ in range(repeats)]
    return max(r[0] for r in rates), max(r[1] for r in rates)


def time_single_env(make: Callable[[], object], steps: int) -> Rates:
    env = make()
    actions = np.random.default_rng(0).integers(4, size=steps).tolist()
    env.reset(seed=0)
    rates = time_steps(env, actions)
    if hasattr(env, "close"):
        env.close()
    return rates


def time_batched(env_step: Callable[[np.ndarray], object], num_envs: int, game_steps: int) -> Rates:
    batches = max(20, game_steps // num_envs)
    actions = np.random.default_rng(0).integers(4, size=(batches, num_envs))
    wall, cpu = time.perf_counter(), time.process_time()
    for action in actions:
        env_step(action)
    return batches * num_envs / (time.perf_counter() - wall), batches * num_envs / (time.process_time() - cpu)


def time_vector_env(num_envs: int, game_steps: int, obs_type: str = "grid") -> Rates:
    venv = gym.make_vec("snake-v0", num_envs=num_envs, obs_type=obs_type)
    venv.reset(seed=0)
    rates = time_batched(venv.step, num_envs, game_steps)
    venv.close()
    return rates


# ----------------------------------------------------------------------------- peers from PyPI
def peer_python() -> Path:
    """The python of the gym-snake venv, created (with gym-snake==0.1.7 and its old gym) if needed."""
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        base = shutil.which("python3") or sys.executable
        print(f"creating {PEER_VENV} with gym-snake==0.1.7 ...", flush=True)
        subprocess.run([base, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "gym-snake==0.1.7"], check=True)
    return python


def time_gym_snake(steps: int, repeats: int) -> Rates | str:
    """gym-snake 0.1.7's rates, or why they could not be measured."""
    try:
        python = peer_python()
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run(
                [str(python), "-I", "-c", PEER_CODE, str(steps), str(repeats)],
                capture_output=True, text=True, check=True, cwd=tmp,
            )  # fmt: skip
        wall, cpu = json.loads(out.stdout.strip().splitlines()[-1])
        return wall, cpu
    except (subprocess.CalledProcessError, OSError, ValueError) as error:
        return f"gym-snake could not be measured: {error}"


def inspect_snake_gym() -> dict:
    """Download snake-gym==1.8's wheel and list what it ships."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                 "--dest", tmp, "snake-gym==1.8"],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
        except subprocess.CalledProcessError as error:
            return {"error": f"snake-gym==1.8 could not be downloaded: {error.stderr.strip()[-200:]}"}
        (wheel,) = Path(tmp).glob("*.whl")
        names = zipfile.ZipFile(wheel).namelist()
    packages = sorted({name.split("/")[0] for name in names if "dist-info" not in name})
    has_envs = any("/envs/" in name for name in names)
    return {
        "wheel": wheel.name,
        "top_level": packages,
        "has_envs_subpackage": has_envs,
        "note": "cannot be made: the wheel lacks the envs subpackage its registration points to"
        if not has_envs
        else "ships an envs subpackage",
    }


# ----------------------------------------------------------------------------- PufferLib 3.0 (C snake)
def puffer_python() -> tuple[Path, Path]:
    """(python, source dir) of the PufferLib venv, made on first use: the venv, the sdist, and the
    snake binding compiled as its setup.py would, nothing else of PufferLib."""
    python, src = PUFFER_VENV / "bin" / "python", PUFFER_VENV / "src"
    binding_dir = src / "pufferlib" / "ocean" / "snake"
    if python.exists() and list(binding_dir.glob("binding*.so")):
        return python, src
    print(f"making {PUFFER_VENV}: numpy<2, gymnasium 0.29.1, gym 0.23.0, PufferLib 3.0.0's C snake ...", flush=True)
    if not python.exists():
        subprocess.run([shutil.which("python3") or sys.executable, "-m", "venv", str(PUFFER_VENV)], check=True)
        pins = ["numpy<2", "gymnasium==0.29.1", "gym==0.23.0"]
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *pins], check=True)
    sdist = PUFFER_VENV / PUFFER_SDIST
    if not sdist.exists():
        download_puffer_sdist(sdist)
    with tarfile.open(sdist) as tar:
        root = "pufferlib-3.0.0/"
        keep = (root + "pufferlib/", root + "raylib-5.5_linux_amd64/")
        wanted = [m for m in tar.getmembers() if m.name.startswith(keep)]
        for member in wanted:
            member.name = member.name[len(root) :]
        tar.extractall(src, members=wanted, filter="data")
    paths = subprocess.run(
        [str(python), "-c", "import numpy, sysconfig; print(numpy.get_include());"
         "print(sysconfig.get_paths()['include']); print(sysconfig.get_config_var('EXT_SUFFIX'))"],
        check=True, capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    numpy_include, python_include, suffix = paths
    raylib = src / "raylib-5.5_linux_amd64"
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-O2", "-flto", "-DNPY_NO_DEPRECATED_API=NPY_1_7_API_VERSION", "-DPLATFORM_DESKTOP",
         "-Wno-alloc-size-larger-than", "-Wno-implicit-function-declaration",
         f"-I{numpy_include}", f"-I{python_include}",
         f"-I{raylib / 'include'}", str(binding_dir / "binding.c"), str(raylib / "lib" / "libraylib.a"),
         "-fwrapv", "-Bsymbolic-functions", "-lm", "-o", str(binding_dir / f"binding{suffix}")],
        check=True,
    )  # fmt: skip
    return python, src


def download_puffer_sdist(dest: Path) -> None:
    """pip download cannot fetch it (pip builds its metadata, which needs torch): read the link off
    the package index's simple page and check the file's sha256."""
    page = urllib.request.urlopen(PUFFER_INDEX, timeout=60).read().decode()
    match = re.search(r'href="([^"#]*/' + re.escape(PUFFER_SDIST) + r')[#"]', page)
    if not match:
        raise OSError(f"{PUFFER_SDIST} not listed on {PUFFER_INDEX}")
    data = urllib.request.urlopen(match.group(1), timeout=300).read()
    if hashlib.sha256(data).hexdigest() != PUFFER_SHA256:
        raise OSError(f"{PUFFER_SDIST}: sha256 mismatch")
    dest.write_bytes(data)


# the worker, run by the PufferLib venv's python: one JSON request per line ({"games": n, "steps": s}),
# one JSON line back ([wall rate, cpu rate]); envs are made once per size and kept
PUFFER_WORKER = """
import contextlib, io, json, sys, time
import numpy as np
sys.path.insert(0, sys.argv[3])
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    from pufferlib.ocean.snake.snake import Snake
board, vision = int(sys.argv[1]), int(sys.argv[2])
envs = {}
for line in sys.stdin:
    request = json.loads(line)
    n, steps = request["games"], request["steps"]
    if n not in envs:
        env = Snake(num_envs=n, width=board + 2 * vision, height=board + 2 * vision, num_snakes=1, num_food=1,
                    vision=vision, leave_corpse_on_death=False, report_interval=10**9, seed=0)
        env.reset(seed=0)
        envs[n] = (env, np.random.default_rng(0).integers(4, size=(1024, n)).astype(np.int32))
    env, actions = envs[n]
    batches = max(1, steps // n)
    step = env.step
    wall, cpu = time.perf_counter(), time.process_time()
    for k in range(batches):
        step(actions[k & 1023])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(json.dumps([batches * n / wall, batches * n / cpu]), flush=True)
"""


class PufferWorker:
    """A running PufferLib timing worker."""

    def __init__(self) -> None:
        python, src = puffer_python()
        self.tmp = tempfile.TemporaryDirectory()  # pufferlib's import drops a `resources` link in its cwd
        self.process = subprocess.Popen(
            [str(python), "-I", "-c", PUFFER_WORKER, str(PUFFER_BOARD), str(PUFFER_VISION), str(src)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=self.tmp.name,
        )  # fmt: skip

    def rates(self, games: int, steps: int) -> Rates:
        self.process.stdin.write(json.dumps({"games": games, "steps": steps}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise OSError(f"the PufferLib worker stopped (exit code {self.process.wait()})")
        wall, cpu = json.loads(line)
        return wall, cpu

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()
        self.tmp.cleanup()


def time_ours_batched(num_envs: int, steps: int, **options: object) -> Rates:
    venv = gym.make_vec("snake-v0", num_envs=num_envs, width=PUFFER_BOARD, height=PUFFER_BOARD, **options)
    venv.reset(seed=0)
    venv.step(np.zeros(num_envs, dtype=np.int64))  # warm
    rates = time_batched(venv.step, num_envs, steps)
    venv.close()
    return rates


def time_ours_single(steps: int, **options: object) -> Rates:
    return time_single_env(lambda: SnakeEnv(width=PUFFER_BOARD, height=PUFFER_BOARD, **options), steps)


def compare_with_pufferlib(rounds: int, steps: int, record: Callable[[str, Rates], None]) -> dict[str, Rates] | str:
    """Ours and PufferLib in interleaved rounds; the best rate of each over the rounds."""
    try:
        worker = PufferWorker()
        worker.rates(1, 1000)  # import and warm
    except (subprocess.CalledProcessError, OSError, ValueError, tarfile.TarError) as error:
        return f"PufferLib could not be measured: {error}"
    cases: dict[str, Callable[[], Rates]] = {}
    for games in (1, 1024, 4096):
        n_steps = steps // 10 if games == 1 else steps  # a single game is ~10x slower per step
        cases[f"pufferlib {games}"] = lambda g=games, s=n_steps: worker.rates(g, s)
        for obs in ("grid", "view"):
            for copy in (True, False):
                name = f"ours {obs}{'' if copy else ' copy=False'} {games}"
                if games == 1:
                    cases[name] = lambda s=n_steps, o=obs, c=copy: time_ours_single(s, obs_type=o, copy=c)
                else:
                    cases[name] = lambda g=games, s=n_steps, o=obs, c=copy: time_ours_batched(g, s, obs_type=o, copy=c)
        if games > 1:  # the default engine (numba when installed) against the numpy one
            cases[f"ours grid engine=numpy {games}"] = lambda g=games, s=n_steps: time_ours_batched(
                g, s, obs_type="grid", engine="numpy"
            )
    best_rates: dict[str, Rates] = {}
    try:
        for round_ in range(rounds):
            for name, run in cases.items():
                wall, cpu = run()
                old = best_rates.get(name, (0.0, 0.0))
                best_rates[name] = (max(old[0], wall), max(old[1], cpu))
            print(f"  round {round_ + 1}/{rounds} done (load {os.getloadavg()[0]:.2f})", flush=True)
    finally:
        worker.close()
    for name, rates in best_rates.items():
        record(name, rates)
    return best_rates


# ----------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=200_000, help="steps per single-env timing")
    parser.add_argument("--game-steps", type=int, default=2_000_000, help="game steps per vector-env timing")
    parser.add_argument("--repeats", type=int, default=3, help="timings per measurement (the best counts)")
    parser.add_argument("--quick", action="store_true", help="a short smoke run (noisier figures)")
    parser.add_argument("--no-peers", action="store_true", help="skip every peer that needs a venv or a download")
    parser.add_argument("--only-pufferlib", action="store_true", help="only the PufferLib comparison")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds of the PufferLib comparison")
    parser.add_argument(
        "--puffer-steps", type=int, default=1_000_000, help="game steps a timing (PufferLib comparison)"
    )
    args = parser.parse_args()
    if args.quick:
        args.steps, args.game_steps, args.repeats, args.rounds, args.puffer_steps = 20_000, 100_000, 1, 1, 200_000
    steps, game_steps, repeats = args.steps, args.game_steps, args.repeats

    results: dict[str, Rates] = {}

    def record(name: str, rates: Rates) -> None:
        results[name] = rates
        print(f"  {name:40s} {rates[0] / 1e6:8.3f} {rates[1] / 1e6:8.3f}", flush=True)

    print(f"snake_bench: {platform.python_version()}, numpy {np.__version__}, gymnasium {gym.__version__}")
    print(f"load average at start: {os.getloadavg()}")
    puffer: dict[str, Rates] | str = "skipped"
    if not args.no_peers:
        board = f"{PUFFER_BOARD}x{PUFFER_BOARD}"
        print(f"PufferLib 3.0 comparison, {board} board, {args.rounds} interleaved rounds, best of them:")
        puffer = compare_with_pufferlib(args.rounds, args.puffer_steps, lambda name, rates: None)
        if isinstance(puffer, str):
            print("  " + puffer)
        else:
            print(f"  {'agent steps/s, millions':40s} {'wall':>8s} {'cpu':>8s}   ours/PufferLib wall [cpu]")
            for name, rates in puffer.items():
                results[name] = rates
                games = name.rsplit(" ", 1)[1]
                peer = puffer[f"pufferlib {games}"]
                ratio_text = (
                    ""
                    if name.startswith("pufferlib")
                    else (f"   {rates[0] / peer[0]:5.2f}x [{rates[1] / peer[1]:5.2f}x]")
                )
                print(f"  {name:40s} {rates[0] / 1e6:8.3f} {rates[1] / 1e6:8.3f}{ratio_text}", flush=True)
            targets = (("ours grid 1", 1.0), ("ours grid 1024", 1.5), ("ours grid 4096", 2.0))
            for name, target in targets:
                peer = puffer[f"pufferlib {name.rsplit(' ', 1)[1]}"]
                got = puffer[name][0] / peer[0]
                verdict = "met" if got >= target else "NOT met"
                print(f"  target {name} / pufferlib >= {target}: {got:.2f}x wall ({verdict})")
    print(f"load average now: {os.getloadavg()}")
    if args.only_pufferlib:
        write_report(args, results, {}, {}, puffer)
        return

    print(f"random-action steps per second, best of {repeats}, in millions:  {'wall':>8s} {'cpu':>8s}")
    print("single env:")
    single = {
        "ours unwrapped grid 10x10": lambda: SnakeEnv(obs_type="grid"),
        "ours unwrapped grid 20x20": lambda: SnakeEnv(obs_type="grid", width=20, height=20),
        "ours gym.make grid 10x10": lambda: gym.make("snake-v0", obs_type="grid"),
        "ours unwrapped rgb 10x10 (40x40x3)": lambda: SnakeEnv(obs_type="rgb"),
        "ours gym.make rgb 10x10 (40x40x3)": lambda: gym.make("snake-v0", obs_type="rgb"),
        "ours unwrapped features 10x10": lambda: SnakeEnv(obs_type="features"),
        "ref pure-Python snake 10x10": PurePythonSnake,
    }
    for name, make in single.items():
        record(name, best(lambda make=make: time_single_env(make, steps), repeats))
    if not args.no_peers:
        peer = time_gym_snake(steps, repeats)
        if isinstance(peer, str):
            print("  " + peer)
        else:
            record(GYM_SNAKE, peer)

    print("batched (game steps):")
    for n in (1, 64, 1024, 4096):
        record(
            f"ours vector grid batch {n}",
            best(lambda n=n: time_vector_env(n, game_steps // (20 if n == 1 else 1)), repeats),
        )
    record("ours vector rgb batch 64", best(lambda: time_vector_env(64, game_steps // 4, obs_type="rgb"), repeats))
    record(
        "ours vector features batch 1024", best(lambda: time_vector_env(1024, game_steps, obs_type="features"), repeats)
    )
    record(
        "ref rough numpy batch 1024",
        best(lambda: time_batched(RoughNumpySnake(1024).step, 1024, game_steps // 2), repeats),
    )

    snake_gym = {} if args.no_peers else inspect_snake_gym()
    print(f"ratios (same run):{'wall':>53s} {'cpu':>7s}")
    ratios = {}

    def ratio(name: str, ours: str, peer: str) -> None:
        if ours in results and peer in results:
            ratios[name] = [results[ours][k] / results[peer][k] for k in (0, 1)]
            print(f"  {name:62s} {ratios[name][0]:6.2f}x {ratios[name][1]:6.2f}x")

    ratio("single unwrapped grid 10x10 / gym-snake (target > 1)", "ours unwrapped grid 10x10", GYM_SNAKE)
    ratio("single unwrapped grid 20x20 / gym-snake (same board)", "ours unwrapped grid 20x20", GYM_SNAKE)
    ratio("single gym.make grid 10x10 / gym-snake", "ours gym.make grid 10x10", GYM_SNAKE)
    ratio("single unwrapped grid 10x10 / pure-Python ref", "ours unwrapped grid 10x10", "ref pure-Python snake 10x10")
    ratio(
        "vector grid batch 1024 / rough numpy batch 1024 (target >= 2)",
        "ours vector grid batch 1024",
        "ref rough numpy batch 1024",
    )
    ratio(
        "vector grid batch 4096 / rough numpy batch 1024", "ours vector grid batch 4096", "ref rough numpy batch 1024"
    )
    ratio("vector grid batch 1024 / single unwrapped grid", "ours vector grid batch 1024", "ours unwrapped grid 10x10")
    if snake_gym:
        print(f"snake-gym==1.8: {snake_gym.get('note') or snake_gym.get('error')} ({snake_gym.get('top_level', '')})")

    write_report(args, results, ratios, snake_gym, puffer)


def write_report(args: argparse.Namespace, results: dict, ratios: dict, snake_gym: dict, puffer: dict | str) -> None:
    OUT.mkdir(exist_ok=True)
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "argv": sys.argv[1:],
        "steps_per_s_wall_cpu": results,
        "ratios": ratios,
        "snake_gym_1_8": snake_gym,
        "pufferlib": puffer if isinstance(puffer, str) else "measured",
        "load_average_end": os.getloadavg(),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    (OUT / "snake_bench.json").write_text(json.dumps(report, indent=2))
    print(f"wrote {OUT / 'snake_bench.json'}")


if __name__ == "__main__":
    main()
