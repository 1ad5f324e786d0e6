"""The conformance checks must fail on envs that break their promises.

A small, well-behaved toy env passes every check; each broken variant differs from it in exactly
one way, and the check responsible for that way must raise AssertionError.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.vector import AutoresetMode

from gym_conformance import checks
from gym_conformance.checks import EnvCase

LENGTH = 7


class ToyWalk(gym.Env):
    """A slippery walk on 7 cells: start in 2..4, move left/right (20% of moves go the other way),
    +1 at the right end, -1 at the left end (both terminate)."""

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(self, render_mode: str | None = None) -> None:
        self.observation_space = spaces.Discrete(LENGTH)
        self.action_space = spaces.Discrete(2)
        self.render_mode = render_mode
        self.position = 0

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[int, dict]:
        super().reset(seed=seed)
        self.position = int(self.np_random.integers(2, 5))
        return self.position, {"steps": 0}

    def slip(self) -> bool:
        return bool(self.np_random.random() < 0.2)

    def step(self, action: Any) -> tuple[int, float, bool, bool, dict]:
        if not self.action_space.contains(action):
            raise ValueError(f"action {action!r} not in {self.action_space}")
        move = 1 if action == 1 else -1
        if self.slip():
            move = -move
        self.position += move
        terminated = self.position in (0, LENGTH - 1)
        reward = 0.0 if not terminated else (1.0 if self.position == LENGTH - 1 else -1.0)
        return self.position, reward, terminated, False, {"steps": 1}

    def render(self) -> Any:
        if self.render_mode == "ansi":
            return "".join("A" if i == self.position else "." for i in range(LENGTH)) + "\n"
        frame = np.zeros((8, 8 * LENGTH, 3), dtype=np.uint8)
        frame[:, 8 * self.position : 8 * self.position + 8] = 255
        return frame


class ToyWalkVector(gym.vector.VectorEnv):
    """A native vector form of ToyWalk (next-step autoreset), sub-env i seeded `seed + i`."""

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP}
    seed_stride = 1

    def __init__(self, num_envs: int, max_episode_steps: int | None = None, render_mode: str | None = None) -> None:
        self.num_envs = num_envs
        self.envs = [
            gym.wrappers.TimeLimit(ToyWalk(), max_episode_steps) if max_episode_steps else ToyWalk()
            for _ in range(num_envs)
        ]
        self.single_observation_space = self.envs[0].observation_space
        self.single_action_space = self.envs[0].action_space
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space, num_envs)
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, num_envs)
        self.done = np.zeros(num_envs, dtype=bool)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        results = [
            env.reset(seed=None if seed is None else seed + self.seed_stride * i) for i, env in enumerate(self.envs)
        ]
        self.done[:] = False
        return np.array([obs for obs, _ in results]), {
            "steps": np.zeros(self.num_envs, dtype=int),
            "_steps": np.ones(self.num_envs, dtype=bool),
        }

    def step(self, actions: np.ndarray) -> tuple:
        obs, rewards = np.zeros(self.num_envs, dtype=np.int64), np.zeros(self.num_envs)
        terminated, truncated = np.zeros(self.num_envs, dtype=bool), np.zeros(self.num_envs, dtype=bool)
        steps = np.zeros(self.num_envs, dtype=int)
        for i, env in enumerate(self.envs):
            if self.done[i]:
                obs[i], _ = env.reset()
            else:
                obs[i], rewards[i], terminated[i], truncated[i], info = env.step(int(actions[i]))
                steps[i] = info["steps"]
        self.done = terminated | truncated
        return obs, rewards, terminated, truncated, {"steps": steps, "_steps": np.ones(self.num_envs, dtype=bool)}


# ----------------------------------------------------------------- broken variants, one flaw each
class IgnoresSeed(ToyWalk):
    def reset(self, *, seed=None, options=None):
        self._np_random = np.random.default_rng()  # fresh OS entropy every reset: the seed is ignored
        self.position = int(self.np_random.integers(2, 5))
        return self.position, {"steps": 0}


class FixedSeed(ToyWalk):
    def reset(self, *, seed=None, options=None):
        return super().reset(seed=0)


class UsesGlobalRandom(ToyWalk):
    def slip(self) -> bool:
        return bool(np.random.random() < 0.2)  # noqa: NPY002 (the fault this toy env plants)


class ObservationOutOfSpace(ToyWalk):
    def step(self, action):
        obs, *rest = super().step(action)
        return (LENGTH if obs == LENGTH - 1 else obs), *rest


class ClipsActions(ToyWalk):
    def step(self, action):
        try:
            action = int(np.clip(int(action), 0, 1))
        except (TypeError, ValueError):
            action = 0
        return super().step(action)


class IntegerFlags(ToyWalk):
    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        return obs, reward, int(terminated), int(truncated), info


class Unpicklable(ToyWalk):
    def reset(self, *, seed=None, options=None):
        self.on_step = lambda: None  # lambdas cannot be pickled
        return super().reset(seed=seed, options=options)


class SharedStateCopy(ToyWalk):
    """Keeps its position in a shared list, so a copy and the original move each other."""

    shared: list[int] = [0]

    @property
    def position(self) -> int:
        return self.shared[0]

    @position.setter
    def position(self, value: int) -> None:
        self.shared[0] = value


class FloatFrames(ToyWalk):
    def render(self):
        frame = super().render()
        return frame.astype(np.float64) if isinstance(frame, np.ndarray) else frame


class CloseOnce(ToyWalk):
    def close(self):
        if getattr(self, "closed", False):
            raise RuntimeError("already closed")
        self.closed = True


class VectorSeedsWrong(ToyWalkVector):
    seed_stride = 2


class VectorNeverResets(ToyWalkVector):
    def step(self, actions):
        self.done[:] = False
        return super().step(actions)


def _register(name: str, entry_point: Callable, vector: Callable | None = None) -> str:
    env_id = f"bites/{name}-v0"
    if env_id not in gym.registry:
        gym.register(env_id, entry_point=entry_point, vector_entry_point=vector, max_episode_steps=40)
    return env_id


GOOD = EnvCase(_register("ToyWalk", ToyWalk, ToyWalkVector))

BROKEN = [
    (IgnoresSeed, None, checks.check_determinism, "same seed"),
    (FixedSeed, None, checks.check_determinism, "ignores its seed"),
    (UsesGlobalRandom, None, checks.check_determinism, "global RNG"),
    (ObservationOutOfSpace, None, checks.check_observations_in_space, "not in Discrete"),
    (ClipsActions, None, checks.check_invalid_actions_raise, "were accepted"),
    (IntegerFlags, None, checks.check_passive_checker, "passive env checker warned"),
    (Unpicklable, None, checks.check_pickle_roundtrip, "could not be cloned"),
    (SharedStateCopy, None, checks.check_deepcopy_roundtrip, "restored by copy.deepcopy"),
    (FloatFrames, None, checks.check_render_modes, "rgb_array gave"),
    (CloseOnce, None, checks.check_close_twice, "close"),
    (ToyWalk, VectorSeedsWrong, checks.check_vector_matches_single, "sub-env"),
    (ToyWalk, VectorNeverResets, checks.check_vector_matches_single, "sub-env"),
]


@pytest.mark.parametrize("check", checks.ALL_CHECKS, ids=lambda check: check.__name__.removeprefix("check_"))
def test_good_toy_env_passes(check: Callable[[EnvCase], None]) -> None:
    check(GOOD)


@pytest.mark.parametrize(
    ("env_class", "vector_class", "check", "message"),
    BROKEN,
    ids=[(vector or env).__name__ for env, vector, _, _ in BROKEN],
)
def test_broken_env_fails_its_check(env_class: type, vector_class: type | None, check: Callable, message: str) -> None:
    name = (vector_class or env_class).__name__
    case = EnvCase(_register(name, env_class, vector_class))
    with warnings.catch_warnings():  # Gymnasium's own wrappers warn about some of these faults too
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(AssertionError, match=message):
            check(case)
