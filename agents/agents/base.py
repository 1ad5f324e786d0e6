"""The interface every algorithm implements, and the registry that finds algorithms by name.

An algorithm is a subclass of `Agent` with a `Config` dataclass holding its hyperparameters (each
field has a default and a `help` entry in its metadata, which the CLI turns into flags). Our
hand-written agents and the Stable-Baselines3 adapters share this interface, so the comparison runner
and the CLI treat them all the same way:

    >>> import gymnasium as gym, gym_mdp, tempfile, pathlib
    >>> env = gym.make("mdp-v0")
    >>> agent = make_agent("tabular-q", env, {"gamma": 0.9}, seed=0)
    >>> agent = agent.train(env, total_steps=100_000, progress=False)
    >>> [agent.act(state) for state in range(3)]  # greedy by default: the optimal policy for gamma 0.9
    [0, 0, 1]
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "q.npz"
    >>> agent.save(path); load_agent(path).act(2)
    1
"""

from __future__ import annotations

import abc
import dataclasses
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import gymnasium as gym

from agents.common.checkpoint import CheckpointError, read_algorithm_name
from agents.common.spaces import SpacesOnlyEnv, spaces_of

Callback = Callable[["Agent", int], "bool | None"]
"""Called by `train` after every env step (every vector step for vector envs) with
`(agent, env_steps_so_far)`; returning True stops training early."""

AgentType = TypeVar("AgentType", bound="Agent")

# name -> "module:Class". Imported lazily so that `import agents` does not pull torch or SB3.
ALGORITHMS: dict[str, str] = {}


class Agent(abc.ABC):
    """A learning algorithm bound to an environment's observation and action spaces.

    Subclasses set `algo` (the registry name) and `Config` (a dataclass of hyperparameters) and
    implement `train`, `act`, `save` and `load`. `save` writes one file atomically and never pickles;
    `load` restores an agent that acts identically.
    """

    algo: ClassVar[str]
    Config: ClassVar[type]
    checkpoint_suffix: ClassVar[str] = ".npz"  # ".pt" for torch agents

    def __init__(self, env: gym.Env | gym.vector.VectorEnv, config: Any = None, *, seed: int = 0) -> None:
        self.config = make_config(type(self), config)
        self.seed = seed
        # (env_steps, episode_return, episode_length) of every training episode, filled by `train`
        self.episode_log: list[tuple[int, float, int]] = []
        self.observation_space, self.action_space = spaces_of(env)

    @classmethod
    def from_spaces(
        cls: type[AgentType],
        observation_space: gym.Space,
        action_space: gym.Space,
        config: Any = None,
        *,
        seed: int = 0,
    ) -> AgentType:
        """An agent for these spaces without an env (checkpoint loading; training still needs a real env)."""
        return cls(SpacesOnlyEnv(observation_space, action_space), config, seed=seed)

    @abc.abstractmethod
    def train(
        self,
        env: gym.Env | gym.vector.VectorEnv,
        total_steps: int,
        *,
        callback: Callback | None = None,
        log_dir: str | Path | None = None,
        progress: bool = True,
    ) -> Agent:
        """Interact with `env` for `total_steps` env steps, learning as it goes; returns self.

        A second call continues where the last one stopped (step count, schedules in env steps, buffers);
        `callback(agent, env_steps)` gets the agent's env steps over all calls and stops training when it
        returns True."""

    @abc.abstractmethod
    def act(self, obs: Any, *, greedy: bool = True) -> Any:
        """The action for one observation (or a batch, for agents that support it)."""

    @abc.abstractmethod
    def save(self, path: str | Path) -> None:
        """Write the agent to one file, atomically (temp file, then rename), without pickle."""

    @classmethod
    @abc.abstractmethod
    def load(cls, path: str | Path, env: gym.Env | None = None) -> Agent:
        """Read an agent written by `save`; raises ValueError for a file of another kind."""

    def hyperparameters(self) -> dict[str, Any]:
        """The config as plain JSON-able values."""
        return dataclasses.asdict(self.config)


def register_algorithm(name: str, target: str) -> None:
    """Make `target` ("module:Class") available under `name` to `make_agent`, the CLI and the runner."""
    ALGORITHMS[name] = target


def algorithm_names() -> list[str]:
    return sorted(ALGORITHMS)


def get_agent_class(name: str) -> type[Agent]:
    if name not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {name!r}; known algorithms: {', '.join(algorithm_names())}")
    module_name, class_name = ALGORITHMS[name].split(":")
    return getattr(importlib.import_module(module_name), class_name)


def make_config(agent_class: type[Agent], config: Any = None) -> Any:
    """Build `agent_class.Config` from None (defaults), a Config instance, or a dict of overrides."""
    config_class = agent_class.Config
    if config is None:
        return config_class()
    if isinstance(config, config_class):
        return config
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict or {config_class.__name__}, got {type(config).__name__}")
    known = {f.name for f in dataclasses.fields(config_class)}
    unknown = sorted(set(config) - known)
    if unknown:
        raise ValueError(
            f"unknown hyperparameter(s) {unknown} for {agent_class.algo}; valid ones: {', '.join(sorted(known))}"
        )
    for field in dataclasses.fields(config_class):  # a number given as text ("0.9" from a YAML string)
        value = config.get(field.name)
        is_number = isinstance(field.default, (int, float)) and not isinstance(field.default, bool)
        if field.name in config and is_number and isinstance(value, (str, bytes)):
            raise ValueError(f"{field.name} of {agent_class.algo} must be a number, got the text {value!r:.60}")
    return config_class(**config)


def make_agent(
    name: str, env: gym.Env | gym.vector.VectorEnv, config: Any = None, *, seed: int = 0, **kwargs: Any
) -> Agent:
    """Construct the algorithm registered as `name` for `env`."""
    return get_agent_class(name)(env, config, seed=seed, **kwargs)


def load_agent(path: str | Path, env: gym.Env | None = None) -> Agent:
    """Load any saved agent; the file records which algorithm wrote it (CheckpointError if it names none we know)."""
    algo = read_algorithm_name(path)
    if algo not in ALGORITHMS:
        raise CheckpointError(
            f"{path} was written by algorithm {algo!r}, which is not registered; known algorithms: "
            f"{', '.join(algorithm_names())} (register_algorithm adds your own)"
        )
    return get_agent_class(algo).load(path, env)


# The algorithms of this package, one line each: name -> the module and class that implement it.
register_algorithm("tabular-q", "agents.tabular.learners:QLearning")
register_algorithm("sarsa", "agents.tabular.learners:Sarsa")
register_algorithm("expected-sarsa", "agents.tabular.learners:ExpectedSarsa")
register_algorithm("double-q", "agents.tabular.learners:DoubleQLearning")
register_algorithm("dqn", "agents.dqn.dqn:DQN")
register_algorithm("dqn-zoo", "agents.dqn.dqn:DQN")  # the same DQN; hyperparams/dqn-zoo.yml: sb3-dqn's settings
register_algorithm("random", "agents.baselines.random_agent:RandomAgent")
register_algorithm("planner", "agents.planners.agent:PlannerAgent")  # privileged reference: reads env.unwrapped
register_algorithm("sb3-dqn", "agents.baselines.sb3:SB3DQN")
register_algorithm("sb3-ppo", "agents.baselines.sb3:SB3PPO")
register_algorithm("sb3-a2c", "agents.baselines.sb3:SB3A2C")
register_algorithm("sb3-maskable-ppo", "agents.baselines.sb3:SB3MaskablePPO")
