"""Stepping a single env or a Gymnasium vector env for DQN, and feeding the replay buffer.

    collector = Collector(env, buffer, seed=0, state=EpisodeState.new(n_envs))
    obs = collector.start()                    # a batch: (n_envs, *obs_shape), also for a single env
    obs, steps, finished = collector.step(actions)   # steps stored; finished: [(env, return, length)]

## Episodes and seeds
Every episode of a single env starts with `reset(seed=episode_seed(seed, 0, k))` for its k-th episode,
so each training episode can be replayed on its own, and the env's state at any step is a function of
that seed and the actions taken since. `EpisodeState` (saved in checkpoints as plain numbers) keeps the
episode count and the actions since that reset; `start()` resets the env with the same seed and
replays those actions, which puts a fresh env object in exactly the state the checkpointed one was in
(Gymnasium's contract: same seed and actions, same trajectory). A resumed run then equals an
uninterrupted one, without pickling the env. `start()` checks the replayed observation against the
saved one and, if the env is not deterministic, warns and starts a new episode instead.

An episode that ends without ending the game underneath (Atari's life loss: `info["game_over"]` is
False, see `agents.wrappers.atari.EpisodicLife`) is followed by a plain `reset()`, which continues the
game (a seeded reset would start a new one); the replay log then spans the whole game, with
`RESET` marking those resets.

A vector env cannot step one sub-env alone, so it cannot be replayed: `start()` resets every sub-env
(sub-env i with `episode_seed(seed, i, k)`) and the interrupted episodes are dropped (their steps stay
in the replay buffer). Later episodes follow the vector env's own autoreset.

## Vector env autoreset
The vector env's `metadata["autoreset_mode"]` decides how finished sub-envs restart:
- NEXT_STEP (Gymnasium's default): the step after a sub-env's episode ends only resets it; that
  "transition" spans two episodes and is not stored, nor counted as an env step.
- SAME_STEP: the returned observation is already the reset one; the final one is in
  `info["final_obs"]` and is what the transition stores.
- DISABLED: the collector resets finished sub-envs itself (`options={"reset_mask": ...}`), seeded
  (not after a lost life, as above).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, TypeGuard

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

from agents.dqn.replay import ReplayBuffer

RESET = -1  # in `EpisodeState.actions`: an unseeded reset that continued the game (see the module docstring)


def episode_seed(seed: int, env_index: int, episode: int) -> int:
    """The reset seed of episode `episode` of (sub-)env `env_index` of a run seeded `seed`."""
    return int(np.random.SeedSequence([seed, env_index, episode]).generate_state(1)[0])


def is_vector_env(env: object) -> TypeGuard[gym.vector.VectorEnv]:
    return isinstance(env, gym.vector.VectorEnv)


def autoreset_mode(env: gym.vector.VectorEnv) -> AutoresetMode:
    mode = env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
    try:
        return mode if isinstance(mode, AutoresetMode) else AutoresetMode(mode)
    except ValueError:
        raise ValueError(
            f"unknown autoreset_mode {mode!r} in the vector env's metadata; expected one of "
            f"{[m.value for m in AutoresetMode]}"
        ) from None


@dataclass
class EpisodeState:
    """What a collector needs to continue the episodes of a run: plain numbers, saved in checkpoints."""

    episodes: np.ndarray  # (n_envs,) episodes started so far per (sub-)env
    returns: np.ndarray  # (n_envs,) return of the ongoing episode
    lengths: np.ndarray  # (n_envs,) steps of the ongoing episode
    actions: list[int] = field(default_factory=list)  # single env: 0-based actions (and RESETs) since the seeded reset
    seeded_episode: int = 0  # single env: the episode whose seed the last seeded reset used
    obs: np.ndarray | None = None  # single env: the current observation (checked after a replay)
    started: bool = False  # an episode is ongoing (single env: it can be replayed)

    @classmethod
    def new(cls, n_envs: int) -> EpisodeState:
        return cls(np.zeros(n_envs, dtype=np.int64), np.zeros(n_envs), np.zeros(n_envs, dtype=np.int64))

    def state_dict(self) -> dict:
        return {
            "episodes": self.episodes.tolist(),
            "returns": self.returns.tolist(),
            "lengths": self.lengths.tolist(),
            "actions": list(self.actions),
            "obs": None if self.obs is None else np.asarray(self.obs).copy(),
            "started": self.started,
            "seeded_episode": self.seeded_episode,
        }

    @classmethod
    def from_state_dict(cls, state: dict) -> EpisodeState:
        return cls(
            episodes=np.asarray(state["episodes"], dtype=np.int64),
            returns=np.asarray(state["returns"], dtype=np.float64),
            lengths=np.asarray(state["lengths"], dtype=np.int64),
            actions=[int(a) for a in state["actions"]],
            seeded_episode=int(state["seeded_episode"]),
            obs=None if state["obs"] is None else np.asarray(state["obs"]),
            started=bool(state["started"]),
        )


class Collector:
    """Steps `env` (single or vector) with 0-based actions, storing each real transition in `buffer`."""

    def __init__(
        self,
        env: gym.Env | gym.vector.VectorEnv,
        buffer: ReplayBuffer,
        *,
        seed: int,
        state: EpisodeState,
        action_start: int = 0,
    ) -> None:
        # Any: a single env or a vector env (Gymnasium's annotations leave out the per-sub-env seed lists
        # that vector resets accept)
        self.env: Any = env
        self.buffer, self.seed, self.state = buffer, seed, state
        self.vector = is_vector_env(env)
        self.n_envs = env.num_envs if is_vector_env(env) else 1
        self.mode = autoreset_mode(env) if is_vector_env(env) else None
        self.action_start = action_start
        self.all_envs = np.arange(self.n_envs)
        self.pending_reset = np.zeros(self.n_envs, dtype=bool)  # NEXT_STEP: the next step only resets these
        self.obs: np.ndarray | None = None

    # ------------------------------------------------------------------ starting
    def start(self) -> np.ndarray:
        """Bring the env to the run's current state (see the module docstring); returns the observation batch."""
        state = self.state
        if self.vector:
            if state.started:
                state.episodes += 1  # the interrupted episodes are dropped
            seeds = [episode_seed(self.seed, i, int(k)) for i, k in enumerate(state.episodes)]
            obs, _ = self.env.reset(seed=seeds)
            state.returns[:], state.lengths[:] = 0.0, 0
            self.buffer.end_episodes()
            self.buffer.start_episodes(self.all_envs, obs)
            state.started = True
            self.obs = obs
            return obs
        if state.started and self._replay_ongoing_episode():
            assert self.obs is not None  # set by the replay
            if not self.buffer.open[0]:  # a checkpoint without the replay buffer: continue from here
                self.buffer.start_episodes(self.all_envs, self.obs)
            return self.obs
        self.buffer.end_episodes()
        return self._reset_single()

    def _reset_single(self, continue_game: bool = False) -> np.ndarray:
        state = self.state
        if continue_game:
            obs, _ = self.env.reset()
            state.actions.append(RESET)
        else:
            state.seeded_episode = int(state.episodes[0])
            obs, _ = self.env.reset(seed=episode_seed(self.seed, 0, state.seeded_episode))
            state.actions = []
        state.returns[0], state.lengths[0], state.started = 0.0, 0, True
        self.obs = np.asarray(obs)[None]
        state.obs = self.obs[0]
        self.buffer.start_episodes(self.all_envs, self.obs)
        return self.obs

    def _replay_ongoing_episode(self) -> bool:
        """Reset with the last seeded reset's seed and replay the actions since; False if the env diverges."""
        state = self.state
        obs, _ = self.env.reset(seed=episode_seed(self.seed, 0, state.seeded_episode))
        for action in state.actions:
            if action == RESET:
                obs, _ = self.env.reset()
            else:
                obs, *_ = self.env.step(action + self.action_start)
        if state.obs is not None and not np.array_equal(np.asarray(obs), state.obs):
            warnings.warn(
                f"replaying the {len(state.actions)} actions of the interrupted episode did not reproduce its "
                "observation: the env is not deterministic given its reset seed and actions. Training goes on "
                "from a new episode, so this run will differ from an uninterrupted one.",
                RuntimeWarning,
                stacklevel=3,
            )
            state.episodes[0] += 1
            return False
        self.obs = np.asarray(obs)[None]
        return True

    # ------------------------------------------------------------------ stepping
    def step(self, actions: np.ndarray) -> tuple[np.ndarray, int, list[tuple[int, float, int]]]:
        """Apply one 0-based action per env; returns the next observation batch, the number of transitions
        stored (env steps) and the episodes that ended as (env index, return, length)."""
        if not self.vector:
            return self._step_single(int(actions[0]))
        return self._step_vector(actions)

    def _step_single(self, action: int) -> tuple[np.ndarray, int, list[tuple[int, float, int]]]:
        state = self.state
        next_obs, reward, terminated, truncated, info = self.env.step(action + self.action_start)
        self.buffer.add(self.all_envs, action, reward, np.asarray(next_obs)[None], terminated, truncated)
        state.returns[0] += reward
        state.lengths[0] += 1
        state.actions.append(action)
        if terminated or truncated:
            finished = [(0, float(state.returns[0]), int(state.lengths[0]))]
            state.episodes[0] += 1
            return self._reset_single(continue_game=info.get("game_over", True) is False), 1, finished
        self.obs = np.asarray(next_obs)[None]
        state.obs = self.obs[0]
        return self.obs, 1, []

    def _step_vector(self, actions: np.ndarray) -> tuple[np.ndarray, int, list[tuple[int, float, int]]]:
        state, buffer = self.state, self.buffer
        next_obs, rewards, terminated, truncated, infos = self.env.step(actions + self.action_start)
        real = ~self.pending_reset  # NEXT_STEP: sub-envs that only reset this step made no transition
        ended = (terminated | truncated) & real
        if self.mode is AutoresetMode.NEXT_STEP and not real.all():
            ids = np.flatnonzero(real)
            buffer.add(ids, actions[ids], rewards[ids], next_obs[ids], terminated[ids], truncated[ids])
            restarted = np.flatnonzero(~real)
            buffer.start_episodes(restarted, next_obs[restarted])
        else:
            stored = next_obs
            if self.mode is AutoresetMode.SAME_STEP and ended.any():
                stored = np.array(next_obs)
                for i in np.flatnonzero(ended):
                    stored[i] = infos["final_obs"][i]
            buffer.add(self.all_envs, actions, rewards, stored, terminated, truncated)
        state.returns[real] += rewards[real]
        state.lengths[real] += 1
        finished = [(int(i), float(state.returns[i]), int(state.lengths[i])) for i in np.flatnonzero(ended)]
        if finished:
            state.episodes[ended] += 1
            state.returns[ended], state.lengths[ended] = 0.0, 0
            if self.mode is AutoresetMode.SAME_STEP:
                buffer.start_episodes(np.flatnonzero(ended), next_obs[ended])
            elif self.mode is AutoresetMode.DISABLED:  # seeded, unless only a life was lost (see above)
                game_over = np.asarray(infos.get("game_over", np.ones(self.n_envs, dtype=bool)), dtype=bool)
                seeds = [
                    episode_seed(self.seed, i, int(state.episodes[i])) if ended[i] and game_over[i] else None
                    for i in range(self.n_envs)
                ]
                next_obs, _ = self.env.reset(seed=seeds, options={"reset_mask": ended})
                buffer.start_episodes(np.flatnonzero(ended), next_obs[ended])
        if self.mode is AutoresetMode.NEXT_STEP:
            self.pending_reset = ended
        self.obs = next_obs
        return next_obs, int(real.sum()), finished
