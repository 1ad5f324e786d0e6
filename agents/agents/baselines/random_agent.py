"""The uniform random policy as an `Agent` (`random`): the floor every learner must clear.

It learns nothing, but `train` still plays its `total_steps` env steps (so the comparison runner
evaluates it at the same points and reports its speed like any other algorithm), and `act` draws
from the action space, only among the allowed actions when the env gives an action mask.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from agents.base import Agent, Callback
from agents.common.checkpoint import CheckpointError, load_npz, save_npz
from agents.common.rollout import play_steps


@dataclass
class RandomConfig:
    """The random policy has no hyperparameters."""


class RandomAgent(Agent):
    """Uniformly random actions, `random`.

    ## Acting
    `act(obs)` samples the action space (seeded by the agent's seed); `act(obs, action_mask=m)`
    samples only actions with `m[a] == 1`. `greedy` is ignored: the policy is random either way.

    ## Training
    Plays `total_steps` steps of a single env (reset with the agent's seed first), recording
    episodes in `episode_log`; nothing is learned.
    """

    algo = "random"
    Config = RandomConfig
    uses_action_mask: ClassVar[bool] = True

    def __init__(self, env: gym.Env, config: Any = None, *, seed: int = 0) -> None:
        super().__init__(env, config, seed=seed)
        self._sampler = copy.deepcopy(self.action_space)
        self._sampler.seed(seed)

    def act(self, obs: Any, *, greedy: bool = True, action_mask: Any = None) -> Any:
        if action_mask is not None and isinstance(self._sampler, gym.spaces.Discrete):
            return int(self._sampler.sample(mask=np.asarray(action_mask, dtype=np.int8)))
        action = self._sampler.sample()
        return int(action) if isinstance(self._sampler, gym.spaces.Discrete) else action

    def train(
        self,
        env: gym.Env | gym.vector.VectorEnv,
        total_steps: int,
        *,
        callback: Callback | None = None,
        log_dir: str | Path | None = None,
        progress: bool = True,
    ) -> RandomAgent:
        if isinstance(env, gym.vector.VectorEnv):
            raise ValueError("the random agent plays a single env; pass gym.make(id), not a vector env")
        play_steps(
            self,
            env,
            total_steps,
            lambda obs, info: self.act(obs, action_mask=info.get("action_mask")),
            callback=callback,
            log_dir=log_dir,
            progress=progress,
        )
        return self

    def save(self, path: str | Path) -> None:
        save_npz(path, self.algo, {"seed": self.seed}, {})

    @classmethod
    def load(cls, path: str | Path, env: gym.Env | None = None) -> RandomAgent:
        meta, _ = load_npz(path, expected_algo=cls.algo)
        if env is None:
            raise ValueError("the random agent needs the env to know its action space: load(path, env)")
        seed = meta.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise CheckpointError(f"{path}: seed must be a non-negative integer, got {seed!r}")
        return cls(env, seed=seed)
