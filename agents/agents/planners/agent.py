"""`planner`: the reference planners as an `Agent`, so the comparison runner treats them like any algorithm.

A planner reads the true state of the env it acts in (`env.unwrapped`), which no learner sees, so it
is a *privileged reference*: reports show its mean return as the "planner" column and every
algorithm's gap to it, and never rank it with the learners. `act(obs, env=env)` needs that env;
`agents.common.evaluation.evaluate` passes it to agents whose `uses_env_state` is true.

Which planner plays is decided by the env's unwrapped class (`PLANNERS`); any other env raises a
ValueError naming the envs that have one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym

from agents.base import Agent, Callback
from agents.common.checkpoint import load_npz, save_npz
from agents.common.rollout import play_steps
from agents.planners.gridworld import gridworld_action
from agents.planners.snake import SnakePlanner

# unwrapped env class ("module:Class") -> planner kind
PLANNER_ENVS = {"gym_gridworld.gridworld:GridworldEnv": "gridworld", "gym_snake.env:SnakeEnv": "snake"}


def _gridworld() -> Callable[[Any], int]:
    return lambda env: gridworld_action(env.game)


PLANNERS: dict[str, Callable[[], Callable[[Any], int]]] = {"gridworld": _gridworld, "snake": SnakePlanner}


def planner_kind(env: Any) -> str | None:
    """The planner kind for `env` (a single env, any wrappers), or None when there is none."""
    if isinstance(env, gym.vector.VectorEnv) or not hasattr(env, "unwrapped"):
        return None
    unwrapped = type(env.unwrapped)
    return PLANNER_ENVS.get(f"{unwrapped.__module__}:{unwrapped.__name__}")


@dataclass
class PlannerConfig:
    """The planners have no hyperparameters."""


class PlannerAgent(Agent):
    """A reference planner that reads the env's true state, `planner` (gridworld-v0 and snake-v0).

    ## Acting
    `act(obs, env=env)` ignores `obs` and plans from `env.unwrapped`: for gridworld-v0 the first step
    towards the nearest goal avoiding fires (`agents.planners.gridworld`), for snake-v0 the shortest
    path to the food after which the tail stays reachable, else a tail-following move
    (`agents.planners.snake`). Deterministic; `greedy` is ignored.

    ## Training
    Nothing is learned; `train` plays `total_steps` steps of a single env with the planner (reset
    with the agent's seed first), recording episodes, so a comparison evaluates it at the same points
    as every algorithm.

    ## Arguments
    `env`: a single gridworld-v0 or snake-v0 env (any observation type and wrappers).
    """

    algo = "planner"
    Config = PlannerConfig
    privileged: ClassVar[bool] = True
    uses_env_state: ClassVar[bool] = True

    def __init__(self, env: gym.Env, config: Any = None, *, seed: int = 0, kind: str | None = None) -> None:
        super().__init__(env, config, seed=seed)
        self.kind = kind or planner_kind(env)
        if self.kind not in PLANNERS:
            raise ValueError(
                f"the planner has no plan for {getattr(getattr(env, 'spec', None), 'id', None) or env!r}: it reads the "
                f"true state of single envs of these classes only: {', '.join(PLANNER_ENVS)}"
            )
        self._plan = PLANNERS[self.kind]()

    def act(self, obs: Any, *, greedy: bool = True, env: Any = None) -> int:
        if env is None:
            raise ValueError("the planner reads the env's true state: call act(obs, env=env)")
        return int(self._plan(env.unwrapped))

    def train(
        self,
        env: gym.Env | gym.vector.VectorEnv,
        total_steps: int,
        *,
        callback: Callback | None = None,
        log_dir: str | Path | None = None,
        progress: bool = True,
    ) -> PlannerAgent:
        if planner_kind(env) != self.kind:
            raise ValueError(f"this planner plays {self.kind} envs; pass a single one of them, got {env!r}")
        assert not isinstance(env, gym.vector.VectorEnv)  # planner_kind is None for one
        play_steps(
            self,
            env,
            total_steps,
            lambda obs, info: self.act(obs, env=env),
            callback=callback,
            log_dir=log_dir,
            progress=progress,
        )
        return self

    def save(self, path: str | Path) -> None:
        save_npz(path, self.algo, {"seed": self.seed, "kind": self.kind}, {})

    @classmethod
    def load(cls, path: str | Path, env: gym.Env | None = None) -> PlannerAgent:
        meta, _ = load_npz(path, expected_algo=cls.algo)
        if env is None:
            raise ValueError("the planner needs its env to act: load(path, env)")
        return cls(env, seed=int(meta.get("seed", 0)), kind=str(meta.get("kind")))
