"""Inputs every env refuses with a ValueError naming the problem: bool actions, out-of-range counters
that a vector engine would overflow, non-integer reset coordinates; and a refused reset changes nothing
(not even the seed), so the episode after it is the one a user would get without that call."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import gym_gridworld  # noqa: F401  (registers gridworld-v0 and pacman-v0)
import gym_mdp  # noqa: F401  (registers mdp-v0)
import gym_snake  # noqa: F401  (registers snake-v0)
from gym_gridworld.pacman_vector import PacmanVectorEnv
from gym_mdp import InvalidMDPError, TabularMDP
from gym_snake.core import MAX_STEPS_WITHOUT_FOOD

ENV_IDS = ("snake-v0", "mdp-v0", "gridworld-v0", "pacman-v0")


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("action", [True, False, np.True_])
def test_a_bool_is_not_an_action(env_id: str, action: object) -> None:
    env = gym.make(env_id).unwrapped  # no checker wrapper in between: the env itself refuses
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action .* expected an integer in 0\.\."):
        env.step(action)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_a_refused_reset_keeps_the_seed_and_the_episode(env_id: str) -> None:
    env, twin = gym.make(env_id).unwrapped, gym.make(env_id).unwrapped
    for e in (env, twin):
        e.reset(seed=5)
        e.step(1)
    with pytest.raises(ValueError, match="reset option"):
        env.reset(seed=99, options={"bogus": 1})
    assert env.np_random_seed == twin.np_random_seed == 5
    for _ in range(30):  # the unseeded resets that follow draw from the same generator as the twin's
        first, _ = env.reset()
        second, _ = twin.reset()
        np.testing.assert_array_equal(first, second)
        np.testing.assert_array_equal(env.step(2)[0], twin.step(2)[0])


@pytest.mark.parametrize(
    "options",
    [
        {"snake": [(0.9, 1.7)], "heading": 1},
        {"snake": [("1", "2")], "heading": 1},
        {"snake": [(True, False)], "heading": 1},
        {"snake": [(1, 2)], "heading": 1, "food": (2.5, 3)},
        {"snake": None},
        {"snake": 7},
        {"snake": [(1, 2, 3)], "heading": 1},
    ],
)
def test_snake_reset_coordinates_must_be_integer_pairs(options: dict) -> None:
    env = gym.make("snake-v0").unwrapped
    with pytest.raises(ValueError, match=r"must be a (\(row, column\) pair of integers|list of 1 to 99)"):
        env.reset(options=options)
    env.reset(options={"snake": [(np.int64(1), 2)], "heading": 1, "food": (3, np.int32(3))})
    assert env.food == (3, 3)


@pytest.mark.parametrize("seed", [True, 1.5, "3", {0: 1}])
def test_snake_vector_seed_must_be_an_int_or_a_list(seed: object) -> None:
    envs = gym.make_vec("snake-v0", 2, obs_type="grid")
    with pytest.raises(ValueError, match=r"seed must be None, an int or a list of 2 ints/None, got"):
        envs.reset(seed=seed)


@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_the_largest_starvation_limit_runs_on_both_engines(engine: str) -> None:
    """The compiled engine used to accept 2**63 and fail on its first step (an int64 overflow)."""
    message = rf"max_steps_without_food must be an integer >= 0 and <= {MAX_STEPS_WITHOUT_FOOD}, got {2**63}"
    with pytest.raises(ValueError, match=message):
        gym.make_vec("snake-v0", 2, obs_type="grid", engine=engine, max_steps_without_food=2**63)
    envs = gym.make_vec("snake-v0", 2, obs_type="grid", engine=engine, max_steps_without_food=MAX_STEPS_WITHOUT_FOOD)
    envs.reset(seed=0)
    _, _, _, truncated, _ = envs.step(np.ones(2, dtype=np.int64))
    assert not truncated.any()


def test_a_reward_beyond_float_range_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"food_reward must be a finite number, got 1000"):
        gym.make("snake-v0", food_reward=10**400)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_envs": 10**12}, r"num_envs must be an integer in 1\.\.65536, got 1000000000000"),
        ({"num_envs": 60_000, "layout": "medium"}, r"num_envs=60000 games of \d+ observation bytes exceed .* at most"),
        ({"num_envs": 1, "lives": 2**63}, r"lives must be an integer in 1\.\.2147483647"),
        ({"num_envs": 1, "frightened_steps": 2**31}, r"frightened_steps must be an integer in 1\.\.2147483647"),
    ],
)
def test_pacman_vector_limits_are_checked_before_allocating(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PacmanVectorEnv(**kwargs)


@pytest.mark.parametrize(
    ("transitions", "rewards", "start_state", "where"),
    [
        ([[[True, 0]], [[0, 1.0]]], [[[0, 0]], [[0, 0]]], 0, r"transitions\[0\]\[0\]"),
        ([[[1, 0]], [[0, 1.0]]], [[[True, 0]], [[0, 0]]], 0, r"rewards\[0\]\[0\]"),
        ([[[1, 0]], [[0, 1.0]]], [[[0, 0]], [[0, 0]]], [True, 0], "start_state distribution"),
    ],
)
def test_mdp_tables_refuse_bools_mixed_with_numbers(transitions, rewards, start_state, where) -> None:
    with pytest.raises(InvalidMDPError, match=rf"{where} must hold numbers \(no bools\)"):
        TabularMDP(transitions, rewards, start_state=start_state)
    TabularMDP([[[1, 0]], [[0, 1.0]]], [[[0, 0]], [[0, 0]]], start_state=[1, 0])  # plain numbers pass


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"player": (5, 9)}, r"the player at \(5, 9\) is not a \(row, column\) cell of the 3x6 maze"),
        ({"player": (1.0, 1)}, r"the player at \(1.0, 1\) is not a \(row, column\) cell"),
        ({"player": (0, 0)}, r"the player at \(0, 0\) is on a wall"),
        ({"ghosts": ((1, 9),)}, r"a ghost at \(1, 9\) is not a \(row, column\) cell"),
        ({"pellets": np.zeros((3, 5), dtype=bool)}, "walls, pellets and power_pellets must have the same shape"),
        ({"walls": np.zeros((3, 6), dtype=np.int8)}, "walls, pellets and power_pellets must be 2-D bool"),
    ],
)
def test_a_layout_built_by_hand_is_checked_like_a_parsed_one(change: dict, message: str) -> None:
    """It used to fail later with an IndexError at reset, or to start the player inside a wall."""
    import dataclasses

    from gym_gridworld import LayoutError, parse_layout
    from gym_gridworld.pacman import PacmanEnv

    layout = parse_layout("%%%%%%\n%Po.G%\n%%%%%%\n", "hand")
    with pytest.raises(LayoutError, match=f"hand: {message}"):
        PacmanEnv(layout=dataclasses.replace(layout, **change), obs_type="grid")
    with pytest.raises(LayoutError, match=f"hand: {message}"):
        PacmanVectorEnv(2, layout=dataclasses.replace(layout, **change), obs_type="grid")
    PacmanEnv(layout=layout).reset(seed=0)
