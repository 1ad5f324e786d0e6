"""snake-v0's egocentric "view" observation and the copy=False option."""

from __future__ import annotations

import pickle

import gymnasium as gym
import numpy as np
import pytest

import gym_snake  # noqa: F401  (registers snake-v0)
from gym_snake import BODY, EMPTY, FOOD, HEAD, SnakeEnv, SnakeVectorEnv
from gym_snake.core import MAX_VIEW_RADIUS, MAX_VIEW_TABLE, WALL

W = WALL


def window(env: SnakeEnv, obs: np.ndarray) -> np.ndarray:
    side = 2 * env.config.view_radius + 1
    return obs.reshape(side, side)


def test_default_view_is_11x11_north_up_with_walls_outside_the_board() -> None:
    env = gym.make("snake-v0", obs_type="view", width=12, height=12)
    assert env.observation_space == gym.spaces.Box(0, WALL, (121,), np.uint8)
    obs, _ = env.reset(options={"snake": [(0, 2), (0, 1), (0, 0)], "food": (3, 5)})  # top row, heading right
    assert env.observation_space.contains(obs)
    view = window(env.unwrapped, obs)
    assert view[5, 5] == HEAD and view[5, 4] == BODY and view[5, 3] == BODY
    assert (view[:5] == W).all()  # rows above the board
    assert (view[5:, :3] == W).all()  # columns left of column 0
    assert view[8, 8] == FOOD  # 3 rows down, 3 columns right of the head
    assert (view[5:, 3:] != W).all()


def test_relative_view_turns_with_the_snake() -> None:
    env = SnakeEnv(obs_type="view", action_mode="relative", width=5, height=5, view_radius=2)
    obs, _ = env.reset(options={"snake": [(2, 2), (2, 1)], "food": (0, 4)})  # heading right
    expected = np.array(
        [
            [FOOD, EMPTY, EMPTY, EMPTY, EMPTY],  # ahead = east: the food is 2 ahead, 2 to the left (north)
            [EMPTY] * 5,
            [EMPTY, EMPTY, HEAD, EMPTY, EMPTY],
            [EMPTY, EMPTY, BODY, EMPTY, EMPTY],  # the neck behind
            [EMPTY] * 5,
        ]
    )
    np.testing.assert_array_equal(window(env, obs), expected)
    obs, *_ = env.step(2)  # turn right: now heading down, head at (3, 2)
    view = window(env, obs)
    assert view[2, 2] == HEAD and view[3, 2] == BODY  # the neck is behind the head: below it in the window
    assert (view[0] == W).all() and (view[1] != W).all()  # two ahead is row 5, off the board; one ahead is row 4
    assert FOOD not in view  # the food (0, 4) is 3 rows behind: beyond the radius


def test_absolute_view_does_not_turn() -> None:
    env = SnakeEnv(obs_type="view", width=5, height=5, view_radius=1)
    obs, _ = env.reset(options={"snake": [(2, 2), (2, 1)], "food": (0, 0)})
    np.testing.assert_array_equal(window(env, obs), [[0, 0, 0], [BODY, HEAD, 0], [0, 0, 0]])
    obs, *_ = env.step(2)  # down
    np.testing.assert_array_equal(window(env, obs), [[0, BODY, 0], [0, HEAD, 0], [0, 0, 0]])


def test_view_wraps_round_a_torus() -> None:
    env = SnakeEnv(obs_type="view", width=4, height=3, view_radius=2, wrap_walls=True, initial_length=1)
    obs, _ = env.reset(options={"snake": [(0, 0)], "heading": 1, "food": (2, 3)})
    view = window(env, obs)
    assert WALL not in view
    assert view[2, 2] == HEAD and view[1, 1] == FOOD  # (2, 3) is one up and one left of (0, 0) on the torus
    assert view[4, 1] == FOOD  # two down from row 0 is row 2 again (the board has 3 rows)
    assert (view == FOOD).sum() == 2 and (view == HEAD).sum() == 1


def test_view_radius_is_validated() -> None:
    with pytest.raises(ValueError, match=rf"view_radius must be an integer >= 1 and <= {MAX_VIEW_RADIUS}, got 0"):
        SnakeEnv(obs_type="view", view_radius=0)
    with pytest.raises(ValueError, match=r"view_radius must be an integer .* got '5' of type str"):
        SnakeEnv(obs_type="view", view_radius="5")
    message = rf"needs a lookup table of 58982400 entries, more than the limit of {MAX_VIEW_TABLE}"
    with pytest.raises(ValueError, match=message):
        SnakeEnv(obs_type="view", action_mode="relative", width=256, height=256, view_radius=7)
    SnakeEnv(obs_type="grid", width=256, height=256, view_radius=7)  # no table without the view


def test_copy_false_grid_is_a_read_only_view_that_follows_the_game() -> None:
    env = SnakeEnv(obs_type="grid", copy=False)
    first, _ = env.reset(seed=3)
    before = first.copy()
    second, *_ = env.step(env.heading)
    assert second is first and not first.flags.writeable
    assert not np.array_equal(first, before)  # the board moved under it
    np.testing.assert_array_equal(first, env.board().ravel())
    with pytest.raises(ValueError):
        first[0] = 1
    copied = SnakeEnv(obs_type="grid")
    a, _ = copied.reset(seed=3)
    b, *_ = copied.step(copied.heading)
    assert a is not b and a.flags.writeable
    np.testing.assert_array_equal(a, before)
    clone = pickle.loads(pickle.dumps(env))
    np.testing.assert_array_equal(clone.step(0)[0], env.step(0)[0])


@pytest.mark.parametrize("obs_type", ["grid", "view"])
def test_vector_copy_false_returns_read_only_buffers_equal_to_the_copies(obs_type: str) -> None:
    fast = SnakeVectorEnv(4, obs_type=obs_type, copy=False)
    slow = SnakeVectorEnv(4, obs_type=obs_type)
    a, _ = fast.reset(seed=1)
    b, _ = slow.reset(seed=1)
    np.testing.assert_array_equal(a, b)
    assert not a.flags.writeable and b.flags.writeable
    actions = np.random.default_rng(0).integers(4, size=(50, 4))
    for action in actions:
        a2, *_ = fast.step(action)
        b2, *_ = slow.step(action)
        assert a2 is a or np.shares_memory(a2, a)
        np.testing.assert_array_equal(a2, b2)
        assert fast.observation_space.contains(a2)


def test_copy_must_be_a_bool() -> None:
    with pytest.raises(ValueError, match="copy must be True or False, got 'no'"):
        SnakeEnv(copy="no")
    with pytest.raises(ValueError, match="copy must be True or False, got 0"):
        SnakeVectorEnv(2, copy=0)
