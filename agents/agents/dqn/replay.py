"""Experience replay for DQN: preallocated numpy rings that store every frame once.

    buffer = ReplayBuffer(100_000, env.observation_space, n_actions=2)
    buffer.start_episodes(env_ids, reset_obs)                        # after a reset
    buffer.add(env_ids, actions, rewards, next_obs, terminated, truncated)   # after each step
    batch = buffer.sample(64, rng)                                   # numpy arrays, see `Batch`

## Storage
Each env (one, or the N sub-envs of a vector env) owns a ring of *rows*; a row holds one frame plus
the action, reward and flags of the step that produced it. Consecutive rows of an env are consecutive
observations, so a transition's next observation is simply the next row: nothing is stored twice.
- An episode starts with `start_episodes`, which writes the first observation (for a k-frame stack,
  all k frames, so the stack can be rebuilt without guessing how the env pads it).
- Each `add` writes one row: the newest frame of the next observation, the action and reward that led
  to it, `terminated`, and whether the episode ended there (`terminated or truncated`).
- A transition is a row with `is_transition` set; its observation is the stack of the k rows before
  it and its next observation the stack ending at it. A truncated episode keeps its real final
  observation, so the target bootstraps from it (only `terminated` cuts the bootstrap).

For image observations stacked k deep (Atari's 4 x 84 x 84), memory is about one frame per transition,
plus 8 bytes of action/reward/flags and k - 1 extra frames per episode start; a buffer that copies
the next observation needs 2x, and one that stores whole stacks 2k x.
Which axis is the stack: the first if `shape[0] == k` (Gymnasium's `FrameStackObservation`), else the
last (channels-last stacks such as SB3's `VecFrameStack`, k x C channels). `add` checks that each
observation is the previous one shifted by one frame and raises a clear error if not.

## Sampling
`sample` draws transitions uniformly over all rows still in the rings and returns n-step returns:
R = r_t + gamma r_{t+1} + ... over up to `n_step` rewards, stopping at the end of the episode, and
the discount gamma^m (0 after a termination) that multiplies max_a Q(s_{t+m}, a) in the target.

## Prioritized replay
`PrioritizedReplayBuffer` (Schaul et al. 2016, proportional variant) samples transition i with
probability p_i^alpha / sum_j p_j^alpha from a sum-tree and returns importance weights
(N P(i))^-beta / max_j (N P(j))^-beta; `update_priorities` sets p_i = |TD error| + eps.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np


@dataclass
class Batch:
    """A minibatch of n-step transitions (numpy arrays with a leading batch dimension)."""

    obs: np.ndarray
    actions: np.ndarray  # int64, 0-based (the action space's `start` removed)
    returns: np.ndarray  # float32: sum of up to n discounted rewards
    next_obs: np.ndarray
    discounts: np.ndarray  # float32: gamma^m, 0 where the episode terminated within the n steps
    weights: np.ndarray | None = None  # float32 importance weights (prioritized replay only)
    indices: np.ndarray | None = None  # flat row indices, for `update_priorities`


def physical_memory_bytes() -> int | None:
    """This machine's RAM in bytes, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows) or no such name
        return None


def _check_fits_in_memory(nbytes: int, capacity: int) -> None:
    """A ValueError before allocating a buffer larger than this machine's memory."""
    memory = physical_memory_bytes()
    if memory is not None and nbytes > memory:
        per_transition = nbytes / capacity
        raise ValueError(
            f"a replay buffer of {capacity:,} transitions would take {nbytes / 2**30:.1f} GiB, more than this "
            f"machine's {memory / 2**30:.1f} GiB of memory: lower buffer_size (at most about "
            f"{int(memory / per_transition):,} here)"
        )


def _action_dtype(n_actions: int) -> type:
    return np.uint8 if n_actions <= 256 else np.int64


def frame_layout(shape: tuple[int, ...], frame_stack: int) -> tuple[int, tuple[int, ...]]:
    """(stack axis, shape of one frame) of observations of `shape` stacked `frame_stack` deep."""
    if frame_stack == 1:
        return 0, tuple(shape)
    if len(shape) >= 2 and shape[0] == frame_stack:
        return 0, tuple(shape[1:])
    if len(shape) >= 2 and shape[-1] % frame_stack == 0 and shape[-1] < shape[0]:
        return len(shape) - 1, (*shape[:-1], shape[-1] // frame_stack)
    raise ValueError(
        f"observations of shape {shape} are not a stack of frame_stack={frame_stack} frames: the first axis "
        f"must be {frame_stack}, or the last (channels-last) a multiple of it; set frame_stack=1 to store "
        "whole observations"
    )


class ReplayBuffer:
    """Uniform experience replay over one ring per env (see the module docstring).

    Arguments:
        capacity: transitions kept (the oldest are overwritten); split evenly over the envs.
        observation_space: one env's observation space (`Box`, `Discrete` or `MultiBinary`).
        n_actions: size of the `Discrete` action space (picks the smallest action dtype).
        n_envs: the number of envs that feed the buffer (1, or a vector env's `num_envs`).
        frame_stack: k > 1 when observations are stacks of the last k frames: each frame is stored once.
        n_step: rewards summed per sampled transition (1 = classic DQN).
        gamma: discount for the n-step returns.
    """

    def __init__(
        self,
        capacity: int,
        observation_space: gym.Space,
        n_actions: int,
        *,
        n_envs: int = 1,
        frame_stack: int = 1,
        n_step: int = 1,
        gamma: float = 0.99,
    ) -> None:
        for name, value in (
            ("capacity", capacity),
            ("n_envs", n_envs),
            ("frame_stack", frame_stack),
            ("n_step", n_step),
        ):
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if capacity < n_envs:
            raise ValueError(f"capacity ({capacity}) must be at least n_envs ({n_envs})")
        assert observation_space.shape is not None, (
            f"a replay buffer needs a shaped observation space, got {observation_space}"
        )
        self.obs_shape = tuple(observation_space.shape)
        self.frame_stack, self.n_step, self.gamma, self.n_envs = frame_stack, n_step, gamma, n_envs
        self.stack_axis, self.frame_shape = frame_layout(self.obs_shape, frame_stack)
        dtype = np.dtype(observation_space.dtype)
        self.obs_dtype = np.dtype(np.float32) if dtype.kind == "f" else dtype
        # Rows per env: the transitions it holds plus the rows its oldest stack and newest n-step window need.
        self.rows = -(-capacity // n_envs) + frame_stack + n_step - 1
        shape = (n_envs, self.rows)
        row_bytes = (
            math.prod(self.frame_shape) * self.obs_dtype.itemsize + np.dtype(_action_dtype(n_actions)).itemsize + 4 + 3
        )
        _check_fits_in_memory(n_envs * self.rows * row_bytes, capacity)
        self.frames = np.zeros(shape + self.frame_shape, dtype=self.obs_dtype)
        self.actions: np.ndarray = np.zeros(shape, dtype=_action_dtype(n_actions))
        self.rewards = np.zeros(shape, dtype=np.float32)
        self.terminated = np.zeros(shape, dtype=bool)
        self.episode_end = np.zeros(shape, dtype=bool)  # terminated or truncated at this row
        self.is_transition = np.zeros(shape, dtype=bool)
        self.writes = np.zeros(n_envs, dtype=np.int64)  # rows ever written per env (the ring's head)
        self.open = np.zeros(n_envs, dtype=bool)  # the env's last row is the observation of an ongoing episode
        self._gamma_powers = gamma ** np.arange(n_step + 1, dtype=np.float64)
        self._stack_offsets = np.arange(-frame_stack + 1, 1)  # rows of a stack ending at row i: i + offsets

    # ------------------------------------------------------------------ writing
    def _frames_of(self, obs: np.ndarray) -> np.ndarray:
        """A batch of observations as (batch, k, *frame_shape) (a view, no copy)."""
        obs = np.asarray(obs)
        if self.frame_stack == 1:
            return obs.reshape(len(obs), 1, *self.frame_shape)
        if self.stack_axis == 0:
            return obs
        frames = obs.reshape(*obs.shape[:-1], self.frame_stack, self.frame_shape[-1])
        return np.moveaxis(frames, -2, 1)

    def _obs_of(self, frames: np.ndarray) -> np.ndarray:
        """The inverse of `_frames_of`: (batch, k, *frame_shape) -> observations."""
        if self.frame_stack == 1:
            return frames.reshape(len(frames), *self.obs_shape)
        if self.stack_axis == 0:
            return frames
        return np.moveaxis(frames, 1, -2).reshape(len(frames), *self.obs_shape)

    def _write_row(
        self,
        env_ids: np.ndarray,
        frames: np.ndarray,
        actions: Any = 0,
        rewards: Any = 0.0,
        terminated: Any = False,
        ended: Any = False,
        is_transition: bool = False,
    ) -> None:
        """Write one row per env at its head (the oldest row of the ring is overwritten)."""
        positions = self.writes[env_ids] % self.rows
        at = (env_ids, positions)
        self.frames[at] = frames
        self.actions[at] = actions
        self.rewards[at] = rewards
        self.terminated[at] = terminated
        self.episode_end[at] = ended
        self.is_transition[at] = is_transition
        self.writes[env_ids] += 1
        self._rows_written(env_ids)

    def _rows_written(self, env_ids: np.ndarray) -> None:
        """Called after every row write; `PrioritizedReplayBuffer` updates its sum-tree here."""

    def start_episodes(self, env_ids: np.ndarray, obs: np.ndarray) -> None:
        """Begin a new episode (or a new stretch of one) for each env in `env_ids` with observation `obs`."""
        env_ids = np.asarray(env_ids, dtype=np.int64)
        frames = self._frames_of(obs)
        for i in range(self.frame_stack):
            self._write_row(env_ids, frames[:, i])
        self.open[env_ids] = True

    def add(
        self,
        env_ids: np.ndarray,
        actions: Any,
        rewards: Any,
        next_obs: np.ndarray,
        terminated: Any,
        truncated: Any,
    ) -> None:
        """Append one step for each env in `env_ids` (arrays over those envs; `actions` 0-based)."""
        if not self.open[env_ids].all():
            closed = np.asarray(env_ids)[~self.open[env_ids]]
            raise RuntimeError(
                f"envs {closed.tolist()} have no ongoing episode in the buffer; call start_episodes first"
            )
        next_frames = self._frames_of(next_obs)
        if self.frame_stack > 1:
            self._check_sliding_stack(env_ids, next_frames)
        ended = np.logical_or(terminated, truncated)
        self._write_row(env_ids, next_frames[:, -1], actions, rewards, terminated, ended, is_transition=True)
        self.open[env_ids] = ~ended

    def _check_sliding_stack(self, env_ids: np.ndarray, next_frames: np.ndarray) -> None:
        previous = (self.writes[env_ids, None] + self._stack_offsets[1:] - 1) % self.rows
        if not np.array_equal(self.frames[np.asarray(env_ids)[:, None], previous], next_frames[:, :-1]):
            raise ValueError(
                f"observations of shape {self.obs_shape} are not a sliding stack of {self.frame_stack} frames "
                f"along axis {self.stack_axis} (the next observation must be the previous one shifted by one frame); "
                "set frame_stack to the env's stack size, or to 1 to store whole observations"
            )

    def end_episodes(self) -> None:
        """Close every env's ongoing episode (the next `add` needs `start_episodes` first)."""
        self.open[:] = False

    # ------------------------------------------------------------------ reading
    def __len__(self) -> int:
        """Transitions that can be sampled now."""
        low, high = self._windows()
        return int(sum(self.is_transition[e, np.arange(low[e], high[e]) % self.rows].sum() for e in range(self.n_envs)))

    @property
    def nbytes(self) -> int:
        """Bytes of all preallocated arrays."""
        return sum(
            a.nbytes
            for a in (self.frames, self.actions, self.rewards, self.terminated, self.episode_end, self.is_transition)
        )

    def _windows(self) -> tuple[np.ndarray, np.ndarray]:
        """Per env, the range [low, high) of row counts j whose transition can be sampled: rows j - k .. j
        (its observation's stack) are still in the ring and rows up to j + n - 1 (its n steps) are written."""
        low = np.maximum(self.writes - self.rows, 0) + self.frame_stack
        high = self.writes - self.n_step + 1
        return low, np.maximum(high, low)

    def sample_indices(self, batch_size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Uniform (env, row count) pairs of sampleable transitions."""
        low, high = self._windows()
        counts = high - low
        ends = np.cumsum(counts)
        if ends[-1] == 0:
            raise ValueError("the replay buffer holds no complete transition yet; add steps before sampling")
        envs = np.empty(batch_size, dtype=np.int64)
        rows = np.empty(batch_size, dtype=np.int64)
        todo = np.arange(batch_size)
        for _ in range(32):  # redraw the rows that start an episode (no transition ends there)
            draws = rng.integers(0, ends[-1], size=len(todo))
            e = np.searchsorted(ends, draws, side="right")
            j = low[e] + draws - (ends[e] - counts[e])
            envs[todo], rows[todo] = e, j
            todo = todo[~self.is_transition[e, j % self.rows]]
            if len(todo) == 0:
                return envs, rows
        valid = [
            (e, j) for e in range(self.n_envs) for j in range(low[e], high[e]) if self.is_transition[e, j % self.rows]
        ]
        if not valid:
            raise ValueError("the replay buffer holds no complete transition yet; add steps before sampling")
        pick = np.asarray(valid)[rng.integers(0, len(valid), size=len(todo))]
        envs[todo], rows[todo] = pick[:, 0], pick[:, 1]
        return envs, rows

    def sample(self, batch_size: int, rng: np.random.Generator) -> Batch:
        """`batch_size` transitions drawn uniformly with replacement."""
        return self.gather(*self.sample_indices(batch_size, rng))

    def _stacks(self, envs: np.ndarray, last_rows: np.ndarray) -> np.ndarray:
        """Observations whose newest frame is at row count `last_rows` of env `envs`."""
        rows = (last_rows[:, None] + self._stack_offsets) % self.rows
        return self._obs_of(self.frames[envs[:, None], rows])

    def gather(self, envs: np.ndarray, rows: np.ndarray) -> Batch:
        """The n-step transitions whose first step ends at row count `rows` of env `envs`."""
        steps = rows[:, None] + np.arange(self.n_step)  # the rows of the (up to) n steps
        at = (envs[:, None], steps % self.rows)
        # a step counts if every earlier step of the window did not end the episode and it is a transition
        included = self.is_transition[at].copy()
        included[:, 1:] &= ~self.episode_end[at][:, :-1]
        included = np.logical_and.accumulate(included, axis=1)
        n_steps = included.sum(axis=1)
        returns = (self.rewards[at] * included * self._gamma_powers[: self.n_step]).sum(axis=1)
        last = rows + n_steps - 1
        discounts = self._gamma_powers[n_steps] * ~self.terminated[envs, last % self.rows]
        return Batch(
            obs=self._stacks(envs, rows - 1),
            actions=self.actions[envs, rows % self.rows].astype(np.int64),
            returns=returns.astype(np.float32),
            next_obs=self._stacks(envs, last),
            discounts=discounts.astype(np.float32),
        )

    # ------------------------------------------------------------------ checkpoints
    ARRAYS: tuple[str, ...] = (
        "frames",
        "actions",
        "rewards",
        "terminated",
        "episode_end",
        "is_transition",
        "writes",
        "open",
    )

    def state_dict(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in self.ARRAYS}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        for name in self.ARRAYS:
            current = getattr(self, name)
            value = np.asarray(state[name])
            if value.shape != current.shape or value.dtype != current.dtype:
                raise ValueError(
                    f"replay buffer array {name!r} has shape {value.shape} {value.dtype} in the checkpoint, "
                    f"expected {current.shape} {current.dtype} (different buffer size, env count or observations)"
                )
            current[...] = value


class SumTree:
    """A binary tree over `size` non-negative leaves whose inner nodes hold the sum of their children:
    setting leaves and drawing a leaf with probability proportional to its value are O(log size),
    and both work on whole batches of indices at once (numpy)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.first_leaf = 1 << max(size - 1, 1).bit_length()  # leaves live at first_leaf + index
        self.nodes = np.zeros(2 * self.first_leaf, dtype=np.float64)  # nodes[1] is the root

    @property
    def total(self) -> float:
        return float(self.nodes[1])

    def __getitem__(self, indices: np.ndarray) -> np.ndarray:
        return self.nodes[self.first_leaf + np.asarray(indices)]

    def set(self, indices: np.ndarray, values: np.ndarray) -> None:
        """Set leaves (the last value wins where an index repeats) and recompute their ancestors, level by level.

        A repeated ancestor is recomputed twice from the same, already updated children: same value, so no
        de-duplication is needed. One leaf (a single env's step) walks up in plain Python, ~15x faster than
        numpy calls on one-element arrays."""
        nodes = self.first_leaf + np.asarray(indices, dtype=np.int64).reshape(-1)
        tree = self.nodes
        tree[nodes] = values
        if len(nodes) == 1:
            node = int(nodes[0]) >> 1
            while node:
                tree[node] = tree[2 * node] + tree[2 * node + 1]
                node >>= 1
            return
        while nodes[0] > 1:
            nodes >>= 1
            left = 2 * nodes
            tree[nodes] = tree[left] + tree[left + 1]

    def find(self, masses: np.ndarray) -> np.ndarray:
        """For each mass m in [0, total), the leaf where the running sum of leaves passes m."""
        nodes = np.ones(len(masses), dtype=np.int64)
        masses = np.array(masses, dtype=np.float64)
        while nodes[0] < self.first_leaf:
            left = 2 * nodes
            go_right = masses >= self.nodes[left]
            masses -= np.where(go_right, self.nodes[left], 0.0)
            nodes = left + go_right
        return np.minimum(nodes - self.first_leaf, self.size - 1)


class PrioritizedReplayBuffer(ReplayBuffer):
    """Proportional prioritized replay (Schaul et al. 2016) over the rows of `ReplayBuffer`.

    New transitions get the highest priority seen so far, so each is replayed at least about once.
    Rows that cannot be sampled (episode starts, the ring's oldest rows, the newest n-1) have
    priority 0. Importance weights are normalised by the largest weight in the batch (as Dopamine does).

    Arguments (besides `ReplayBuffer`'s): `alpha`, how strongly priorities skew sampling (0 = uniform);
    `eps`, added to |TD error| so that no transition becomes impossible to draw.
    """

    ARRAYS = ReplayBuffer.ARRAYS + ("tree", "max_priority")

    def __init__(self, *args: Any, alpha: float = 0.6, eps: float = 1e-6, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.alpha, self.eps = alpha, eps
        self.sum_tree = SumTree(self.n_envs * self.rows)
        self.max_priority = np.ones((), dtype=np.float64)

    @property
    def tree(self) -> np.ndarray:
        return self.sum_tree.nodes

    def _rows_written(self, env_ids: np.ndarray) -> None:
        writes = self.writes[env_ids]
        full = writes > self.rows
        if full.any():  # the row that just fell out of the sampling window (see `_windows`)
            leaving = writes[full] - self.rows + self.frame_stack - 1
            self.sum_tree.set(env_ids[full] * self.rows + leaving % self.rows, np.zeros(len(leaving)))
        entering = writes - self.n_step  # its n steps are now all written
        ok = entering >= self.frame_stack
        if ok.any():
            envs, positions = env_ids[ok], entering[ok] % self.rows
            priority = self.max_priority**self.alpha
            self.sum_tree.set(
                envs * self.rows + positions, np.where(self.is_transition[envs, positions], priority, 0.0)
            )

    def sample(self, batch_size: int, rng: np.random.Generator, *, beta: float = 0.4) -> Batch:
        """`batch_size` transitions drawn in proportion to their priority, one from each of `batch_size`
        equal slices of the total priority (stratified), with importance weights for exponent `beta`."""
        total = self.sum_tree.total
        if total <= 0:
            raise ValueError("the replay buffer holds no complete transition yet; add steps before sampling")
        masses = (np.arange(batch_size) + rng.random(batch_size)) * (total / batch_size)
        indices = self.sum_tree.find(masses)
        for _ in range(32):  # floating-point rounding can land on an empty leaf: redraw those
            empty = self.sum_tree[indices] <= 0
            if not empty.any():
                break
            indices[empty] = self.sum_tree.find(rng.random(int(empty.sum())) * total)
        probabilities = self.sum_tree[indices] / total
        weights = (probabilities * len(indices)) ** -beta
        batch = self.gather(indices // self.rows, indices % self.rows)
        batch.weights = (weights / weights.max()).astype(np.float32)
        batch.indices = indices
        return batch

    def update_priorities(self, indices: np.ndarray, td_errors: np.ndarray) -> None:
        """Set the priorities of sampled transitions to |TD error| + eps."""
        priorities = np.abs(np.asarray(td_errors, dtype=np.float64)) + self.eps
        self.max_priority[...] = max(float(self.max_priority), float(priorities.max()))
        self.sum_tree.set(indices, priorities**self.alpha)
