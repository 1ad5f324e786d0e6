"""The conformance checks: plain functions that raise AssertionError when an env breaks the
Gymnasium API or its own promises (determinism, spaces, pickling, rendering, vector equality), and
`NotApplicable` when a check cannot run on it (the reason says why).

Each check takes an `EnvCase` (an id plus make kwargs). `gym_conformance.check_conformance` runs them
all and returns a report; the pytest plugin and `python -m gym_conformance` are built on it.
"""

from __future__ import annotations

import copy
import functools
import pickle
import random
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils.env_checker import check_env as gymnasium_check_env
from gymnasium.vector import AutoresetMode

N_STEPS = 300
SEED = 12345


@dataclass(frozen=True)
class EnvCase:
    """An env id with the keyword arguments to make it, and what the checks may expect of it."""

    env_id: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    stochastic: bool = True  # different seeds must give different trajectories
    n_steps: int = N_STEPS

    @property
    def name(self) -> str:
        if not self.kwargs:
            return self.env_id
        return self.env_id + "[" + ",".join(f"{k}={v}" for k, v in sorted(self.kwargs.items())) + "]"

    def make(self, **extra: Any) -> gym.Env:
        return gym.make(self.env_id, **{**self.kwargs, **extra})


class NotApplicable(Exception):
    """Raised by a check that cannot run on this env; the message says why (e.g. SB3 missing)."""


# --------------------------------------------------------------------------- helpers
def assert_same(a: Any, b: Any, where: str = "value") -> None:
    """Exact equality through tuples, lists, dicts and numpy arrays (dtype and shape included)."""
    if isinstance(a, dict) or isinstance(b, dict):
        assert isinstance(a, dict) and isinstance(b, dict), f"{where}: {type(a).__name__} vs {type(b).__name__}"
        assert a.keys() == b.keys(), f"{where}: keys differ: {sorted(a)} vs {sorted(b)}"
        for key in a:
            assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (tuple, list)) or isinstance(b, (tuple, list)):
        assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
        assert len(a) == len(b), f"{where}: lengths {len(a)} vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype and a.shape == b.shape, f"{where}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}"
        assert np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"), f"{where}: arrays differ"
    else:
        same = a == b or (isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b))
        assert same, f"{where}: {a!r} != {b!r}"


def action_mask(env: gym.Env | None, info: dict) -> np.ndarray | None:
    """The env's current action mask: `info["action_mask"]`, else `env.unwrapped.action_masks()`, else None."""
    mask = info.get("action_mask")
    if mask is None and env is not None:
        action_masks = getattr(env.unwrapped, "action_masks", None)
        if callable(action_masks):
            mask = action_masks()
    return None if mask is None else np.asarray(mask, dtype=np.int8)


class ActionPicker:
    """Seeded random actions that respect the env's action mask (info or `action_masks()`) when it has one."""

    def __init__(self, space: gym.Space, seed: int, env: gym.Env | None = None) -> None:
        self.space = copy.deepcopy(space)
        self.space.seed(seed)
        self.env = env

    def __call__(self, info: dict) -> Any:
        mask = action_mask(self.env, info) if isinstance(self.space, gym.spaces.Discrete) else None
        return self.space.sample() if mask is None else self.space.sample(mask=mask)


class _MaskedSampling(gym.spaces.Discrete):
    """A Discrete space whose plain `sample()` draws only actions the env's current mask allows.

    Gymnasium's and SB3's checkers step with `action_space.sample()`; on an env that reports an
    action mask this keeps them to the actions the env allows (an env may rightly raise on others)."""

    def __init__(self, space: gym.spaces.Discrete, current_mask: Callable[[], np.ndarray | None]) -> None:
        super().__init__(int(space.n), start=int(space.start))
        self._current_mask = current_mask

    def sample(self, mask: Any = None, probability: Any = None) -> np.int64:
        if mask is None and probability is None:
            mask = self._current_mask()
        return super().sample(mask=mask, probability=probability)


def _reports_action_mask(case: EnvCase) -> bool:
    """Whether the env gives an action mask after a reset (asked of a separate instance)."""
    probe = case.make()
    try:
        _, info = probe.reset(seed=SEED)
        return isinstance(probe.action_space, gym.spaces.Discrete) and action_mask(probe, info) is not None
    finally:
        probe.close()


def _sample_with_mask(env: gym.Env, case: EnvCase) -> None:
    """If the env reports an action mask, make `env`'s action space sample with it (for external
    checkers): the unwrapped env's reset/step are wrapped to remember the last info, its space replaced.
    An env without a mask is left exactly as made."""
    if not _reports_action_mask(case):
        return
    base = env.unwrapped
    last_info: dict[str, dict] = {"info": {}}

    def remembering(method: Callable) -> Callable:
        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            last_info["info"] = result[-1]
            return result

        return call

    # deliberately replaces the instance's bound methods with remembering wrappers
    base.reset, base.step = remembering(base.reset), remembering(base.step)  # type: ignore[method-assign]
    assert isinstance(base.action_space, gym.spaces.Discrete)  # as _reports_action_mask checked
    base.action_space = _MaskedSampling(base.action_space, lambda: action_mask(base, last_info["info"]))


def rollout(env: gym.Env, seed: int, n_steps: int, action_seed: int = SEED) -> list[tuple]:
    """Reset with `seed`, take `n_steps` seeded random actions (resetting without a seed when an
    episode ends) and return every transition as a tuple."""
    obs, info = env.reset(seed=seed)
    return [("reset", obs, info), *continue_rollout(env, info, n_steps, action_seed)]


def continue_rollout(env: gym.Env, info: dict, n_steps: int, action_seed: int = SEED + 1) -> list[tuple]:
    """Like `rollout`, but from the env's current state (its last info given) instead of a reset."""
    pick = ActionPicker(env.action_space, action_seed, env)
    trace: list[tuple] = []
    for _ in range(n_steps):
        action = pick(info)
        obs, reward, terminated, truncated, info = env.step(action)
        trace.append((action, obs, reward, terminated, truncated, info))
        if terminated or truncated:
            obs, info = env.reset()
            trace.append(("reset", obs, info))
    return trace


def _collect_warnings(fn: Callable[[], Any]) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [f"{w.category.__name__}: {w.message}" for w in caught]


def invalid_actions(space: gym.Space) -> list[Any]:
    """Values that are not in `space` and that a careless env might accept."""
    if isinstance(space, gym.spaces.Discrete):
        low, high = int(space.start), int(space.start + space.n)
        return [low - 1, high, high + 7, 0.5, "0", None]
    if isinstance(space, gym.spaces.Box):
        return [np.zeros(space.shape + (2,), dtype=space.dtype), np.full(space.shape, np.nan, dtype=np.float64)]
    if isinstance(space, gym.spaces.MultiDiscrete):
        return [space.nvec, -np.ones_like(space.nvec)]
    return [None]


# --------------------------------------------------------------------------- checks
def check_gymnasium_env_checker(case: EnvCase) -> None:
    """Gymnasium's `check_env` passes on the unwrapped env without a single warning (its random
    actions follow the env's action mask when it reports one)."""
    env = case.make()
    _sample_with_mask(env, case)
    try:
        messages = _collect_warnings(lambda: gymnasium_check_env(env.unwrapped))
    finally:
        env.close()
    assert not messages, "gymnasium check_env warned:\n" + "\n".join(messages)


def check_sb3_env_checker(case: EnvCase) -> None:
    """Stable-Baselines3's `check_env` passes without a single warning (its random actions follow
    the env's action mask when it reports one). Not applicable when stable-baselines3 is not installed."""
    try:
        from stable_baselines3.common import env_checker as sb3_env_checker
    except ImportError as error:
        raise NotApplicable(f"stable-baselines3 is not installed ({error})") from error
    env = case.make()
    _sample_with_mask(env, case)
    try:
        messages = _collect_warnings(lambda: sb3_env_checker.check_env(env, warn=True))
    finally:
        env.close()
    assert not messages, "SB3 check_env warned:\n" + "\n".join(messages)


def check_passive_checker(case: EnvCase) -> None:
    """Gymnasium's passive checker (added by gym.make) sees reset, steps and renders without a warning."""

    def exercise() -> None:
        env = case.make(disable_env_checker=False)
        rollout(env, seed=SEED, n_steps=20)
        env.close()

    messages = _collect_warnings(exercise)
    assert not messages, "the passive env checker warned:\n" + "\n".join(messages)


def check_observations_in_space(case: EnvCase) -> None:
    """Every observation lies in the observation space; rewards are finite numbers, flags are bools,
    infos are dicts, and an `action_mask` in info matches the action space (and `action_masks()`)."""
    env = case.make()
    space = env.observation_space
    n_actions = getattr(env.action_space, "n", None)
    for i, step in enumerate(rollout(env, seed=SEED, n_steps=case.n_steps)):
        obs, info = step[1], step[-1]
        assert space.contains(obs), f"transition {i}: observation {obs!r} is not in {space}"
        assert isinstance(info, dict), f"transition {i}: info is a {type(info).__name__}, not a dict"
        if step[0] != "reset":
            _, _, reward, terminated, truncated, _ = step
            assert isinstance(reward, (int, float, np.integer, np.floating)) and np.isfinite(reward), (
                f"reward {reward!r}"
            )
            assert isinstance(terminated, (bool, np.bool_)) and isinstance(truncated, (bool, np.bool_)), (
                "flags must be bool"
            )
        if "action_mask" in info:
            mask = info["action_mask"]
            assert isinstance(mask, np.ndarray) and mask.dtype == np.int8 and mask.shape == (n_actions,), (
                f"info['action_mask'] must be an int8 array of shape ({n_actions},), got {mask!r}"
            )
            assert mask.any(), f"transition {i}: no action allowed"
    if hasattr(env.unwrapped, "action_masks") and "action_mask" in info:
        assert_same(env.unwrapped.action_masks().astype(np.int8), info["action_mask"], "action_masks()")
    env.close()


def _numpy_global_key() -> np.ndarray:
    """The key array of numpy's global MT19937 state."""
    state = np.random.get_state()  # noqa: NPY002 (the check watches the legacy global RNG)
    assert isinstance(state, tuple)
    return state[1]


def check_determinism(case: EnvCase) -> None:
    """Same seed and actions give identical transitions; reset(seed=s) twice gives the same start;
    randomness comes only from the env's own generator (the global numpy/random states are untouched);
    different seeds give different trajectories when the env is stochastic."""
    global_state = (_numpy_global_key().copy(), random.getstate())
    first = rollout(case.make(), seed=SEED, n_steps=case.n_steps)
    assert np.array_equal(_numpy_global_key(), global_state[0]), "the env used numpy's global RNG"
    assert random.getstate() == global_state[1], "the env used Python's global `random` RNG"
    second = rollout(case.make(), seed=SEED, n_steps=case.n_steps)
    assert_same(first, second, "rollout with the same seed")

    env = case.make()
    start = env.reset(seed=SEED)
    rollout(env, seed=SEED + 1, n_steps=10)
    assert_same(env.reset(seed=SEED), start, "reset(seed) after some steps")
    env.close()

    if case.stochastic:
        others = [rollout(case.make(), seed=SEED + k, n_steps=case.n_steps) for k in (1, 2, 3)]
        diverged = []
        for other in others:
            try:
                assert_same(first, other)
                diverged.append(False)
            except AssertionError:
                diverged.append(True)
        assert any(diverged), "different seeds gave identical trajectories: the env ignores its seed"


def _check_clone(case: EnvCase, clone: Callable[[gym.Env], gym.Env], how: str) -> None:
    env = case.make()
    trace = rollout(env, seed=SEED, n_steps=case.n_steps // 2)
    try:
        twin = clone(env)
    except Exception as error:
        raise AssertionError(f"the env could not be cloned by {how} mid-episode: {error!r}") from error
    info = trace[-1][-1]
    original = continue_rollout(env, info, case.n_steps // 2)
    copied = continue_rollout(twin, info, case.n_steps // 2)
    assert_same(original, copied, f"an env restored by {how} mid-episode")
    env.close()
    twin.close()


def check_pickle_roundtrip(case: EnvCase) -> None:
    """An env pickled and unpickled mid-episode continues exactly like the original."""
    _check_clone(case, lambda env: pickle.loads(pickle.dumps(env)), "pickle")


def check_deepcopy_roundtrip(case: EnvCase) -> None:
    """A deep copy made mid-episode continues exactly like the original."""
    _check_clone(case, copy.deepcopy, "copy.deepcopy")


def check_render_modes(case: EnvCase) -> None:
    """Every declared render mode returns its documented type: rgb_array a non-blank uint8 HxWx3
    array, ansi a non-empty str, human None (with a window that closes cleanly)."""
    env = case.make()
    modes = env.metadata.get("render_modes", [])
    env.close()
    if any(mode in modes for mode in ("human", "rgb_array")):
        fps = env.metadata.get("render_fps")
        assert isinstance(fps, (int, float)) and fps > 0, (
            f"metadata['render_fps'] must be a positive number, got {fps!r}"
        )
    for mode in modes:
        env = case.make(render_mode=mode)
        assert env.render_mode == mode, f"render_mode={mode!r} was not stored on the env"
        pick = ActionPicker(env.action_space, SEED, env)
        _, info = env.reset(seed=SEED)
        for _ in range(3):
            frame = env.render()
            if mode == "rgb_array":
                assert isinstance(frame, np.ndarray) and frame.dtype == np.uint8, (
                    f"rgb_array gave {type(frame).__name__}"
                )
                assert frame.ndim == 3 and frame.shape[2] == 3, (
                    f"rgb_array frame has shape {frame.shape}, expected HxWx3"
                )
                assert frame.min() != frame.max(), "rgb_array frame is blank (one colour)"
            elif mode == "ansi":
                assert isinstance(frame, str) and frame.strip(), f"ansi gave {frame!r}, expected a non-empty str"
            elif mode == "human":
                assert frame is None, f"human rendering returned {type(frame).__name__}, expected None"
            elif mode.endswith("_list"):
                assert isinstance(frame, list), f"{mode} gave {type(frame).__name__}, expected a list"
            _, _, terminated, truncated, info = env.step(pick(info))
            if terminated or truncated:
                _, info = env.reset()
        env.close()
        env.close()


def check_close_twice(case: EnvCase) -> None:
    """close() is harmless twice, before any reset, and after an episode."""
    for steps in (None, 5):
        env = case.make()
        if steps is not None:
            rollout(env, seed=SEED, n_steps=steps)
        for attempt in ("first", "second"):
            try:
                env.close()
            except Exception as error:
                raise AssertionError(f"the {attempt} close() raised {error!r}") from error


def check_invalid_actions_raise(case: EnvCase) -> None:
    """An action outside the action space raises instead of being clipped or ignored."""
    env = case.make().unwrapped
    accepted = []
    for action in invalid_actions(env.action_space):
        env.reset(seed=SEED)
        try:
            env.step(action)
        except Exception:  # any exception type: what matters is that the env refuses the action
            continue
        accepted.append(action)
    env.close()
    assert not accepted, f"actions outside {env.action_space} were accepted: {accepted!r}"


def _sub_info(vector_info: dict, i: int) -> dict:
    """The info of sub-env i from a vector env's batched info (entries masked by `_key`)."""
    info = {}
    for key, value in vector_info.items():
        if key.startswith("_"):
            continue
        present = vector_info.get("_" + key)
        if present is not None and not present[i]:
            continue
        info[key] = _sub_info(value, i) if isinstance(value, dict) else value[i]
    return info


def _info_values_equal(single: dict, batched: dict, where: str) -> None:
    assert single.keys() == batched.keys(), f"{where}: keys {sorted(single)} vs {sorted(batched)}"
    for key, value in single.items():
        if isinstance(value, dict):
            _info_values_equal(value, batched[key], f"{where}[{key!r}]")
        else:
            assert np.array_equal(np.asarray(value), np.asarray(batched[key])), (
                f"{where}[{key!r}]: {value!r} vs {batched[key]!r}"
            )


def check_vector_matches_single(case: EnvCase, num_envs: int = 4, seed: int = SEED) -> None:
    """Sub-env i of `gym.make_vec` (the registered native vector env, or SyncVectorEnv when there is
    none) equals a single env seeded `seed + i`, step for step, autoreset included.

    Infos are compared only for native vector envs: SyncVectorEnv batches each info key into an
    array typed by its first value, so e.g. FrozenLake's int `prob` at reset truncates later float
    probabilities to 0 (a Gymnasium quirk, not the env's fault)."""
    spec = gym.spec(case.env_id) if ":" not in case.env_id else gym.make(case.env_id).spec
    assert spec is not None  # a registered id has a spec, and so does an env gym.make made
    mode = "vector_entry_point" if spec.vector_entry_point is not None else "sync"
    compare_infos = mode == "vector_entry_point"
    venv = gym.make_vec(case.env_id, num_envs=num_envs, vectorization_mode=mode, **case.kwargs)
    singles = [case.make() for _ in range(num_envs)]
    autoreset = venv.metadata.get("autoreset_mode")
    assert isinstance(autoreset, AutoresetMode), (
        f"metadata['autoreset_mode'] is {autoreset!r}, expected an AutoresetMode"
    )
    assert venv.single_observation_space == singles[0].observation_space, (
        "single_observation_space differs from the env's"
    )
    assert venv.single_action_space == singles[0].action_space, "single_action_space differs from the env's"

    obs, vinfo = venv.reset(seed=seed)
    starts = [env.reset(seed=seed + i) for i, env in enumerate(singles)]
    infos = [info for _, info in starts]
    for i, (single_obs, single_info) in enumerate(starts):
        assert_same(single_obs, _batched_item(obs, i), f"reset obs of sub-env {i}")
        if compare_infos:
            _info_values_equal(single_info, _sub_info(vinfo, i), f"reset info of sub-env {i}")

    picks = [ActionPicker(venv.single_action_space, SEED + i, singles[i]) for i in range(num_envs)]
    pending_reset = [False] * num_envs
    episodes_ended = 0
    for t in range(case.n_steps):
        actions = [pick(info) for pick, info in zip(picks, infos)]
        obs, rewards, terminateds, truncateds, vinfo = venv.step(np.array(actions))
        for i, env in enumerate(singles):
            where = f"step {t}, sub-env {i}"
            if pending_reset[i]:  # NEXT_STEP: this step only resets sub-env i
                single_obs, infos[i] = env.reset()
                expected = (single_obs, 0.0, False, False)
                pending_reset[i] = False
            else:
                single_obs, reward, terminated, truncated, infos[i] = env.step(actions[i])
                expected = (single_obs, float(reward), bool(terminated), bool(truncated))
                if terminated or truncated:
                    episodes_ended += 1
                    if autoreset == AutoresetMode.NEXT_STEP:
                        pending_reset[i] = True
                    elif autoreset == AutoresetMode.SAME_STEP:  # the final obs/info come in info
                        final = _sub_info(vinfo, i)
                        assert_same(single_obs, final.get("final_obs"), f"{where}: final_obs")
                        if compare_infos:
                            _info_values_equal(infos[i], final.get("final_info", {}), f"{where}: final_info")
                        single_obs, infos[i] = env.reset()
                        expected = (single_obs, *expected[1:])
                    else:
                        raise AssertionError(f"autoreset mode {autoreset} is not supported by this check")
            got = (_batched_item(obs, i), float(rewards[i]), bool(terminateds[i]), bool(truncateds[i]))
            assert_same(expected[0], got[0], f"{where}: observation")
            assert expected[1:] == got[1:], f"{where}: (reward, terminated, truncated) {expected[1:]} vs {got[1:]}"
            if compare_infos:
                sub = {k: v for k, v in _sub_info(vinfo, i).items() if k not in ("final_obs", "final_info")}
                _info_values_equal(infos[i], sub, f"{where}: info")
    venv.close()
    for env in singles:
        env.close()
    assert episodes_ended > 0, (
        f"no episode ended in {case.n_steps} steps, so autoreset was not exercised; raise n_steps"
    )


def _batched_item(batch: Any, i: int) -> Any:
    if isinstance(batch, dict):
        return {k: _batched_item(v, i) for k, v in batch.items()}
    if isinstance(batch, tuple):
        return tuple(_batched_item(v, i) for v in batch)
    return batch[i]


ALL_CHECKS: tuple[Callable[[EnvCase], None], ...] = (
    check_gymnasium_env_checker,
    check_sb3_env_checker,
    check_passive_checker,
    check_observations_in_space,
    check_determinism,
    check_pickle_roundtrip,
    check_deepcopy_roundtrip,
    check_render_modes,
    check_close_twice,
    check_invalid_actions_raise,
    check_vector_matches_single,
)
