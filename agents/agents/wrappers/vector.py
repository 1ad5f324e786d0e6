"""A vector env that runs several sub-envs per worker process (few processes, one message per worker).

Gymnasium's ``AsyncVectorEnv`` starts one process per sub-env and exchanges one message per sub-env
and step; with 8 Atari games on 2 cores most of that is overhead. ``BatchedProcessVectorEnv`` splits the
sub-envs into ``num_workers`` contiguous groups, each stepped in turn by one process; observations,
rewards and done flags travel through shared memory, infos in one message per worker. A process that
waits for the other side polls briefly before it sleeps (``spin_s``), so that the lock step does not
pay a wake-up twice per step.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.shared_memory import SharedMemory
from typing import Any, cast

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space


class EnvGroup:
    """Sub-envs ``start..stop-1`` of a vector env, stepped one after another with NEXT_STEP autoreset,
    writing into the (shared) batch arrays ``obs``, ``rewards``, ``terminations``, ``truncations``."""

    def __init__(self, env_fns: Sequence[Callable[[], gym.Env]], start: int, arrays: dict[str, np.ndarray]) -> None:
        self.envs = [fn() for fn in env_fns]
        self.start = start
        self.stop = start + len(self.envs)
        self.arrays = arrays
        self.needs_reset = [False] * len(self.envs)

    def reset(self, seeds: Sequence[int | None], options: dict[str, Any] | None) -> list[dict[str, Any]]:
        obs = self.arrays["obs"]
        infos = []
        for j, (env, seed) in enumerate(zip(self.envs, seeds)):
            obs[self.start + j], info = env.reset(seed=seed, options=options)
            infos.append(info)
        self.needs_reset = [False] * len(self.envs)
        return infos

    def step(self) -> list[dict[str, Any]]:
        a = self.arrays
        infos = []
        for j, env in enumerate(self.envs):
            i = self.start + j
            if self.needs_reset[j]:
                a["obs"][i], info = env.reset()
                a["rewards"][i], a["terminations"][i], a["truncations"][i] = 0.0, False, False
                self.needs_reset[j] = False
            else:
                a["obs"][i], reward, terminated, truncated, info = env.step(a["actions"][i])
                a["rewards"][i], a["terminations"][i], a["truncations"][i] = reward, terminated, truncated
                self.needs_reset[j] = bool(terminated or truncated)
            infos.append(info)
        return infos

    def close(self) -> None:
        for env in self.envs:
            env.close()


def batch_infos(per_env: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Sub-env infos batched as Gymnasium's ``VectorEnv._add_info`` does (key -> array typed by its first
    value, zeros where absent, ``_key`` -> bool mask; nested dicts likewise), one key at a time rather
    than one (env, key) pair at a time, which halves the cost for Atari's handful of scalar keys."""
    num_envs = len(per_env)
    columns: dict[str, list[tuple[int, Any]]] = {}
    for i, info in enumerate(per_env):
        for key, value in info.items():
            columns.setdefault(key, []).append((i, value))
    batched: dict[str, Any] = {}
    for key, items in columns.items():
        first = items[0][1]
        if len(items) == num_envs:
            mask = np.ones(num_envs, dtype=np.bool_)
        else:
            mask = np.zeros(num_envs, dtype=np.bool_)
            mask[[i for i, _ in items]] = True
        if isinstance(first, dict):
            nested: list[dict[str, Any]] = [{} for _ in range(num_envs)]
            for i, value in items:
                nested[i] = value
            batched[key] = batch_infos(nested)
        elif type(first) in (int, float, bool) or isinstance(first, np.number):
            if len(items) == num_envs:
                batched[key] = np.array([value for _, value in items], dtype=type(first))
            else:
                batched[key] = array = np.zeros(num_envs, dtype=type(first))
                for i, value in items:
                    array[i] = value
        else:
            if isinstance(first, np.ndarray):
                array = np.zeros((num_envs, *first.shape), dtype=first.dtype)
            else:
                array = np.full(num_envs, None, dtype=object)
            for i, value in items:
                array[i] = value
            batched[key] = array
        batched["_" + key] = mask
    return batched


def _array_specs(
    num_envs: int, single_obs: gym.spaces.Box, single_action: gym.Space
) -> dict[str, tuple[tuple, np.dtype]]:
    return {
        "obs": ((num_envs, *single_obs.shape), np.dtype(single_obs.dtype)),
        "actions": ((num_envs, *(single_action.shape or ())), np.dtype(single_action.dtype)),
        "rewards": ((num_envs,), np.dtype(np.float64)),
        "terminations": ((num_envs,), np.dtype(np.bool_)),
        "truncations": ((num_envs,), np.dtype(np.bool_)),
    }


def _views(buffer: memoryview, specs: dict[str, tuple[tuple, np.dtype]]) -> dict[str, np.ndarray]:
    arrays, offset = {}, 0
    for name, (shape, dtype) in specs.items():
        array = np.ndarray(shape, dtype=dtype, buffer=buffer, offset=offset)
        arrays[name] = array
        offset += -(-array.nbytes // 64) * 64  # 64-byte aligned
    return arrays


def _nbytes(specs: dict[str, tuple[tuple, np.dtype]]) -> int:
    return sum(-(-int(np.prod(shape)) * dtype.itemsize // 64) * 64 for shape, dtype in specs.values())


DEFAULT_SPIN_S = 0.001  # seconds a waiting process polls before it sleeps (BatchedProcessVectorEnv's spin_s)
_yield_core: Callable[[], None] = getattr(os, "sched_yield", lambda: None)  # Unix; elsewhere a plain poll


def wait_for_message(conn: Any, spin_s: float) -> None:
    """Return once ``conn`` has a message to read, polling it for up to ``spin_s`` seconds before leaving
    the wait to a blocking ``recv``. A process asleep in ``recv`` is woken late (tens of microseconds on
    bare metal, hundreds in a virtual machine whose idle CPU the host has parked), which a lock step of
    ~2 ms per vector step pays twice; polling keeps the waiting process on its core. Each poll yields the
    core to any other process waiting for it, so that on busy cores (a training process next to the
    workers) polling does not take time from the process it waits for."""
    if spin_s <= 0 or conn.poll():
        return
    deadline = time.perf_counter() + spin_s
    while not conn.poll() and time.perf_counter() < deadline:
        _yield_core()


def _worker(conn, shm_name: str, specs, env_fns, start: int, spin_s: float) -> None:
    shm = SharedMemory(name=shm_name)
    group = None
    try:
        assert shm.buf is not None
        group = EnvGroup(env_fns, start, _views(shm.buf, specs))
        conn.send(("ok", None))
        while True:
            wait_for_message(conn, spin_s)
            command, payload = conn.recv()
            if command == "step":
                conn.send(("ok", group.step()))
            elif command == "reset":
                conn.send(("ok", group.reset(*payload)))
            elif command == "attr":
                conn.send(("ok", [getattr(env, payload) for env in group.envs]))
            elif command == "close":
                break
    except Exception:  # report any failure to the main process, which raises it
        conn.send(("error", traceback.format_exc()))
    finally:
        if group is not None:
            group.close()
        del group
        shm.close()
        conn.close()


class BatchedProcessVectorEnv(VectorEnv):
    """``num_envs`` sub-envs split between this process and ``num_workers`` worker processes.

    ## Spaces
    ``single_observation_space``/``single_action_space`` are the sub-envs' (a ``Box`` observation
    space is required); the batched spaces have a leading ``num_envs`` axis.

    ## Behaviour
    The sub-envs are split into ``num_workers + 1`` contiguous groups: the first is stepped in this
    process while the workers step theirs, so two cores need one worker and one message each way per
    step. Sub-env i reset with ``seed`` equals a single env reset with ``seed + i``. ``step`` returns
    arrays of observations, rewards (float64), terminations and truncations, and Gymnasium-style
    batched infos (a dict of arrays, with ``_key`` masks). Autoreset is NEXT_STEP: the step after an
    episode ends resets that sub-env (its action is ignored; reward 0, not done). Observations are
    returned as a new array each call. An exception in a worker closes the vector env and is raised
    here with the worker's traceback; one in this process's sub-envs closes it too.

    ## Arguments
    * ``env_fns``: picklable callables that each make one sub-env.
    * ``num_workers``: worker processes besides this one (default: CPU cores - 1, at most
      ``num_envs - 1``); 0 steps every sub-env in this process.
    * ``spin_s``: how long a waiting process polls for the other side's message before it sleeps
      (default 0.001 s; at most 1). The workers poll for the next command after each reply, this process
      for the workers' replies, yielding the core between polls to any other process that wants it; on
      2 free cores this makes 8 Atari games 6-8% faster (``benchmarks/RESULTS.md``). 0: sleep at once.
    * ``context``: multiprocessing start method (default ``"fork"`` on Linux, which works from a plain
      script; ``"spawn"`` elsewhere, which needs the ``if __name__ == "__main__":`` guard). The workers
      only run the envs, so forking a process that has loaded torch is safe.

    ## Version history
    * v0: first release.
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        env_fns: Sequence[Callable[[], gym.Env]],
        *,
        num_workers: int | None = None,
        spin_s: float = DEFAULT_SPIN_S,
        context: str | None = None,
    ) -> None:
        self._conns: list[Any] = []
        self._processes: list[Any] = []
        self._local: EnvGroup | None = None
        self._shm: SharedMemory | None = None
        self.num_envs = len(env_fns)
        if self.num_envs < 1:
            raise ValueError("BatchedProcessVectorEnv needs at least one env_fn")
        if num_workers is None:
            num_workers = min(self.num_envs, os.cpu_count() or 1) - 1
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or not 0 <= num_workers < self.num_envs:
            raise ValueError(f"num_workers must be an int in 0..num_envs-1={self.num_envs - 1}, got {num_workers!r}")
        self.num_workers = num_workers
        if isinstance(spin_s, bool) or not isinstance(spin_s, (int, float)) or not 0 <= spin_s <= 1:
            raise ValueError(f"spin_s must be a number of seconds in 0..1, got {spin_s!r}")
        self.spin_s = float(spin_s)
        probe = env_fns[0]()
        self.single_observation_space = probe.observation_space
        self.single_action_space = probe.action_space
        self.metadata = {**probe.metadata, "autoreset_mode": AutoresetMode.NEXT_STEP}
        self.render_mode = None
        probe.close()
        if not isinstance(self.single_observation_space, gym.spaces.Box):
            raise TypeError(f"BatchedProcessVectorEnv needs Box observations, got {self.single_observation_space}")
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        specs = _array_specs(self.num_envs, self.single_observation_space, self.single_action_space)
        self._shm = SharedMemory(create=True, size=_nbytes(specs))
        assert self._shm.buf is not None
        self._arrays = _views(self._shm.buf, specs)
        bounds = [int(b) for b in np.linspace(0, self.num_envs, num_workers + 2).round()]
        self._groups = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]  # [this process, *workers]
        if context is None:  # fork needs no `if __name__ == "__main__":` guard in the user's script
            context = "fork" if sys.platform.startswith("linux") else "spawn"
        ctx: Any = mp.get_context(context)  # a fork/spawn context (typeshed's BaseContext has no Process)
        for group in self._groups[1:]:
            parent, child = ctx.Pipe()
            args = (child, self._shm.name, specs, list(env_fns[group]), group.start, self.spin_s)
            process = ctx.Process(target=_worker, args=args, daemon=True)
            process.start()
            child.close()
            self._conns.append(parent)
            self._processes.append(process)
        self._local = EnvGroup(env_fns[self._groups[0]], 0, self._arrays)
        self._receive_all()

    # ----------------------------------------------------------------------- messaging
    def _receive_all(self) -> list[Any]:
        replies: list[Any] = []
        errors: list[str] = []
        for conn in self._conns:
            try:
                wait_for_message(conn, self.spin_s)
                status, payload = conn.recv()
            except EOFError:
                status, payload = "error", "the worker process died"
            (replies if status == "ok" else errors).append(payload)
        if errors:
            self.close()
            raise RuntimeError("a BatchedProcessVectorEnv worker failed:\n" + "\n".join(errors))
        return replies

    def _check_open(self) -> None:
        if self.closed:
            raise gym.error.ClosedEnvironmentError("this vector env is closed")

    def _run(self, command: str, local: Callable[[], list[Any]], payloads: Sequence[Any]) -> list[Any]:
        """Send `command` to the workers, run `local()` here meanwhile, and return the per-env replies in
        sub-env order."""
        self._check_open()
        for conn, payload in zip(self._conns, payloads):
            conn.send((command, payload))
        try:
            mine = local()
        except Exception:  # as for a worker's failure: close (after the workers answer), then raise
            try:
                self._receive_all()
            finally:
                self.close()
            raise
        return mine + [item for reply in self._receive_all() for item in reply]

    def _infos(self, per_env: list[dict[str, Any]]) -> dict[str, Any]:
        return batch_infos(per_env)

    def _group(self) -> EnvGroup:
        """The sub-envs this process steps itself; an error once the vector env is closed."""
        if self._local is None:
            raise RuntimeError("this BatchedProcessVectorEnv is closed")
        return self._local

    # ----------------------------------------------------------------------- VectorEnv API
    def reset(self, *, seed: int | Sequence[int | None] | None = None, options: dict[str, Any] | None = None):
        if seed is None:
            seeds: list[int | None] = [None] * self.num_envs
        elif isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
            seeds = [int(seed) + i for i in range(self.num_envs)]
        else:
            seeds = list(cast(Sequence[int | None], seed))
            if len(seeds) != self.num_envs:
                raise ValueError(f"reset got {len(seeds)} seeds for {self.num_envs} sub-envs")
        mine = self._groups[0]
        per_env = self._run(
            "reset",
            lambda: self._group().reset(seeds[mine], options),
            [(seeds[group], options) for group in self._groups[1:]],
        )
        return self._arrays["obs"].copy(), self._infos(per_env)

    def step(self, actions: Any):
        self._check_open()
        actions = np.asarray(actions)
        if actions.shape != self.action_space.shape:
            raise ValueError(f"actions must have shape {self.action_space.shape}, got {actions.shape}")
        self._arrays["actions"][:] = actions
        per_env = self._run("step", self._group().step, [None] * len(self._conns))
        a = self._arrays
        return (
            a["obs"].copy(),
            a["rewards"].copy(),
            a["terminations"].copy(),
            a["truncations"].copy(),
            self._infos(per_env),
        )

    def get_attr(self, name: str) -> tuple[Any, ...]:
        """The attribute ``name`` of every sub-env (e.g. ``"spec"``)."""
        local = lambda: [getattr(env, name) for env in self._group().envs]
        return tuple(self._run("attr", local, [name] * len(self._conns)))

    def close_extras(self, **kwargs: Any) -> None:
        if self._local is not None:
            self._local.close()
            self._local = None
        for conn in self._conns:
            with contextlib.suppress(BrokenPipeError, OSError):
                conn.send(("close", None))
        for process in self._processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
        for conn in self._conns:
            conn.close()
        self._conns, self._processes = [], []
        if self._shm is not None:
            self._arrays = {}
            self._shm.close()
            self._shm.unlink()
            self._shm = None

    def __del__(self) -> None:
        if not getattr(self, "closed", True):
            self.close()
