"""Size bounds and argument types of snake-v0: a too-large or wrongly typed option raises ValueError
naming the option, the value and the limit, before anything large is allocated."""

from __future__ import annotations

import tracemalloc

import gymnasium as gym
import pytest

import gym_snake  # noqa: F401  (registers snake-v0)
from gym_snake import SnakeEnv, SnakeVectorEnv
from gym_snake.core import (
    MAX_BATCH_CELLS,
    MAX_CELL_SIZE,
    MAX_IMAGE_PIXELS,
    MAX_NUM_ENVS,
    MAX_RENDER_CELL_SIZE,
    MAX_SIDE,
)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"width": 10**6, "height": 10**6}, rf"width must be an integer >= 2 and <= {MAX_SIDE}, got 1000000"),
        ({"height": MAX_SIDE + 1}, rf"height must be an integer >= 2 and <= {MAX_SIDE}, got {MAX_SIDE + 1}"),
        ({"cell_size": 65}, rf"cell_size must be an integer >= 1 and <= {MAX_CELL_SIZE}, got 65"),
        ({"render_cell_size": 10**9}, rf"render_cell_size must be .* <= {MAX_RENDER_CELL_SIZE}, got 1000000000"),
        (
            {"width": MAX_SIDE, "height": MAX_SIDE, "cell_size": 32},
            rf"rgb observation would be 8192x8192 = 67108864 pixels, more than the limit of {MAX_IMAGE_PIXELS}",
        ),
        ({"width": "10"}, r"width must be an integer >= 2 and <= 256, got '10' of type str"),
        ({"height": 10.0}, r"height must be an integer .* got 10.0 of type float"),
        ({"food_reward": "1"}, r"food_reward must be a finite number, got '1' of type str"),
        ({"step_reward": [0.0]}, r"step_reward must be a finite number, got \[0.0\] of type list"),
        ({"death_reward": None}, r"death_reward must be a finite number, got None"),
        ({"obs_type": ["grid"]}, r"obs_type must be one of .* got \['grid'\]"),
        (
            {"max_steps_without_food": 1.5},
            r"max_steps_without_food must be an integer >= 0 and <= 2147483647, got 1.5 of type float",
        ),
    ],
)
def test_single_env_rejects_oversized_or_mistyped_options_before_allocating(kwargs: dict, message: str) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=message):
            gym.make("snake-v0", **kwargs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20  # the error came before any big array


def test_largest_allowed_board_works() -> None:
    env = SnakeEnv(width=MAX_SIDE, height=MAX_SIDE, obs_type="grid")
    obs, _ = env.reset(seed=0)
    assert obs.shape == (MAX_SIDE * MAX_SIDE,) and env.observation_space.contains(obs)
    env.step(0)


def test_rendered_frame_size_is_checked_only_when_rendering_images() -> None:
    big = {"width": MAX_SIDE, "height": MAX_SIDE, "obs_type": "grid", "render_cell_size": 32}
    message = r"rendered frame would be 8200x8200 = 67240000 pixels.*lower width, height or render_cell_size"
    with pytest.raises(ValueError, match=message):
        SnakeEnv(render_mode="rgb_array", **big)
    SnakeEnv(render_mode="ansi", **big)  # text frames have no pixels
    SnakeEnv(**big)
    with pytest.raises(ValueError, match="rendered frame"):
        SnakeVectorEnv(2, render_mode="rgb_array", **big)


@pytest.mark.parametrize(
    ("num_envs", "kwargs", "message"),
    [
        (MAX_NUM_ENVS + 1, {"width": 2, "height": 2, "initial_length": 1}, rf"num_envs must be .* <= {MAX_NUM_ENVS}"),
        ("8", {}, r"num_envs must be an integer .* got '8' of type str"),
        (
            2**16,
            {"width": 64, "height": 64, "obs_type": "grid"},
            rf"num_envs=65536 games of 4098 board cells each make 268566528 board cells, more than the limit of "
            rf"{MAX_BATCH_CELLS}.*at most 16376",
        ),
        (2**10, {"cell_size": 64}, rf"1024 games of 1228800 observation bytes each .* limit of {MAX_BATCH_CELLS}"),
    ],
)
def test_vector_env_rejects_oversized_batches_before_allocating(num_envs: object, kwargs: dict, message: str) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=message):
            gym.make_vec("snake-v0", num_envs=num_envs, **kwargs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20
