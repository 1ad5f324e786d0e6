"""Property-based tests of gridworld-v0 (Hypothesis): generated configurations, seeds and actions.

The number of examples comes from the Hypothesis profile (tests/hypothesis_profiles.py)."""

from __future__ import annotations

import pickle
from datetime import timedelta

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gym_gridworld.gridworld import FIRE, GOAL, MAX_OBJECTS, MAX_SIZE, GridworldEnv
from gym_gridworld.vector import GridworldVectorEnv

SEEDS = st.integers(0, 2**32 - 1)
ACTIONS = st.lists(st.integers(0, 3), min_size=1, max_size=40)
REWARDS = st.floats(-5, 5, allow_nan=False)


@st.composite
def configs(draw: st.DrawFn) -> dict:
    """Valid GridworldEnv keyword arguments, small worlds (1x1 to 7x7 floors) and every option."""
    size = draw(st.integers(1, 7))
    n_goals = draw(st.integers(0, min(size * size - 1, 6)))
    n_fires = draw(st.integers(0, min(size * size - 1 - n_goals, 6)))
    return {
        "size": size,
        "n_goals": n_goals,
        "n_fires": n_fires,
        "partial": draw(st.booleans()),
        "obs_type": draw(st.sampled_from(["rgb", "grid"])),
        "goal_reward": draw(REWARDS),
        "fire_reward": draw(REWARDS),
        "step_penalty": draw(REWARDS),
    }


def object_counts(env: GridworldEnv) -> tuple[int, int]:
    kinds = env.game.kinds()[0]
    return int((kinds == GOAL).sum()), int((kinds == FIRE).sum())


def rollout(env: GridworldEnv, seed: int, actions: list[int]) -> list[tuple]:
    obs, _ = env.reset(seed=seed)
    trajectory = [(obs.copy(), 0.0)]
    for action in actions:
        obs, reward, terminated, truncated, _ = env.step(action)
        assert not terminated and not truncated
        trajectory.append((obs.copy(), reward))
    return trajectory


@given(configs(), SEEDS, ACTIONS)
def test_observations_stay_in_the_space_and_objects_are_never_lost(config, seed, actions):
    env = GridworldEnv(**config)
    obs, _ = env.reset(seed=seed)
    assert env.observation_space.contains(obs)
    assert object_counts(env) == (config["n_goals"], config["n_fires"])
    for action in actions:
        obs, reward, *_ = env.step(action)
        assert env.observation_space.contains(obs)
        assert object_counts(env) == (config["n_goals"], config["n_fires"])  # a collected one reappears
        assert env.game.agent[0] not in env.game.objects[0]  # ... on a cell free of the agent
        assert reward in {-config["step_penalty"], config["goal_reward"] - config["step_penalty"],
                          config["fire_reward"] - config["step_penalty"]}  # fmt: skip


@given(configs(), SEEDS, ACTIONS)
def test_same_seed_and_actions_give_the_same_trajectory(config, seed, actions):
    first, second = rollout(GridworldEnv(**config), seed, actions), rollout(GridworldEnv(**config), seed, actions)
    for (obs_a, reward_a), (obs_b, reward_b) in zip(first, second):
        np.testing.assert_array_equal(obs_a, obs_b)
        assert reward_a == reward_b


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(configs(), SEEDS, st.integers(1, 4), st.integers(1, 12), st.lists(st.integers(0, 3), min_size=3, max_size=90))
def test_vector_sub_env_i_equals_a_single_env_seeded_seed_plus_i(config, seed, n, limit, flat_actions):
    seed = min(seed, 2**32 - 1 - n)
    envs = GridworldVectorEnv(n, max_episode_steps=limit, copy=False, **config)
    singles = [GridworldEnv(**config) for _ in range(n)]
    obs, _ = envs.reset(seed=seed)
    for i, env in enumerate(singles):
        np.testing.assert_array_equal(obs[i], env.reset(seed=seed + i)[0])
    elapsed = [0] * n
    for t in range(len(flat_actions) // n):
        batch = np.array(flat_actions[t * n : (t + 1) * n])
        obs, rewards, _, truncated, _ = envs.step(batch)
        for i, env in enumerate(singles):
            if elapsed[i] == limit:  # NEXT_STEP autoreset: the world restarts, its action ignored
                want, reward, elapsed[i] = env.reset()[0], 0.0, 0
            else:
                want, reward = env.step(int(batch[i]))[:2]
                elapsed[i] += 1
            np.testing.assert_array_equal(obs[i], want)
            assert rewards[i] == reward and truncated[i] == (elapsed[i] == limit)
        assert envs.observation_space.contains(obs)


@given(configs(), SEEDS, ACTIONS, ACTIONS)
def test_a_pickled_env_continues_identically(config, seed, before, after):
    env = GridworldEnv(**config)
    env.reset(seed=seed)
    for action in before:
        env.step(action)
    twin = pickle.loads(pickle.dumps(env))
    for action in after:
        mine, theirs = env.step(action), twin.step(action)
        np.testing.assert_array_equal(mine[0], theirs[0])
        assert mine[1:] == theirs[1:]


# --------------------------------------------------------------------------- bad arguments
JUNK = st.one_of(
    st.none(), st.booleans(), st.floats(), st.text(max_size=5), st.lists(st.integers(), max_size=3),
    st.integers(-(2**70), 2**70),
)  # fmt: skip
ARGUMENTS = ("size", "n_goals", "n_fires", "partial", "obs_type", "goal_reward", "fire_reward", "step_penalty")


@settings(deadline=timedelta(seconds=5))  # a bad size must fail fast, not allocate first
@given(st.sampled_from(ARGUMENTS), JUNK, st.integers(1, MAX_SIZE + 5))
def test_bad_arguments_raise_a_value_error_naming_them_fast(name, value, num_envs):
    """Any value is either accepted or refused with a ValueError that names the argument (or, for
    objects that do not fit the floor, the counts), never another exception or a huge allocation."""
    for make in (lambda: GridworldEnv(**{name: value}), lambda: GridworldVectorEnv(num_envs, **{name: value})):
        try:
            env = make()
        except ValueError as error:
            assert name in str(error) or "n_goals + n_fires" in str(error) or "num_envs" in str(error), error
        else:
            assert env.observation_space.contains(env.reset(seed=0)[0])


@settings(deadline=timedelta(seconds=5))
@given(st.integers(-(2**40), 2**40), st.integers(-(2**40), 2**40), st.integers(-(2**40), 2**40))
def test_huge_or_negative_sizes_and_counts_are_refused_before_allocating(size, n_goals, num_envs):
    valid = 1 <= size <= MAX_SIZE and 0 <= n_goals <= MAX_OBJECTS and n_goals < size * size and 1 <= num_envs <= 2**16
    if valid and num_envs * (size + 2) ** 2 > 2**20:
        return  # valid but big: allocating it is right, and not what this test is for
    try:
        GridworldVectorEnv(num_envs, size=size, n_goals=n_goals, n_fires=0, obs_type="grid")
    except ValueError as error:
        assert not valid or "bytes per batch" in str(error)
    else:
        assert valid
