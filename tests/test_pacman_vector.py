"""pacman-v0's native vector env: sub-env i equals a single env seeded seed + i, step for step."""

from __future__ import annotations

import pickle

import gymnasium as gym
import numpy as np
import pytest
from pacman_helpers import side_by_side

import gym_gridworld  # noqa: F401  (registers the ids)
from gym_gridworld import builtin_layouts, parse_layout
from gym_gridworld.pacman import PacmanEnv
from gym_gridworld.pacman_vector import PacmanVectorEnv

POWER_ROOM = parse_layout("%%%%%%%%%\n%Po....G%\n%.%%%.%.%\n%...o...%\n%%%%%%%%%\n", "power room")
WIN_ROOM = parse_layout("%%%%%%%%%%\n%.Po    G%\n%%%%%%%%%%\n", "win room")


def random_actions(steps: int, games: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 4, (steps, games))


@pytest.mark.parametrize("layout", builtin_layouts())
@pytest.mark.parametrize("obs_type", ["grid", "rgb"])
def test_every_game_equals_a_single_env_on_every_builtin_layout(layout, obs_type):
    seen = side_by_side(random_actions(400, 6), seed=11, layout=layout, obs_type=obs_type, frightened_steps=8)
    assert seen["ended"] >= 6 and seen["died"] > 0 and (seen["scared"] > 0 or layout != "small"), seen


def test_equal_through_power_pellets_eaten_ghosts_deaths_and_time_limits():
    seen = side_by_side(
        random_actions(300, 8, seed=2),
        seed=3,
        max_episode_steps=40,
        layout=POWER_ROOM,
        obs_type="grid",
        ghost_randomness=0.5,
        frightened_steps=6,
    )
    assert min(seen["eaten"], seen["died"], seen["truncated"]) > 0, seen


def test_equal_through_wins():
    seen = side_by_side(random_actions(100, 4, seed=2), seed=3, layout=WIN_ROOM, obs_type="grid")
    assert seen["won"] > 5, seen


def test_make_vec_gives_the_native_env_with_the_registered_time_limit():
    envs = gym.make_vec("pacman-v0", num_envs=3, obs_type="grid")
    assert isinstance(envs, PacmanVectorEnv) and envs.max_episode_steps == 1000
    obs, info = envs.reset(seed=[4, None, 6])
    assert obs.shape == (3, 7, 12, 12) and envs.observation_space.contains(obs)
    np.testing.assert_array_equal(obs[2], PacmanEnv(obs_type="grid").reset(seed=6)[0])
    assert set(info) == {"lives", "pellets_left", "win", "_lives", "_pellets_left", "_win"}


def test_pickled_mid_episode_the_vector_env_continues_identically():
    envs = PacmanVectorEnv(num_envs=4, obs_type="grid", layout="medium")
    envs.reset(seed=1)
    actions = random_actions(120, 4, seed=9)
    for batch in actions[:60]:
        envs.step(batch)
    twin = pickle.loads(pickle.dumps(envs))
    for batch in actions[60:]:
        a, b = envs.step(batch), twin.step(batch)
        for x, y in zip(a[:4], b[:4]):
            np.testing.assert_array_equal(x, y)


def test_render_gives_each_games_frame_and_text():
    frames = PacmanVectorEnv(num_envs=2, render_mode="rgb_array")
    texts = PacmanVectorEnv(num_envs=2, render_mode="ansi")
    single = PacmanEnv(render_mode="rgb_array")
    single_text = PacmanEnv(render_mode="ansi")
    for env in (frames, texts):
        env.reset(seed=0)
        env.step(np.array([2, 3]))
    for env in (single, single_text):
        env.reset(seed=1)
        env.step(3)
    np.testing.assert_array_equal(frames.render()[1], single.render())
    assert texts.render()[1] == single_text.render()


def test_bad_calls_raise_clear_errors():
    envs = PacmanVectorEnv(num_envs=2)
    with pytest.raises(gym.error.ResetNeeded):
        envs.step(np.array([0, 0]))
    envs.reset(seed=0)
    for actions, pattern in [
        (np.array([0, 4]), r"invalid actions \[4\]"),
        (np.array([0.0, 1.0]), "integer array of shape"),
    ]:
        with pytest.raises(ValueError, match=pattern):
            envs.step(actions)
    for kwargs, pattern in [
        ({"num_envs": 0}, r"num_envs must be an integer in 1\.\.65536, got 0"),
        ({"obs_type": "x"}, "obs_type must be one of"),
        ({"lives": 0}, "lives must be"),
        ({"max_episode_steps": 0}, "max_episode_steps"),
    ]:
        with pytest.raises(ValueError, match=pattern):
            PacmanVectorEnv(**kwargs)
    with pytest.raises(ValueError, match="takes no reset options"):
        envs.reset(options={"x": 1})
