"""Small deterministic envs for the DQN tests: observations that say which episode and step they are."""

from __future__ import annotations

import gymnasium as gym
import numpy as np


class CounterEnv(gym.Env):
    """Observation [episode tag, t]: the tag is drawn from `np_random` at reset, t counts steps.

    The reward of step t (t = 1, 2, ...) is t; the episode terminates after a length drawn in
    [min_length, max_length] at reset, unless `truncate_at` steps come first (then it is truncated).
    Two actions, which do nothing. A transition that spans two episodes is easy to spot: its
    observations have different tags, or t does not go up by one.
    """

    metadata = {"render_modes": []}

    def __init__(self, min_length: int = 3, max_length: int = 8, truncate_at: int | None = None) -> None:
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(2,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.min_length, self.max_length, self.truncate_at = min_length, max_length, truncate_at
        self.tag, self.t, self.length = 0.0, 0, 0

    def _obs(self) -> np.ndarray:
        return np.array([self.tag, self.t], dtype=np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.tag = float(self.np_random.integers(1, 1_000_000))
        self.length = int(self.np_random.integers(self.min_length, self.max_length + 1))
        self.t = 0
        return self._obs(), {}

    def step(self, action):
        if not self.action_space.contains(action):
            raise ValueError(f"action must be 0 or 1, got {action!r}")
        self.t += 1
        terminated = self.t >= self.length
        truncated = not terminated and self.truncate_at is not None and self.t >= self.truncate_at
        return self._obs(), float(self.t), terminated, truncated, {}


class FrameCounterEnv(gym.Env):
    """84x84 uint8 frames whose pixels all equal (episode tag + t) % 256, stacked `stack` deep by
    Gymnasium's `FrameStackObservation` (see `make_stacked`). Episodes last `length` steps."""

    metadata = {"render_modes": []}

    def __init__(self, length: int = 6, size: int = 84) -> None:
        self.observation_space = gym.spaces.Box(0, 255, shape=(size, size), dtype=np.uint8)
        self.action_space = gym.spaces.Discrete(3)
        self.length, self.size, self.tag, self.t = length, size, 0, 0

    def _obs(self) -> np.ndarray:
        return np.full((self.size, self.size), (self.tag + self.t) % 256, dtype=np.uint8)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.tag, self.t = int(self.np_random.integers(1, 200)), 0
        return self._obs(), {}

    def step(self, action):
        self.t += 1
        return self._obs(), 1.0, self.t >= self.length, False, {}


def make_stacked(stack: int = 4, length: int = 6, padding_type: str = "reset") -> gym.Env:
    return gym.wrappers.FrameStackObservation(FrameCounterEnv(length), stack, padding_type=padding_type)


class LivesEnv(gym.Env):
    """A game of `lives` lives of `life_length` steps each, like an Atari game under `EpisodicLife`:
    losing a life terminates the episode with `info["game_over"] = False`, and the next `reset()`
    without a seed continues the game; a seeded reset (or a reset after the last life) starts a new
    game. Observation [game tag, 100 * life + t]; the reward is the life number."""

    metadata = {"render_modes": []}

    def __init__(self, lives: int = 3, life_length: int = 4) -> None:
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(2,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.lives, self.life_length = lives, life_length
        self.tag, self.life, self.t, self.game_over = 0.0, 0, 0, True

    def _obs(self) -> np.ndarray:
        return np.array([self.tag, 100 * self.life + self.t], dtype=np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is not None or self.game_over:
            self.tag, self.life, self.game_over = float(self.np_random.integers(1, 1_000_000)), 0, False
        else:
            self.life += 1
        self.t = 0
        return self._obs(), {}

    def step(self, action):
        self.t += 1
        terminated = self.t >= self.life_length
        self.game_over = terminated and self.life == self.lives - 1
        return self._obs(), float(self.life), terminated, False, {"game_over": self.game_over}
