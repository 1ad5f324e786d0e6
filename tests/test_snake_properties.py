"""Property-based tests of snake-v0 (Hypothesis): random configurations, seeds and action sequences.

Profiles (tests/hypothesis_profiles.py): `ci` (default, ~25 examples a property) and `nightly`
(HYPOTHESIS_PROFILE=nightly, 1000).
"""

from __future__ import annotations

import pickle

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from gym_snake import FOOD, SnakeEnv, SnakeVectorEnv


@st.composite
def configs(draw: st.DrawFn) -> dict:
    width, height = draw(st.integers(2, 12)), draw(st.integers(2, 12))
    obs_type = draw(st.sampled_from(["grid", "features", "view", "rgb"]))
    config = {
        "width": width,
        "height": height,
        "initial_length": draw(st.integers(1, min(4, max(width, height) - 1))),
        "wrap_walls": draw(st.booleans()),
        "action_mode": draw(st.sampled_from(["absolute", "relative"])),
        "obs_type": obs_type,
        "max_steps_without_food": draw(st.none() | st.integers(0, 40)),
        "copy": draw(st.booleans()),
    }
    if obs_type == "view":
        config["view_radius"] = draw(st.integers(1, 4))
    if obs_type == "rgb":
        config["cell_size"] = draw(st.integers(1, 2))
    return config


seeds = st.integers(0, 2**31 - 1)
action_lists = st.lists(st.integers(0, 3), min_size=1, max_size=80)


def play(env: SnakeEnv, seed: int, actions: list[int], check=None) -> list:
    """Step `env` through `actions` (taken modulo its action count), resetting when an episode
    ends; the list of (obs copy, reward, terminated, truncated, info) of every reset and step."""
    obs, info = env.reset(seed=seed)
    trace = [(obs.copy(), 0.0, False, False, info)]
    n = env.action_space.n
    for action in actions:
        result = env.step(action % n)
        trace.append((result[0].copy(), *result[1:]))
        if check:
            check(env, result)
        if result[2] or result[3]:
            obs, info = env.reset()
            trace.append((obs.copy(), 0.0, False, False, info))
    return trace


def assert_same(a: list, b: list) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x[0], y[0])
        assert x[1:] == y[1:]


def check_invariants(env: SnakeEnv, result: tuple) -> None:
    obs, _, terminated, truncated, info = result
    assert env.observation_space.contains(obs)
    snake = env.snake
    assert len(set(snake)) == len(snake)  # the body never overlaps itself
    assert info["length"] == len(snake) == env.config.initial_length + info["score"]  # grows by one a food
    if env.food is not None:
        assert env.food not in snake  # food never under the body
        assert env.board()[env.food] == FOOD
    else:
        assert len(snake) == env.config.area and info["win"]
    board = env.board()
    assert (board > 0).sum() == len(snake) + (env.food is not None)


@given(configs(), seeds, action_lists)
def test_invariants_hold_on_every_step(config: dict, seed: int, actions: list[int]) -> None:
    env = SnakeEnv(**config)
    obs, info = env.reset(seed=seed)
    assert env.observation_space.contains(obs)
    assert info["length"] == config["initial_length"]
    play(env, seed, actions, check_invariants)


@given(configs(), seeds, action_lists)
def test_same_seed_and_actions_give_the_same_trajectory(config: dict, seed: int, actions: list[int]) -> None:
    assert_same(play(SnakeEnv(**config), seed, actions), play(SnakeEnv(**config), seed, actions))


@given(configs(), seeds, action_lists, st.integers(0, 80))
def test_a_pickled_env_continues_identically(config: dict, seed: int, actions: list[int], cut: int) -> None:
    env = SnakeEnv(**config)
    cut = min(cut, len(actions))
    play(env, seed, actions[:cut])
    clone = pickle.loads(pickle.dumps(env))
    rest = actions[cut:]
    n = env.action_space.n
    for action in rest:
        a, b = env.step(action % n), clone.step(action % n)
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1:] == b[1:]
        if a[2] or a[3]:
            assert_same([env.reset()], [clone.reset()])


@given(
    configs(),
    seeds,
    st.integers(1, 4),
    st.lists(st.integers(0, 2**16), min_size=1, max_size=60),
    st.sampled_from(["numpy", "numba"]),
)
def test_vector_sub_env_i_equals_a_single_env_seeded_seed_plus_i(
    config: dict, seed: int, num_envs: int, action_codes: list[int], engine: str
) -> None:
    venv = SnakeVectorEnv(num_envs, engine=engine, **config)
    singles = [SnakeEnv(**config) for _ in range(num_envs)]
    obs, _ = venv.reset(seed=seed)
    for i, env in enumerate(singles):
        np.testing.assert_array_equal(obs[i], env.reset(seed=seed + i)[0])
    n = venv.single_action_space.n
    ended = [False] * num_envs
    for code in action_codes:
        actions = np.array([(code >> (2 * i)) % n for i in range(num_envs)])
        obs, rewards, terminated, truncated, infos = venv.step(actions)
        assert venv.observation_space.contains(obs)
        for i, env in enumerate(singles):
            if ended[i]:
                expected_obs, info = env.reset()
                expected = (0.0, False, False)
                ended[i] = False
            else:
                expected_obs, reward, term, trunc, info = env.step(int(actions[i]))
                expected = (reward, term, trunc)
                ended[i] = term or trunc
            np.testing.assert_array_equal(obs[i], expected_obs)
            assert (rewards[i], terminated[i], truncated[i]) == expected
            assert infos["score"][i] == info["score"] and infos["length"][i] == info["length"]
