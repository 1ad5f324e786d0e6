"""DQN replay buffers: stored transitions come back exactly, frames are stored once, n-step returns."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from dqn_helpers import CounterEnv, make_stacked

from agents.dqn.replay import PrioritizedReplayBuffer, ReplayBuffer, SumTree


def fill(buffer: ReplayBuffer, env: gym.Env, steps: int, seed: int = 0) -> list[tuple]:
    """Play random actions in `env` for `steps` steps, feeding `buffer`; returns the true transitions."""
    rng = np.random.default_rng(seed)
    transitions = []
    obs, _ = env.reset(seed=seed)
    buffer.start_episodes([0], np.asarray(obs)[None])
    for _ in range(steps):
        action = int(rng.integers(env.action_space.n))
        next_obs, reward, terminated, truncated, _ = env.step(action)
        buffer.add(np.array([0]), action, reward, np.asarray(next_obs)[None], terminated, truncated)
        transitions.append((np.asarray(obs).copy(), action, reward, np.asarray(next_obs).copy(), terminated, truncated))
        obs = next_obs
        if terminated or truncated:
            obs, _ = env.reset()
            buffer.start_episodes([0], np.asarray(obs)[None])
    return transitions


def test_sampled_transitions_are_stored_ones_and_never_span_episodes() -> None:
    env = CounterEnv(truncate_at=6)
    buffer = ReplayBuffer(100, env.observation_space, 2, gamma=0.9)
    fill(buffer, env, 400)  # the ring wraps around several times
    batch = buffer.sample(2000, np.random.default_rng(1))
    tag, t = batch.obs[:, 0], batch.obs[:, 1]
    next_tag, next_t = batch.next_obs[:, 0], batch.next_obs[:, 1]
    np.testing.assert_array_equal(next_tag, tag)  # never across a reset
    np.testing.assert_array_equal(next_t, t + 1)
    np.testing.assert_array_equal(batch.returns, next_t)  # reward of step t is t
    # discount: 0 after termination, gamma after truncation (bootstrap from the final observation) or mid-episode
    terminal = batch.discounts == 0
    np.testing.assert_allclose(batch.discounts[~terminal], 0.9)
    assert terminal.any() and (~terminal).any()


def test_only_the_newest_transitions_are_kept() -> None:
    env = CounterEnv(min_length=1000, max_length=1000)
    buffer = ReplayBuffer(50, env.observation_space, 2)
    fill(buffer, env, 300)
    steps = buffer.sample(5000, np.random.default_rng(0)).next_obs[:, 1]
    assert steps.min() == 300 - 50 + 1 and steps.max() == 300
    assert len(buffer) == 50


def test_truncated_episodes_bootstrap_and_terminated_do_not() -> None:
    env = CounterEnv(min_length=5, max_length=5, truncate_at=3)  # always truncated at t = 3
    buffer = ReplayBuffer(100, env.observation_space, 2, gamma=0.5)
    fill(buffer, env, 30)
    batch = buffer.sample(500, np.random.default_rng(0))
    assert np.all(batch.discounts == 0.5)
    env = CounterEnv(min_length=3, max_length=3)  # always terminated at t = 3
    buffer = ReplayBuffer(100, env.observation_space, 2, gamma=0.5)
    fill(buffer, env, 30)
    batch = buffer.sample(500, np.random.default_rng(0))
    np.testing.assert_array_equal(batch.discounts == 0, batch.next_obs[:, 1] == 3)


def test_n_step_returns_stop_at_the_episode_end() -> None:
    gamma, n = 0.5, 3
    env = CounterEnv(min_length=5, max_length=5)
    buffer = ReplayBuffer(200, env.observation_space, 2, n_step=n, gamma=gamma)
    fill(buffer, env, 100)
    batch = buffer.sample(1000, np.random.default_rng(0))
    t0 = batch.obs[:, 1]  # the first step's reward is t0 + 1, then t0 + 2, ...
    for start, ret, next_t, discount in zip(t0, batch.returns, batch.next_obs[:, 1], batch.discounts):
        m = int(min(n, 5 - start))  # steps until the end of the episode, at most n
        assert next_t == start + m
        assert ret == pytest.approx(sum(gamma**i * (start + 1 + i) for i in range(m)))
        assert discount == pytest.approx(0.0 if start + m == 5 else gamma**m)
    np.testing.assert_array_equal(batch.next_obs[:, 0], batch.obs[:, 0])


@pytest.mark.parametrize("channels_last", [False, True])
def test_frame_stacks_are_rebuilt_exactly(channels_last: bool) -> None:
    env = make_stacked(stack=4, length=6)  # (4, 84, 84), padded with the reset frame
    if channels_last:
        env = gym.wrappers.TransformObservation(
            env, lambda obs: np.moveaxis(obs, 0, -1), gym.spaces.Box(0, 255, (84, 84, 4), np.uint8)
        )
    buffer = ReplayBuffer(60, env.observation_space, 3, frame_stack=4)
    truth = fill(buffer, env, 100)
    batch = buffer.sample(300, np.random.default_rng(0))
    true_pairs = {(o.tobytes(), n.tobytes()) for o, _, _, n, _, _ in truth}
    for obs, next_obs in zip(batch.obs, batch.next_obs):
        assert (obs.tobytes(), next_obs.tobytes()) in true_pairs
    assert batch.obs.shape == (300, *env.observation_space.shape) and batch.obs.dtype == np.uint8


def test_zero_padded_stacks_are_rebuilt_exactly() -> None:
    env = make_stacked(stack=4, length=5, padding_type="zero")
    buffer = ReplayBuffer(40, env.observation_space, 3, frame_stack=4)
    truth = fill(buffer, env, 60)
    true_pairs = {(o.tobytes(), n.tobytes()) for o, _, _, n, _, _ in truth}
    batch = buffer.sample(200, np.random.default_rng(0))
    assert all((o.tobytes(), n.tobytes()) in true_pairs for o, n in zip(batch.obs, batch.next_obs))
    assert (batch.obs[:, 0] == 0).any()  # some stacks start with zero padding


def test_image_stack_memory_is_one_frame_per_transition() -> None:
    capacity = 2000
    space = gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)
    buffer = ReplayBuffer(capacity, space, 6, frame_stack=4)
    assert buffer.nbytes <= 1.1 * capacity * 84 * 84
    channels_last = ReplayBuffer(capacity, gym.spaces.Box(0, 255, (84, 84, 4), np.uint8), 6, frame_stack=4, n_envs=4)
    assert channels_last.nbytes <= 1.1 * capacity * 84 * 84


def test_a_stack_that_does_not_slide_is_refused() -> None:
    space = gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)
    buffer = ReplayBuffer(10, space, 2, frame_stack=4)
    obs = np.random.default_rng(0).integers(0, 255, (1, 4, 84, 84), dtype=np.uint8)
    buffer.start_episodes([0], obs)
    with pytest.raises(ValueError, match="not a sliding stack of 4 frames"):
        buffer.add(np.array([0]), 0, 0.0, obs[:, ::-1], False, False)
    with pytest.raises(ValueError, match="not a stack of frame_stack=3"):
        ReplayBuffer(10, space, 2, frame_stack=3)


def test_adding_without_an_episode_start_is_an_error() -> None:
    buffer = ReplayBuffer(10, CounterEnv().observation_space, 2)
    with pytest.raises(RuntimeError, match="start_episodes"):
        buffer.add(np.array([0]), 0, 0.0, np.zeros((1, 2)), False, False)
    with pytest.raises(ValueError, match="no complete transition"):
        buffer.sample(4, np.random.default_rng(0))


def test_envs_of_a_vector_env_have_separate_rings() -> None:
    space = CounterEnv().observation_space
    buffer = ReplayBuffer(30, space, 2, n_envs=3)
    ids = np.arange(3)
    buffer.start_episodes(ids, np.array([[10, 0], [20, 0], [30, 0]], dtype=np.float32))
    for t in range(1, 40):
        obs = np.array([[10, t], [20, t], [30, t]], dtype=np.float32)
        buffer.add(
            ids, np.zeros(3, dtype=np.int64), np.full(3, t, np.float32), obs, np.zeros(3, bool), np.zeros(3, bool)
        )
    batch = buffer.sample(3000, np.random.default_rng(0))
    np.testing.assert_array_equal(batch.next_obs[:, 0], batch.obs[:, 0])
    np.testing.assert_array_equal(batch.next_obs[:, 1], batch.obs[:, 1] + 1)
    counts = np.unique(batch.obs[:, 0], return_counts=True)[1]
    assert counts.min() > 800  # uniform over the three envs


def test_state_dict_round_trip() -> None:
    env = CounterEnv()
    buffer = ReplayBuffer(50, env.observation_space, 2)
    fill(buffer, env, 80)
    copy = ReplayBuffer(50, env.observation_space, 2)
    copy.load_state_dict({k: v.copy() for k, v in buffer.state_dict().items()})
    a, b = buffer.sample(100, np.random.default_rng(3)), copy.sample(100, np.random.default_rng(3))
    np.testing.assert_array_equal(a.obs, b.obs)
    np.testing.assert_array_equal(a.returns, b.returns)
    with pytest.raises(ValueError, match="different buffer size"):
        ReplayBuffer(60, env.observation_space, 2).load_state_dict(buffer.state_dict())


def test_sum_tree_draws_in_proportion_to_values() -> None:
    tree = SumTree(5)
    tree.set(np.arange(5), np.array([1.0, 0.0, 3.0, 0.0, 4.0]))
    assert tree.total == 8.0
    draws = tree.find(np.random.default_rng(0).random(80_000) * tree.total)
    frequencies = np.bincount(draws, minlength=5) / len(draws)
    np.testing.assert_allclose(frequencies, [1 / 8, 0, 3 / 8, 0, 4 / 8], atol=0.01)
    tree.set(np.array([4, 4]), np.array([0.0, 0.0]))
    assert tree.total == 4.0


def test_sum_tree_inner_nodes_stay_the_sums_of_their_leaves() -> None:
    """Single-leaf and batched updates (with repeated indices: the last value wins) keep every inner node equal
    to the sum of the leaves below it, recomputed from scratch."""
    tree, rng = SumTree(37), np.random.default_rng(1)
    leaves = np.zeros(37)
    for step in range(300):
        size = 1 if step % 2 else int(rng.integers(2, 12))
        indices, values = rng.integers(0, 37, size), rng.random(size).round(3)
        tree.set(indices, values)
        for index, value in zip(indices, values):
            leaves[index] = value
    level = np.zeros(tree.first_leaf)
    level[:37] = leaves
    node = tree.first_leaf
    while node >= 1:
        np.testing.assert_allclose(tree.nodes[node : 2 * node], level, rtol=1e-12)
        level, node = level[0::2] + level[1::2], node // 2
    assert tree.total == pytest.approx(leaves.sum())


def test_prioritized_replay_prefers_high_td_errors_and_weights_them_down() -> None:
    env = CounterEnv(min_length=1000, max_length=1000)
    buffer = PrioritizedReplayBuffer(100, env.observation_space, 2, alpha=1.0)
    fill(buffer, env, 50)
    rng = np.random.default_rng(0)
    batch = buffer.sample(64, rng)
    assert batch.next_obs[:, 1].min() >= 1 and np.allclose(batch.weights, 1.0)  # all start at max priority
    every = buffer.gather(np.zeros(50, dtype=np.int64), np.arange(1, 51))
    assert np.all(every.next_obs[:, 1] == np.arange(1, 51))
    indices = np.arange(1, 51)  # flat row indices of the 50 transitions (one env)
    errors = np.where(every.next_obs[:, 1] == 7, 100.0, 1.0)
    buffer.update_priorities(indices, errors)
    batch = buffer.sample(1000, rng, beta=1.0)
    favourite = batch.next_obs[:, 1] == 7
    assert favourite.mean() > 0.5  # 100 / (100 + 49) of the mass
    assert batch.weights[favourite].max() < batch.weights[~favourite].min()


def test_prioritized_replay_never_draws_episode_starts_or_stale_rows() -> None:
    env = CounterEnv(min_length=2, max_length=4)
    buffer = PrioritizedReplayBuffer(40, env.observation_space, 2, n_step=2, gamma=0.5)
    fill(buffer, env, 300)
    batch = buffer.sample(4000, np.random.default_rng(0))
    np.testing.assert_array_equal(batch.next_obs[:, 0], batch.obs[:, 0])
    assert np.all(batch.next_obs[:, 1] > batch.obs[:, 1])
    newest = buffer.writes[0]
    assert np.all(buffer.sum_tree[np.arange(buffer.rows)][buffer.is_transition[0] == 0] == 0)
    assert newest > buffer.rows
