"""Tabular TD learners: Q-learning, SARSA, Expected SARSA and Double Q-learning.

All four share one training loop (`TabularAgent.train`): observe, pick an epsilon-greedy action,
step the env, update one table entry. They differ only in the target of that update, written out in
each class's docstring and in its few lines of `_bootstrap` (or `_learn`). With `s, a, r, s'` the
transition, `gamma` the discount and `alpha` the step size:

    Q(s, a) <- Q(s, a) + alpha * (target - Q(s, a)),   target = r + gamma * (value of s')

and the value of `s'` is 0 when the episode terminated at `s'` (not when it was merely truncated by
a time limit: then `s'` still has a future, and it is bootstrapped as usual).

    import gymnasium as gym
    from agents.base import make_agent
    env = gym.make("FrozenLake-v1")
    agent = make_agent("tabular-q", env, {"gamma": 0.99, "epsilon": "linear:1.0:0.1:100000"}, seed=0)
    agent.train(env, 200_000)
    agent.act(0)                    # greedy action in state 0
    agent.save("q.npz")             # .npz + JSON metadata, no pickle

Exploration, learning rates and masks:
- `epsilon` and `learning_rate` are schedules over the agent's env steps (`agents.common.schedules`):
  `"0.1"`, `"linear:1.0:0.05:10000"`, `"exp:1.0:0.01:0.9995"`; the learning rate may instead be
  `"1/visits"` (1 / n(s, a), the sample average) or `"1/visits^w"` for 0.5 < w <= 1.
- If the env reports `info["action_mask"]`, exploration draws only among allowed actions and the
  disallowed ones hold `-inf` in the table, so greedy actions (also in `act`, which sees no info) and
  the bootstrap `max` never pick them. Masks are remembered per state: in a tabular env the allowed
  actions depend on the state only.
- Observations: see `agents.tabular.state_index` (Discrete, MultiDiscrete, MultiBinary, Tuple; a `Box`
  must be wrapped with `Discretize`, `TileCoding` or `AsMultiDiscrete`).
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from agents.base import Agent, Callback, make_config
from agents.common.checkpoint import CheckpointError, check_finite_array, load_npz, save_npz
from agents.common.interrupt import DeferredInterrupt
from agents.common.logging import TrainLogger
from agents.common.schedules import Constant, Schedule, parse_schedule
from agents.tabular.state_index import (
    SparseIndex,
    StateIndex,
    TileIndex,
    make_state_index,
    space_from_json,
    space_to_json,
)
from agents.tabular.tables import QTable, TileTable

UNIFORM_BATCH = 4096  # uniform random numbers drawn at a time for exploration
PROGRESS_EVERY = 1000  # env steps between progress-bar updates


# ----------------------------------------------------------------------------- hyperparameters
def _schedule_ends(schedule: Schedule) -> tuple[float, float]:
    if isinstance(schedule, Constant):
        return schedule.value, schedule.value
    return schedule.start, schedule.end


def parse_epsilon(spec: str) -> Schedule:
    """An exploration-rate schedule whose values stay within [0, 1]."""
    schedule = parse_schedule(spec)
    if not all(0.0 <= v <= 1.0 for v in _schedule_ends(schedule)):
        raise ValueError(f"epsilon must stay within [0, 1], got {spec!r}")
    return schedule


@dataclass(frozen=True)
class ScheduledRate:
    """The step size follows a schedule of the global step count."""

    schedule: Schedule

    def __call__(self, step: int, visits: Any) -> float:
        return self.schedule(step)


@dataclass(frozen=True)
class VisitRate:
    """The step size is `1 / visits ** power` for the pair being updated: with power 1, Q(s, a) is the
    plain average of its targets; any power in (0.5, 1] meets the Robbins-Monro conditions."""

    power: float = 1.0

    def __call__(self, step: int, visits: Any) -> Any:
        return visits**-self.power


LEARNING_RATE_FORMS = (
    '"1/visits", "1/visits^<power in (0.5, 1]>" or a schedule ("0.1", "linear:0.5:0.01:100000", "exp:0.5:0.01:0.9999")'
)


def parse_learning_rate(spec: str) -> ScheduledRate | VisitRate:
    match = re.fullmatch(r"1/visits(?:\^([0-9.eE+-]+))?", str(spec).replace(" ", ""))
    if match:
        try:
            power = float(match.group(1) or 1.0)
        except ValueError:
            power = math.nan
        if not 0.5 < power <= 1.0:
            raise ValueError(f"learning_rate {spec!r}: the power must be in (0.5, 1]; expected {LEARNING_RATE_FORMS}")
        return VisitRate(power)
    try:
        schedule = parse_schedule(spec)
    except ValueError:
        raise ValueError(f"cannot parse learning_rate {spec!r}; expected {LEARNING_RATE_FORMS}") from None
    start, end = _schedule_ends(schedule)
    if not (0.0 < start <= 1.0 and 0.0 <= end <= 1.0):
        raise ValueError(f"learning_rate must start in (0, 1] and stay within [0, 1], got {spec!r}")
    return ScheduledRate(schedule)


@dataclass
class TabularConfig:
    """Hyperparameters shared by the tabular learners (all JSON- and command-line-friendly)."""

    gamma: float = field(default=0.99, metadata={"help": "discount factor, in [0, 1]"})
    learning_rate: str = field(
        default="0.1",
        metadata={"help": f"step size alpha: {LEARNING_RATE_FORMS}"},
    )
    epsilon: str = field(
        default="linear:1.0:0.05:10000",
        metadata={
            "help": 'exploration rate schedule over env steps: "0.1", "linear:<start>:<end>:<steps>[:<hold steps>]", '
            '"exp:<start>:<end>:<decay>"'
        },
    )
    initial_value: float = field(
        default=0.0, metadata={"help": "initial Q-value of every pair (above the true values: optimistic exploration)"}
    )
    max_states: int = field(
        default=1_000_000,
        metadata={
            "help": "most distinct observations a sparse table may hold (for observation spaces too large to allocate)"
        },
    )

    def __post_init__(self) -> None:
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"gamma must be in [0, 1], got {self.gamma}")
        parse_learning_rate(self.learning_rate)
        parse_epsilon(self.epsilon)
        if not math.isfinite(self.initial_value):
            raise ValueError(f"initial_value must be finite, got {self.initial_value}")
        if self.max_states < 1:
            raise ValueError(f"max_states must be positive, got {self.max_states}")


def _check_count(name: str, value: int | None) -> None:
    if value is None:
        return
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


# ----------------------------------------------------------------------------- the shared agent
class TabularAgent(Agent):
    """The loop shared by the tabular learners; subclasses define the update target only.

    Attributes: `tables` (the acting `QTable` first; Double Q-learning adds its two estimates),
    `state_index` (observation -> table row), `num_timesteps` (env steps trained so far).
    """

    Config = TabularConfig
    checkpoint_suffix = ".npz"
    n_estimates = 0  # tables besides the acting one (Double Q-learning: 2)

    def __init__(self, env: gym.Env, config: Any = None, *, seed: int = 0) -> None:
        if isinstance(env, gym.vector.VectorEnv):
            raise ValueError(
                "tabular agents train on one env, not a vector env; pass gym.make(...) instead of gym.make_vec(...)"
            )
        super().__init__(env, config, seed=seed)
        if not isinstance(self.action_space, spaces.Discrete):
            raise ValueError(f"tabular agents need a Discrete action space, got {self.action_space}")
        self.state_index: StateIndex = make_state_index(self.observation_space, self.config.max_states)
        self.n_actions = int(self.action_space.n)
        self._action_start = int(self.action_space.start)
        self._tiled = self.state_index.mode == "tiles"
        rows = self.state_index.n_rows if self.state_index.mode != "sparse" else 64
        self.tables = [self._new_table(rows) for _ in range(1 + self.n_estimates)]
        if isinstance(self.state_index, SparseIndex):
            self.state_index.on_new_row = self._grow
        self.gamma = float(self.config.gamma)
        self._epsilon = parse_epsilon(self.config.epsilon)
        self._learning_rate = parse_learning_rate(self.config.learning_rate)
        self.num_timesteps = 0
        self._all_actions = np.arange(self.n_actions)
        self._allowed: dict[int, np.ndarray] = {}  # states where the env disallows some actions
        self._mask_keys: dict[int, bytes] = {}  # the mask last seen in each state, as bytes
        self._rng = np.random.default_rng(seed)
        self._uniforms: list[float] = []
        self._next_uniform = 0

    def _new_table(self, n_rows: int) -> QTable:
        if isinstance(self.state_index, TileIndex):
            return TileTable(n_rows, self.n_actions, self.config.initial_value, self.state_index.n_tilings)
        return QTable(n_rows, self.n_actions, self.config.initial_value)

    def _grow(self, n_rows: int) -> None:
        if n_rows > self.tables[0].q.shape[0]:
            for table in self.tables:
                table.resize(2 * n_rows)

    # ------------------------------------------------------------------------- views
    @property
    def q_table(self) -> np.ndarray:
        """The action values the agent acts on: one row per state index (per tile for tile coding)."""
        table = self.tables[0].q
        return table[: self.state_index.n_rows]

    def greedy_policy(self) -> np.ndarray:
        """The greedy action of every state index (dense and sparse indexes), lowest index on ties."""
        if self._tiled:
            raise ValueError("a tile-coded agent has no per-state table; call act(obs) instead")
        return np.argmax(self.q_table, axis=1) + self._action_start

    # ------------------------------------------------------------------------- acting
    def _uniform(self) -> float:
        """The next uniform [0, 1) number of the agent's own generator (drawn in batches: cheaper)."""
        if self._next_uniform == len(self._uniforms):
            self._uniforms = self._rng.random(UNIFORM_BATCH).tolist()
            self._next_uniform = 0
        self._next_uniform += 1
        return self._uniforms[self._next_uniform - 1]

    def _choose(self, state: Any, epsilon: float) -> int:
        """Epsilon-greedy over the allowed actions: a random one with probability epsilon, else the
        greedy one (lowest index on ties). Returns the table's action index (from 0)."""
        if epsilon > 0.0 and self._uniform() < epsilon:
            allowed = self._all_actions if self._tiled else self._allowed.get(state, self._all_actions)
            return int(allowed[int(self._uniform() * len(allowed))])
        return int(self.tables[0].values(state).argmax())

    def act(self, obs: Any, *, greedy: bool = True) -> int:
        """The greedy action for `obs` (epsilon-greedy at the current epsilon with `greedy=False`).
        An observation never seen by a sparse table gets the lowest action (or a random one)."""
        if not self.observation_space.contains(obs):
            raise ValueError(f"observation {obs!r} is not in the agent's observation space {self.observation_space}")
        epsilon = 0.0 if greedy else self._epsilon(self.num_timesteps)
        state = self.state_index(obs, add=False)
        if state is None:  # never seen by a sparse table: no values to go by
            explore = epsilon > 0.0 and self._uniform() < epsilon
            return self._action_start + (int(self._uniform() * self.n_actions) if explore else 0)
        return self._action_start + self._choose(state, epsilon)

    # ------------------------------------------------------------------------- learning
    def _observe(self, obs: Any, info: dict) -> Any:
        """The state index of `obs`, remembering the action mask the env reports for it."""
        state = self.state_index(obs)
        mask = info.get("action_mask")
        if mask is not None:
            self._remember_mask(state, np.asarray(mask))
        return state

    def _remember_mask(self, state: Any, mask: np.ndarray) -> None:
        if self._tiled:
            self.tables[0].restrict(state, mask)  # raises: masks need a per-state table
        key = mask.tobytes()
        if self._mask_keys.get(state) == key:
            return
        allowed = mask.astype(bool)
        if not allowed.any():  # no action possible (a terminal state): nothing to choose from
            return
        self._mask_keys[state] = key
        for table in self.tables:
            table.restrict(state, allowed)
        if allowed.all():
            self._allowed.pop(state, None)
        else:
            self._allowed[state] = np.flatnonzero(allowed)

    def _bootstrap(self, next_state: Any, epsilon: float) -> tuple[float, int | None]:
        """The value of a non-terminal next state under this learner's target, and the next action if
        the target chose it (SARSA), else None."""
        raise TypeError(f"{type(self).__name__} must define _bootstrap or _learn")

    def _learn(
        self, state: Any, action: int, reward: float, next_state: Any, terminated: bool, epsilon: float
    ) -> int | None:
        """One TD update of Q(state, action); returns the next action if the update chose it."""
        value, next_action = (0.0, None) if terminated else self._bootstrap(next_state, epsilon)
        self.tables[0].update(state, action, reward + self.gamma * value, self._learning_rate, self.num_timesteps)
        return next_action

    def _check_env(self, env: gym.Env) -> None:
        if isinstance(env, gym.vector.VectorEnv):
            raise ValueError(
                "tabular agents train on one env, not a vector env; pass gym.make(...) instead of gym.make_vec(...)"
            )
        if env.observation_space != self.observation_space or env.action_space != self.action_space:
            raise ValueError(
                f"the env's spaces (observation {env.observation_space}, action {env.action_space}) differ from "
                f"the agent's (observation {self.observation_space}, action {self.action_space})"
            )

    def train(
        self,
        env: gym.Env | gym.vector.VectorEnv,
        total_steps: int | None = None,
        *,
        episodes: int | None = None,
        callback: Callback | None = None,
        log_dir: str | Path | None = None,
        progress: bool = True,
    ) -> TabularAgent:
        """Learn from `env` for `total_steps` env steps and/or `episodes` whole episodes (whichever
        budget runs out first). The first call resets the env with the agent's seed; later calls
        continue the schedules where the last one stopped."""
        _check_count("total_steps", total_steps)
        _check_count("episodes", episodes)
        if total_steps is None and episodes is None:
            raise ValueError("give total_steps and/or episodes: the training budget")
        if isinstance(env, gym.vector.VectorEnv):
            raise ValueError(f"{self.algo} learns from one env at a time; pass gym.make(id), not a vector env")
        self._check_env(env)
        max_steps = sys.maxsize if total_steps is None else int(total_steps)
        max_episodes = sys.maxsize if episodes is None else int(episodes)
        if max_steps == 0 or max_episodes == 0:
            return self
        epsilon_at, action_start = self._epsilon, self._action_start
        observe, learn, choose = self._observe, self._learn, self._choose  # local names: a faster loop
        steps = done_episodes = episode_length = 0
        episode_return = 0.0
        logger = TrainLogger(total_steps, log_dir, progress=progress, desc=self.algo)
        with DeferredInterrupt() as interrupt:  # Ctrl-C stops between two whole steps (checked every 1000)
            try:
                obs, info = env.reset(seed=self.seed if self.num_timesteps == 0 else None)
                state = observe(obs, info)
                action = choose(state, epsilon_at(self.num_timesteps))
                while steps < max_steps:
                    obs, reward, terminated, truncated, info = env.step(action + action_start)
                    reward = float(reward)
                    next_state = observe(obs, info)
                    epsilon = epsilon_at(self.num_timesteps)
                    next_action = learn(state, action, reward, next_state, terminated, epsilon)
                    self.num_timesteps += 1
                    steps += 1
                    episode_return += reward
                    episode_length += 1
                    if steps % PROGRESS_EVERY == 0:
                        logger.step(PROGRESS_EVERY)
                        if interrupt.requested:
                            break
                    if terminated or truncated:
                        logger.episode(self.num_timesteps, episode_return, episode_length)
                        self.episode_log.append((self.num_timesteps, episode_return, episode_length))
                        logger.scalar("train/epsilon", epsilon, self.num_timesteps)
                        done_episodes += 1
                        episode_return, episode_length = 0.0, 0
                        if done_episodes >= max_episodes:
                            break
                        obs, info = env.reset()
                        next_state, next_action = observe(obs, info), None
                    state = next_state
                    action = choose(state, epsilon) if next_action is None else next_action
                    if callback is not None and callback(self, self.num_timesteps):
                        break
            finally:
                logger.step(steps % PROGRESS_EVERY)
                logger.close()
        if interrupt.requested:
            raise KeyboardInterrupt  # after a whole step: the agent can be saved and loaded
        return self

    # ------------------------------------------------------------------------- files
    def save(self, path: str | Path) -> None:
        """Write the tables, the observed states and the hyperparameters to one `.npz` file, atomically."""
        n_rows = self.state_index.n_rows
        arrays: dict[str, np.ndarray] = dict(self.state_index.arrays())
        for i, table in enumerate(self.tables):
            arrays[f"q{i}"] = table.q[:n_rows]
            arrays[f"visits{i}"] = table.visits[:n_rows]
        arrays["episode_log"] = np.array(self.episode_log, dtype=np.float64).reshape(-1, 3)
        meta = {
            "config": self.hyperparameters(),
            "seed": self.seed,
            "num_timesteps": self.num_timesteps,
            "observation_space": space_to_json(self.observation_space),
            "action_space": space_to_json(self.action_space),
            "state_index": self.state_index.mode,
        }
        save_npz(path, self.algo, meta, arrays)

    @classmethod
    def load(cls, path: str | Path, env: gym.Env | None = None) -> TabularAgent:
        """Read an agent written by `save`; a `CheckpointError` names what is wrong with the file."""
        meta, arrays = load_npz(path, expected_algo=cls.algo)
        try:
            observation_space = space_from_json(meta["observation_space"])
            action_space = space_from_json(meta["action_space"])
            config = make_config(cls, meta["config"])
            seed, num_timesteps = int(meta["seed"]), int(meta["num_timesteps"])
            if seed < 0 or num_timesteps < 0:
                raise ValueError(f"seed {seed} and num_timesteps {num_timesteps} must be >= 0")
            # before building the tables: the metadata's action count must be the one the stored table has
            q0 = arrays.get("q0")
            if (
                q0 is None
                or q0.ndim != 2
                or not isinstance(action_space, spaces.Discrete)
                or q0.shape[1] != action_space.n
            ):
                raise ValueError(
                    f"action space {action_space} does not match the stored table q0 "
                    f"(shape {None if q0 is None else q0.shape})"
                )
            agent = cls.from_spaces(observation_space, action_space, config, seed=seed)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as error:
            raise CheckpointError(f"{path} is not a readable tabular checkpoint: bad metadata ({error})") from error
        if env is not None:
            try:
                agent._check_env(env)
            except ValueError as error:
                raise CheckpointError(f"{path} does not fit this env: {error}") from error
        agent.num_timesteps = num_timesteps
        try:
            agent._restore(path, arrays)
        except CheckpointError:
            raise
        except (KeyError, TypeError, ValueError, IndexError, OverflowError) as error:
            raise CheckpointError(f"{path} is not a readable tabular checkpoint: {error}") from error
        return agent

    def _restore(self, path: str | Path, arrays: dict[str, np.ndarray]) -> None:
        if isinstance(self.state_index, SparseIndex):
            self.state_index.restore(arrays["observations"])
        n_rows = self.state_index.n_rows
        for i, table in enumerate(self.tables):
            q, visits = arrays[f"q{i}"], arrays[f"visits{i}"]
            expected = (n_rows, self.n_actions)
            if q.shape != expected or visits.shape != expected:
                raise ValueError(f"table {i} has shape {q.shape} (visits {visits.shape}), expected {expected}")
            # -inf marks actions the env disallows; NaN, +inf and rows without any allowed action are corruption
            check_finite_array(path, f"Q-table q{i}", q, allow_neg_inf=True)
            if q.size and np.isneginf(q).all(axis=1).any():
                raise CheckpointError(f"{path}: Q-table q{i} has rows where every action is -inf (no allowed action)")
            check_finite_array(path, f"visit counts visits{i}", visits)
            if visits.dtype.kind not in "iu" or (visits < 0).any():
                raise CheckpointError(f"{path}: visit counts visits{i} must be non-negative integers")
            table.q, table.visits = q.astype(np.float64), visits.astype(np.int64)
            if self.state_index.mode == "sparse":
                table.resize(max(n_rows, 64))
        log = arrays["episode_log"]
        if log.ndim != 2 or log.shape[1] != 3 or log.dtype.kind not in "iuf":
            raise CheckpointError(
                f"{path}: episode_log must be an (episodes, 3) array of numbers "
                f"(step, return, length), got shape {log.shape} dtype {log.dtype}"
            )
        check_finite_array(path, "episode_log", log)
        self.episode_log = [(int(s), float(r), int(n)) for s, r, n in log]
        if not self._tiled:
            q = self.q_table
            for state in np.flatnonzero(~np.isfinite(q).all(axis=1)):
                allowed = np.isfinite(q[state])
                self._allowed[int(state)] = np.flatnonzero(allowed)
                self._mask_keys[int(state)] = allowed.tobytes()


# ----------------------------------------------------------------------------- the learners
class QLearning(TabularAgent):
    """Q-learning (Watkins, 1989): off-policy TD control.

        Q(s, a) <- Q(s, a) + alpha * (r + gamma * max_a' Q(s', a') - Q(s, a))

    The target takes the best next action whatever the behaviour policy does, so Q converges to the
    optimal Q* under any exploration that keeps visiting every pair (and a step size meeting the
    Robbins-Monro conditions, e.g. `"1/visits^0.8"`).
    """

    algo = "tabular-q"

    def _bootstrap(self, next_state: Any, epsilon: float) -> tuple[float, None]:
        return self.tables[0].best_value(next_state), None


class Sarsa(TabularAgent):
    """SARSA (Rummery & Niranjan, 1994): on-policy TD control.

        a' ~ epsilon-greedy(Q(s', .))
        Q(s, a) <- Q(s, a) + alpha * (r + gamma * Q(s', a') - Q(s, a))

    The next action `a'` is chosen before the update and then taken, so Q tracks the values of the
    epsilon-greedy policy itself (optimal once epsilon decays to 0).
    """

    algo = "sarsa"

    def _bootstrap(self, next_state: Any, epsilon: float) -> tuple[float, int]:
        next_action = self._choose(next_state, epsilon)
        return self.tables[0].value(next_state, next_action), next_action


class ExpectedSarsa(TabularAgent):
    """Expected SARSA (van Seijen et al., 2009): the expectation of SARSA's target under the
    epsilon-greedy policy, which removes the variance of sampling `a'`.

        Q(s, a) <- Q(s, a) + alpha * (r + gamma * sum_a' pi(a' | s') Q(s', a') - Q(s, a))
        sum_a' pi(a' | s') Q(s', a') = (1 - epsilon) * max_a' Q(s', a') + epsilon * mean_{a' allowed} Q(s', a')
    """

    algo = "expected-sarsa"

    def _bootstrap(self, next_state: Any, epsilon: float) -> tuple[float, None]:
        values = self.tables[0].values(next_state)
        allowed = self._all_actions if self._tiled else self._allowed.get(next_state, self._all_actions)
        return (1.0 - epsilon) * values[values.argmax()] + epsilon * values[allowed].sum() / len(allowed), None


class DoubleQLearning(TabularAgent):
    """Double Q-learning (van Hasselt, 2010): two estimates QA, QB; each update picks one at random
    (probability 1/2) and lets the other evaluate its greedy action, which removes Q-learning's
    overestimation of noisy maxima.

        with probability 1/2:  QA(s, a) <- QA(s, a) + alpha * (r + gamma * QB(s', argmax_a' QA(s', a')) - QA(s, a))
        otherwise:             QB(s, a) <- QB(s, a) + alpha * (r + gamma * QA(s', argmax_a' QB(s', a')) - QB(s, a))

    The agent acts (epsilon-greedily) on Q = (QA + QB) / 2, kept in `tables[0]`; QA and QB are
    `tables[1]` and `tables[2]`.
    """

    algo = "double-q"
    n_estimates = 2

    def _learn(self, state: Any, action: int, reward: float, next_state: Any, terminated: bool, epsilon: float) -> None:
        mean, first, second = self.tables
        updated, evaluator = (first, second) if self._uniform() < 0.5 else (second, first)
        if terminated:
            value = 0.0
        else:
            value = evaluator.value(next_state, int(updated.values(next_state).argmax()))
        updated.update(state, action, reward + self.gamma * value, self._learning_rate, self.num_timesteps)
        mean.q[state, action] = 0.5 * (first.q[state, action] + second.q[state, action])
        mean.visits[state, action] += 1
        return None
