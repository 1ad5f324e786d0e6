"""pacman-v0: layouts and their errors, ghosts, lives, power pellets, level clear, observations."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import gym_gridworld  # noqa: F401  (registers the ids)
from gym_gridworld import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    LayoutError,
    builtin_layouts,
    load_layout,
    parse_layout,
    render,
)
from gym_gridworld.core import REVERSE
from gym_gridworld.pacman import GRID_CHANNELS, PacmanEnv
from gym_gridworld.pacman_engine import EATEN, NORMAL, SCARED
from gym_gridworld.pacman_view import sprites

CORRIDOR = "%%%%%%%%%\n%P.....G%\n%%%%%%%%%\n"
POWER_CORRIDOR = "%%%%%%%%%\n%Po....G%\n%.%%%%%%%\n%.......%\n%%%%%%%%%\n"


def make(layout: str = "small", **kwargs) -> gym.Env:
    if "\n" in layout:
        layout = parse_layout(layout, "test layout")
    return gym.make("pacman-v0", layout=layout, **kwargs)


# --------------------------------------------------------------------------- layouts
@pytest.mark.parametrize(
    "text, pattern",
    [
        ("%%%%\n%..%\n%%%%\n", "no player"),
        ("%%%%%\n%P.P%\n%%%%%\n", r"line 2, column 4: a second player \(the first is at line 2, column 2\)"),
        ("%%%%%\n%P..%\n%%%%\n", "line 3 has 4 characters but line 1 has 5.*ragged"),
        ("%%%%%\n%P.x%\n%%%%%\n", r"line 2, column 4: unknown character 'x' \(allowed: '%' wall"),
        (
            "%%%%%%\n%P.%.%\n%%%%%%\n",
            "line 2, column 5: pellet '.' cannot be reached from the player at line 2, column 2",
        ),
        ("%%%%\n%PG%\n%%%%\n", "no pellets"),
        ("\n\n", "empty"),
    ],
)
def test_malformed_layouts_name_line_column_and_problem(text, pattern):
    with pytest.raises(LayoutError, match=pattern):
        parse_layout(text, "my.txt")
    with pytest.raises(ValueError, match="my.txt"):  # LayoutError is a ValueError
        parse_layout(text, "my.txt")


def test_builtin_and_file_layouts(tmp_path):
    assert {"small", "medium"} <= set(builtin_layouts())
    small, medium = load_layout("small"), load_layout("medium")
    assert small.shape == (12, 12) and medium.shape[0] * medium.shape[1] > 2 * 144
    assert len(small.ghosts) == 2 and len(medium.ghosts) == 4
    path = tmp_path / "tiny.txt"
    path.write_text("%%%%%\n%P.G%\n%%%%%\n")
    env = make(str(path), obs_type="grid")
    assert env.reset(seed=0)[0].shape == (len(GRID_CHANNELS), 3, 5)
    with pytest.raises(LayoutError, match=r"unknown layout 'nope'.*\('medium', 'small'\)"):
        load_layout("nope")
    path.write_text("%%%%%\n%P.G%\n%%%%\n")
    with pytest.raises(LayoutError, match=f"{path}: line 3 has 4 characters"):
        make(str(path))


# --------------------------------------------------------------------------- rules
def test_ghost_collision_loses_a_life_and_the_last_one_ends_the_game():
    """The chaser walks down the corridor to pac-man (who pushes into the wall): caught on step 6,
    everyone back to the start, three times."""
    env = make(CORRIDOR, ghost_randomness=0.0)
    _, info = env.reset(seed=0)
    assert info == {"lives": 3, "pellets_left": 5, "win": False}
    rewards, infos = [], []
    terminated = False
    while not terminated:
        _, reward, terminated, truncated, info = env.step(LEFT)
        rewards.append(reward)
        infos.append(info)
    assert len(rewards) == 18
    assert [t + 1 for t, r in enumerate(rewards) if r] == [6, 12, 18] and set(rewards) == {0.0, -20.0}
    assert [i["lives"] for i in infos[4:7]] == [3, 2, 2] and infos[-1] == {
        "lives": 0,
        "pellets_left": 5,
        "win": False,
    }
    with pytest.raises(gym.error.ResetNeeded):
        env.step(LEFT)


def test_power_pellet_makes_ghosts_edible_and_eaten_ghosts_go_home():
    env = make(POWER_CORRIDOR, ghost_randomness=0.0, frightened_steps=20)
    env.reset(seed=0)
    game = env.unwrapped.game
    home = game.maze.homes_list[0]
    _, reward, *_ = env.step(RIGHT)  # the power pellet
    assert reward == 5.0 and game.ghost_states == [SCARED] and game.frightened_left == 19
    cells = [game.ghost_cells[0]]
    for _ in range(2):
        env.step(RIGHT)
        cells.append(game.ghost_cells[0])
    assert cells == [home, home - 1, home - 1], "frightened ghosts move every other step"
    _, reward, *_ = env.step(RIGHT)  # the ghost steps onto pac-man: eaten
    assert reward == 1.0 + 10.0 and game.ghost_states == [EATEN]
    env.step(LEFT)
    env.step(LEFT)
    assert game.ghost_states == [NORMAL] and game.ghost_cells == [home], "the eyes went home and revived"


def test_ghost_points_double_per_power_pellet():
    env = make("%%%%%%%%%\n%Po oG.G%\n%%%%%%%%%\n", ghost_randomness=0.0)
    env.reset(seed=0)
    game = env.unwrapped.game
    assert env.step(RIGHT)[1] == 5.0 and game.ghost_states == [SCARED, SCARED]
    game.ghost_cells = [game.maze.grid.cell(1, 3)] * 2  # both frightened ghosts where pac-man goes next
    assert env.step(RIGHT)[1] == 10.0 + 20.0 and game.ghost_states == [EATEN, EATEN]
    assert env.step(RIGHT)[1] == 5.0 and game.ghost_streak == 0, "a new power pellet restarts the count"
    assert SCARED not in game.ghost_states, "eaten ghosts (eyes, or whole again at home) are not frightened"


def test_clearing_the_level_terminates_with_a_win():
    env = make("%%%%%%\n%P.G %\n%%%%%%\n")
    env.reset(seed=0)
    _, reward, terminated, truncated, info = env.step(RIGHT)
    assert (reward, terminated, truncated) == (1.0 + 50.0, True, False)
    assert info == {"lives": 3, "pellets_left": 0, "win": True}


def test_walls_block_pacman_and_rewards_are_configurable():
    env = make("%%%%%%%%%%\n%P.....%G%\n%%%%%%%%%%\n", rewards={"pellet": 2.0, "step": -0.5})  # a walled-in ghost
    env.reset(seed=0)
    for action, expected in [(UP, -0.5), (DOWN, -0.5), (LEFT, -0.5), (RIGHT, 1.5), (RIGHT, 1.5)]:
        assert env.step(action)[1] == expected
    assert env.unwrapped.game.pacman == env.unwrapped.game.maze.grid.cell(1, 3)


def test_ghosts_never_turn_back_except_at_dead_ends():
    env = make("medium", ghost_randomness=1.0, obs_type="grid")
    env.reset(seed=1)
    game = env.unwrapped.game
    checked = 0
    for t in range(300):
        before = (list(game.ghost_cells), list(game.ghost_headings), list(game.ghost_states), game.lives)
        fright = game.frightened_left
        _, _, terminated, truncated, _ = env.step(int(np.random.default_rng(t).integers(4)))
        if terminated or truncated:
            env.reset()
            continue
        if game.lives != before[3] or game.frightened_left > fright:  # a restart or a new fright
            continue
        for g in range(game.n_ghosts):
            cell, heading, state = before[0][g], before[1][g], before[2][g]
            if state == NORMAL and game.ghost_states[g] == NORMAL and heading >= 0 and len(game.maze.moves[cell]) > 1:
                assert game.ghost_headings[g] != REVERSE[heading], f"ghost {g} turned back at step {t}"
                checked += 1
    assert checked > 200


def test_bad_arguments_raise():
    for kwargs, pattern in [
        ({"obs_type": "pixels"}, "obs_type must be one of"),
        ({"lives": 0}, r"lives must be an integer in 1\.\.2147483647, got 0"),
        ({"frightened_steps": 2.5}, "frightened_steps"),
        ({"ghost_randomness": 1.5}, r"ghost_randomness must be a probability in \[0, 1\]"),
        ({"rewards": {"cherry": 100}}, r"unknown reward 'cherry'; the rewards are \['clear', 'death'"),
        ({"rewards": {"pellet": "1"}}, "must be a finite number"),
        ({"layout": 3}, "layout must be a built-in name"),
    ]:
        with pytest.raises(ValueError, match=pattern):
            PacmanEnv(**kwargs)
    wide = parse_layout("%" * 50 + "\n%P" + "." * 47 + "%\n" + "%" * 50 + "\n", "wide")
    with pytest.raises(ValueError, match="too big for the 84x84 image.*obs_type='grid'"):
        PacmanEnv(layout=wide)
    assert PacmanEnv(layout=wide, obs_type="grid").reset(seed=0)[0].shape == (7, 3, 50)


# --------------------------------------------------------------------------- observations and rendering
def test_grid_observation_planes():
    env = make("small", obs_type="grid")
    planes, _ = env.reset(seed=0)
    layout = load_layout("small")
    assert env.observation_space == gym.spaces.MultiBinary((7, 12, 12)) and planes.dtype == np.int8
    np.testing.assert_array_equal(planes[0], layout.walls)
    np.testing.assert_array_equal(planes[1], layout.pellets)
    np.testing.assert_array_equal(planes[2], layout.power_pellets)
    assert tuple(np.argwhere(planes[3])[0]) == layout.player and planes[3].sum() == 1
    assert {tuple(c) for c in np.argwhere(planes[4])} == set(layout.ghosts)
    planes = env.step(LEFT)[0]
    assert planes[1].sum() == layout.pellets.sum() - 1, "the pellet pac-man ate is gone"


def test_image_observation_is_the_maze_at_7_pixels_per_cell():
    env = make("small")
    image, _ = env.reset(seed=0)
    assert image.shape == (84, 84, 3) and image.dtype == np.uint8
    layout = load_layout("small")
    blue = np.array([33, 33, 222])
    wall_pixels = (image.reshape(12, 7, 12, 7, 3) == blue).all(axis=-1).all(axis=(1, 3))
    np.testing.assert_array_equal(wall_pixels, layout.walls)
    for action in [LEFT, LEFT, DOWN, DOWN, RIGHT, UP, UP, LEFT]:  # redrawn cell by cell: still the whole maze
        image = env.step(action)[0]
    np.testing.assert_array_equal(image, render.tile_sprites(env.unwrapped.game.kinds(), sprites(7)))
    medium, _ = make("medium").reset(seed=0)  # 4 pixels per cell, centred: black margins
    assert medium.shape == (84, 84, 3) and not medium[:2].any() and medium[40].any()


def test_image_observation_survives_copies():
    """The image is redrawn incrementally: a pickled or copied env must draw into its own image."""
    import copy
    import pickle

    env = make("small")
    env.reset(seed=0)
    for action in [LEFT, LEFT, DOWN]:
        env.step(action)
    twins = [pickle.loads(pickle.dumps(env)), copy.deepcopy(env)]
    for action in [DOWN, RIGHT, RIGHT, UP]:
        obs = env.step(action)[0]
        for twin in twins:
            np.testing.assert_array_equal(twin.step(action)[0], obs)


def test_render_modes():
    env = make("small", render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (13 * 24, 12 * 24, 3) and frame.dtype == np.uint8
    assert (frame[12 * 24 :] == (255, 255, 0)).all(axis=-1).any(), "lives are drawn under the maze"
    text = make("small", render_mode="ansi")
    text.reset(seed=0)
    picture = text.render()
    assert picture.splitlines()[8] == "%....<.....%" and picture.endswith("lives 3 | pellets left 65\n")
    human = make("small", render_mode="human")
    human.reset(seed=0)
    assert human.render() is None
    human.close()
