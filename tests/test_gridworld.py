"""gridworld-v0: the tutorial's rules, observations, rendering, validation and the native vector env."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import gym_gridworld
from gym_gridworld import DOWN, LEFT, RIGHT, UP
from gym_gridworld.core import WorldDraws, choose_unoccupied
from gym_gridworld.gridworld import AGENT, COLORS, EMPTY, FIRE, GOAL, WALL
from gym_gridworld.vector import GridworldVectorEnv

BLACK, WHITE, BLUE, GREEN, RED = (tuple(int(v) for v in c) for c in COLORS[[EMPTY, WALL, AGENT, GOAL, FIRE]])


def make(**kwargs):
    return gym.make("gridworld-v0", **kwargs)


def place(env, agent, goals=(), fires=()):
    """Put the agent and objects of a reset env on the given (row, col) floor cells."""
    game = env.unwrapped.game
    assert game.n_objects == len(goals) + len(fires)
    game.agent[0] = game.cell(*agent)
    game.objects[0] = [game.cell(*rc) for rc in (*goals, *fires)]


def cells_of(env):
    """(agent, goals, fires) as sets of (row, col)."""
    game = env.unwrapped.game
    goals = {game.floor_row_col(c) for c, kind in zip(game.objects[0], game.slot_kinds) if kind == GOAL}
    fires = {game.floor_row_col(c) for c, kind in zip(game.objects[0], game.slot_kinds) if kind == FIRE}
    return game.floor_row_col(game.agent[0]), goals, fires


# --------------------------------------------------------------------------- rules
def test_defaults_follow_the_tutorial():
    env = make()
    assert env.spec.max_episode_steps == 50
    assert env.action_space == gym.spaces.Discrete(4)
    assert (UP, DOWN, LEFT, RIGHT) == (0, 1, 2, 3)
    assert env.observation_space == gym.spaces.Box(0, 255, (84, 84, 3), np.uint8)
    env.reset(seed=0)
    agent, goals, fires = cells_of(env)
    assert len(goals) == 4 and len(fires) == 2 and agent not in goals | fires and not goals & fires
    for t in range(1, 51):  # never terminates; truncated at step 50
        _, _, terminated, truncated, info = env.step(t % 4)
        assert not terminated and truncated == (t == 50) and info == {}


def test_walls_block_without_penalty():
    env = make(n_goals=0, n_fires=0)
    env.reset(seed=0)
    place(env, (0, 0))
    for action in (UP, LEFT):
        _, reward, *_ = env.step(action)
        assert reward == 0.0 and cells_of(env)[0] == (0, 0)
    place(env, (4, 4))
    for action in (DOWN, RIGHT):
        env.step(action)
        assert cells_of(env)[0] == (4, 4)
    env.step(UP)
    assert cells_of(env)[0] == (3, 4)


@pytest.mark.parametrize("kind, reward", [("goal", 1.0), ("fire", -1.0)])
def test_collected_object_reappears_on_a_free_cell(kind, reward):
    env = make()
    for seed in range(20):
        env.reset(seed=seed)
        goals, fires = [(0, 1), (2, 2), (3, 3), (4, 4)], [(1, 0), (4, 0)]
        place(env, (0, 0), goals, fires)
        _, got, *_ = env.step(RIGHT if kind == "goal" else DOWN)
        assert got == reward
        agent, new_goals, new_fires = cells_of(env)
        assert len(new_goals) == 4 and len(new_fires) == 2, "an object was lost or doubled"
        assert agent not in new_goals | new_fires and not new_goals & new_fires
        unchanged = (set(goals) | set(fires)) - {agent}
        assert unchanged <= new_goals | new_fires, "an object that was not collected moved"


def test_scripted_episode_rewards_match_hand_computed_values():
    """Seed 7 lays out the world below; the path collects goals and a fire whose rewards (and the
    cells where the collected objects reappear) are checked against the pictures."""
    env = make(render_mode="ansi")
    env.reset(seed=7)
    assert env.render() == "#######\n#.....#\n#.....#\n#..+..#\n#++.xx#\n#.+.@.#\n#######\n"
    path = [LEFT, LEFT, UP, LEFT, UP, RIGHT, RIGHT, DOWN, RIGHT, UP, UP, UP, UP]
    expected = [0, +1, +1, +1, 0, 0, +1, 0, -1, 0, +1, 0, 0]  # the last UP bumps into the wall
    rewards = [env.step(action)[1] for action in path]
    assert rewards == expected and sum(rewards) == 4
    assert env.render() == "#######\n#.+.@+#\n#..+..#\n#.....#\n#....x#\n#..x+.#\n#######\n"


def test_step_penalty_and_custom_rewards():
    env = make(n_goals=1, n_fires=1, goal_reward=2.5, fire_reward=-4.0, step_penalty=0.1)
    env.reset(seed=0)
    place(env, (0, 0), [(0, 1)], [(1, 1)])
    assert env.step(RIGHT)[1] == pytest.approx(2.4)
    place(env, (0, 1), [(0, 3)], [(1, 1)])
    assert env.step(DOWN)[1] == pytest.approx(-4.1)
    place(env, (0, 1), [(0, 3)], [(4, 4)])
    assert env.step(LEFT)[1] == pytest.approx(-0.1)


def test_too_many_objects_and_bad_arguments_raise():
    with pytest.raises(ValueError, match=r"3x3 world has 9 cells.*1 agent \+ 6 goals \+ 3 fires = 10"):
        make(size=3, n_goals=6, n_fires=3)
    for kwargs, pattern in [
        ({"size": 0}, r"size must be an integer in 1..100, got 0"),
        ({"n_goals": -1}, "n_goals"),
        ({"n_fires": 1.5}, "n_fires"),
        ({"obs_type": "pixels"}, r"obs_type must be one of \('rgb', 'grid'\)"),
        ({"partial": "yes"}, "partial must be True or False"),
        ({"goal_reward": float("nan")}, "goal_reward must be a finite number"),
        ({"size": 90}, "size must be at most 82"),
    ]:
        with pytest.raises(ValueError, match=pattern):
            make(**kwargs)
    with pytest.raises(ValueError, match="render_mode must be one of"):
        gym_gridworld.GridworldEnv(render_mode="rgb")
    make(size=90, obs_type="grid")  # big worlds are fine without the image
    env = make()
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"expected an integer in 0..3 \(0 up, 1 down, 2 left, 3 right\)"):
        env.step(4)
    with pytest.raises(ValueError, match="no reset options"):
        env.reset(options={"state": 3})


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        ({"size": 10**9}, r"size must be an integer in 1..100, got 1000000000 \(limit 100\)"),
        ({"size": 101, "obs_type": "grid"}, r"size must be an integer in 1..100, got 101"),
        ({"size": 5.0}, r"size must be an integer in 1..100, got 5.0"),
        ({"size": "5"}, r"size must be an integer in 1..100, got '5'"),
        ({"n_goals": 10**12}, r"n_goals must be an integer in 0..64, got 1000000000000 \(limit 64\)"),
        ({"n_fires": 65}, r"n_fires must be an integer in 0..64, got 65 \(limit 64\)"),
        ({"n_fires": None}, r"n_fires must be an integer in 0..64, got None"),
        ({"size": 2, "n_goals": 2, "n_fires": 2}, r"n_goals \+ n_fires = 4 exceeds the limit size \* size - 1 = 3"),
        ({"num_envs": 10**7}, r"num_envs must be an integer in 1..65536, got 10000000 \(limit 65536\)"),
        ({"num_envs": True}, r"num_envs must be an integer in 1..65536, got True"),
        (
            {"num_envs": 60_000},
            r"num_envs=60000 worlds of 21168 observation bytes exceed the limit of 1073741824 bytes",
        ),
        ({"num_envs": 30_000, "size": 100, "obs_type": "grid"}, r"at most 25801 worlds"),
        ({"obs_type": ["rgb"]}, r"obs_type must be one of \('rgb', 'grid'\), got \['rgb'\]"),
        ({"max_episode_steps": 0.5}, r"max_episode_steps must be an integer >= 1, got 0.5"),
    ],
)
def test_size_arguments_are_bounded_before_any_allocation(kwargs, pattern):
    """Huge sizes, counts and batches fail with a ValueError naming the argument, value and limit
    instead of a MemoryError or a machine that swaps."""
    single_kwargs = {k: v for k, v in kwargs.items() if k not in ("num_envs", "max_episode_steps")}
    if single_kwargs == kwargs:
        with pytest.raises(ValueError, match=pattern):
            gym_gridworld.GridworldEnv(**kwargs)
    with pytest.raises(ValueError, match=pattern):
        GridworldVectorEnv(**{"num_envs": 2, **kwargs})


def test_the_largest_allowed_sizes_work():
    env = gym_gridworld.GridworldEnv(size=100, n_goals=64, n_fires=64, obs_type="grid")
    obs, _ = env.reset(seed=0)
    assert obs.shape == (4, 102, 102) and obs[1:].sum() == 129
    full = gym_gridworld.GridworldEnv(size=11, n_goals=64, n_fires=56, obs_type="grid")
    assert full.reset(seed=0)[0][1:].sum() == 121  # every floor cell taken
    assert gym_gridworld.GridworldEnv(size=82).reset(seed=0)[0].shape == (84, 84, 3)


# --------------------------------------------------------------------------- observations
def cell_colour(image, row, col, cells_per_side):
    pixels = 84 / cells_per_side
    return tuple(int(v) for v in image[int((row + 0.5) * pixels), int((col + 0.5) * pixels)])


def test_full_image_is_the_bordered_world_at_12_pixels_per_cell():
    env = make()
    env.reset(seed=0)
    place(env, (0, 0), [(0, 1), (2, 2), (3, 3), (4, 4)], [(1, 0), (4, 0)])
    obs = env.step(UP)[0]
    assert obs.shape == (84, 84, 3) and obs.dtype == np.uint8
    expected = {
        (0, 0): WHITE,
        (6, 6): WHITE,
        (1, 1): BLUE,
        (1, 2): GREEN,
        (5, 5): GREEN,
        (2, 1): RED,
        (5, 1): RED,
        (1, 3): BLACK,
    }
    for (row, col), colour in expected.items():
        assert cell_colour(obs, row, col, 7) == colour, (row, col)
    blocks = obs.reshape(7, 12, 7, 12, 3)  # crisp: every 12x12 block is one colour
    assert (blocks == blocks[:, :1, :, :1]).all()


def test_partial_view_shows_the_3x3_cells_around_the_agent():
    env = make(partial=True)
    env.reset(seed=0)
    place(env, (0, 0), [(0, 1), (2, 2), (3, 3), (4, 4)], [(1, 0), (4, 0)])
    image = env.step(UP)[0]
    grid_env = make(partial=True, obs_type="grid")
    grid_env.reset(seed=0)
    place(grid_env, (0, 0), [(0, 1), (2, 2), (3, 3), (4, 4)], [(1, 0), (4, 0)])
    planes = grid_env.step(UP)[0]
    assert grid_env.observation_space == gym.spaces.MultiBinary((4, 3, 3))
    wall, agent, goal, fire = planes
    np.testing.assert_array_equal(wall, [[1, 1, 1], [1, 0, 0], [1, 0, 0]])
    np.testing.assert_array_equal(agent, [[0, 0, 0], [0, 1, 0], [0, 0, 0]])
    np.testing.assert_array_equal(goal, [[0, 0, 0], [0, 0, 1], [0, 0, 0]])
    np.testing.assert_array_equal(fire, [[0, 0, 0], [0, 0, 0], [0, 1, 0]])
    colours = {(0, 0): WHITE, (1, 0): WHITE, (1, 1): BLUE, (1, 2): GREEN, (2, 1): RED, (2, 2): BLACK}
    for (row, col), colour in colours.items():
        assert cell_colour(image, row, col, 3) == colour, (row, col)


def test_grid_observation_is_one_hot_and_matches_the_image():
    rgb, grid = make(size=6), make(size=6, obs_type="grid")
    assert grid.observation_space == gym.spaces.MultiBinary((4, 8, 8))
    image, planes = rgb.reset(seed=3)[0], grid.reset(seed=3)[0]
    for action in [RIGHT, DOWN, DOWN, LEFT, UP, RIGHT, RIGHT, DOWN]:
        image, planes = rgb.step(action)[0], grid.step(action)[0]
    assert planes.dtype == np.int8 and planes.sum(axis=0).max() == 1  # at most one channel per cell
    assert planes[1].sum() == 1 and planes[2].sum() == 4 and planes[3].sum() == 2
    colour_of_channel = [WHITE, BLUE, GREEN, RED]
    for row in range(8):
        for col in range(8):
            on = np.flatnonzero(planes[:, row, col])
            expected = colour_of_channel[on[0]] if on.size else BLACK
            assert cell_colour(image, row, col, 8) == expected, (row, col)


# --------------------------------------------------------------------------- rendering
def test_render_modes():
    frame = make(render_mode="rgb_array", partial=True)
    frame.reset(seed=0)
    picture = frame.render()
    assert picture.shape == (224, 224, 3) and picture.dtype == np.uint8
    assert (picture == (255, 200, 0)).all(axis=2).any(), "the partial view is outlined"
    text = make(render_mode="ansi")
    text.reset(seed=0)
    lines = text.render().splitlines()
    assert lines[0] == "#" * 7 and len(lines) == 7 and "".join(lines).count("@") == 1
    assert "".join(lines).count("+") == 4 and "".join(lines).count("x") == 2
    human = make(render_mode="human")
    human.reset(seed=0)
    assert human.render() is None and human.step(0)[0].shape == (84, 84, 3)
    human.close()
    human.close()


# --------------------------------------------------------------------------- engine pieces
def test_batched_draws_equal_lone_draws():
    batch = WorldDraws(3, buffer_size=4)
    lone = [WorldDraws(1, buffer_size=4) for _ in range(3)]
    for i in range(3):
        batch.set_generator(i, np.random.default_rng(10 + i))
        lone[i].set_generator(0, np.random.default_rng(10 + i))
    zero = np.zeros(1, dtype=np.intp)
    for step in range(11):  # crosses several buffer refills, with worlds drawing unevenly
        worlds = np.array([0, 2]) if step % 3 else np.arange(3)
        got = batch.below(worlds, 1000)
        want = [lone[i].below(zero, 1000)[0] for i in worlds]
        assert got.tolist() == want


def test_choose_unoccupied_alone_equals_batched():
    """A lone world takes a plain-Python path; it must pick exactly what the array path picks."""
    rng = np.random.default_rng(0)
    n = 50
    occupied = np.stack([rng.choice(30, 7, replace=False) for _ in range(n)])
    batch, lone = WorldDraws(n), [WorldDraws(1) for _ in range(n)]
    for i in range(n):
        batch.set_generator(i, np.random.default_rng(i))
        lone[i].set_generator(0, np.random.default_rng(i))
    for _ in range(3):
        got = choose_unoccupied(occupied, 30, batch, np.arange(n))
        want = [choose_unoccupied(occupied[i : i + 1], 30, lone[i], np.zeros(1, dtype=np.intp))[0] for i in range(n)]
        assert got.tolist() == want
        assert not any(cell in row for cell, row in zip(got, occupied))


def test_choose_unoccupied_is_uniform_over_free_cells():
    n = 20_000
    draws = WorldDraws(n)
    for i in range(n):
        draws.set_generator(i, np.random.default_rng(i))
    occupied = np.tile([7, 2, 3, 11], (n, 1))
    cells = choose_unoccupied(occupied, 12, draws, np.arange(n))
    counts = np.bincount(cells, minlength=12)
    assert counts[[2, 3, 7, 11]].sum() == 0
    free = counts[[0, 1, 4, 5, 6, 8, 9, 10]]
    assert free.min() > 0.9 * n / 8 and free.max() < 1.1 * n / 8


# --------------------------------------------------------------------------- vector env
def test_make_vec_builds_the_native_vector_env_with_the_time_limit():
    envs = gym.make_vec("gridworld-v0", num_envs=3, obs_type="grid")
    assert isinstance(envs.unwrapped, GridworldVectorEnv) and envs.unwrapped.max_episode_steps == 50
    obs, _ = envs.reset(seed=0)
    assert obs.shape == (3, 4, 7, 7) and obs.dtype == np.int8
    for t in range(1, 52):
        obs, rewards, terminated, truncated, _ = envs.step(np.array([0, 1, 2]))
        assert not terminated.any() and truncated.all() == (t == 50)
    assert (rewards == 0).all()  # step 51 restarted every world: reward 0, nothing truncated
    assert not truncated.any()


def test_vector_env_equals_single_envs_with_a_step_penalty():
    kwargs = {"size": 4, "n_goals": 3, "n_fires": 3, "step_penalty": 0.25, "partial": True}
    envs = gym.make_vec("gridworld-v0", num_envs=5, max_episode_steps=7, **kwargs)
    singles = [gym.make("gridworld-v0", max_episode_steps=7, **kwargs) for _ in range(5)]
    obs, _ = envs.reset(seed=[4, 3, 2, 1, 0])
    starts = [env.reset(seed=4 - i)[0] for i, env in enumerate(singles)]
    np.testing.assert_array_equal(obs, np.stack(starts))
    actions = np.random.default_rng(0).integers(0, 4, (30, 5))
    restart = [False] * 5
    for batch in actions:
        obs, rewards, _, truncated, _ = envs.step(batch)
        for i, env in enumerate(singles):
            if restart[i]:
                want, reward, trunc = env.reset()[0], 0.0, False
            else:
                want, reward, _, trunc, _ = env.step(int(batch[i]))
            restart[i] = trunc
            np.testing.assert_array_equal(obs[i], want)
            assert (rewards[i], truncated[i]) == (reward, trunc)


def test_vector_env_validates_its_input():
    envs = GridworldVectorEnv(num_envs=2)
    with pytest.raises(gym.error.ResetNeeded):
        envs.step(np.array([0, 0]))
    envs.reset(seed=0)
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        envs.step(np.array([0, 0, 0]))
    with pytest.raises(ValueError, match=r"invalid actions \[4\]"):
        envs.step(np.array([0, 4]))
    with pytest.raises(ValueError, match="integer array"):
        envs.step(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="list of 2"):
        envs.reset(seed=[1, 2, 3])
    for kwargs in ({"num_envs": 0}, {"max_episode_steps": 0}, {"n_goals": 30}):
        with pytest.raises(ValueError):
            GridworldVectorEnv(**{"num_envs": 2, **kwargs})
    unlimited = GridworldVectorEnv(num_envs=2, render_mode="rgb_array")
    unlimited.reset(seed=1)
    for _ in range(60):
        assert not unlimited.step(np.array([0, 3]))[3].any()
    frames = unlimited.render()
    assert len(frames) == 2 and frames[0].shape == (224, 224, 3)


def test_package_exports():
    assert gym_gridworld.ENV_IDS == ("gridworld-v0", "pacman-v0")
    gym_gridworld.register_envs()  # idempotent
    assert gym.spec("gridworld-v0").vector_entry_point == "gym_gridworld.vector:GridworldVectorEnv"
