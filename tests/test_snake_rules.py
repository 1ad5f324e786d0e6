"""gym_snake: the rules of the game, the spaces, bad input and seeding of the single env."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
from importlib import metadata

import gymnasium as gym
import numpy as np
import pytest

from gym_snake import (
    BODY,
    DOWN,
    EMPTY,
    FEATURE_NAMES,
    FOOD,
    HEAD,
    LEFT,
    RIGHT,
    STRAIGHT,
    TURN_LEFT,
    TURN_RIGHT,
    UP,
    SnakeEnv,
)
from gym_snake.core import UNIFORM_BLOCK, tables_for

# A snake in an "L" on the default 10x10 board, head first, heading right (neck to head).
L_SNAKE = [(4, 4), (4, 3), (4, 2), (5, 2), (6, 2)]


def make(**kwargs) -> SnakeEnv:
    return SnakeEnv(**{"obs_type": "grid", **kwargs})


def start(env: SnakeEnv, snake, food=(0, 0), heading=None, seed=0):
    options = {"snake": snake, "food": food}
    if heading is not None:
        options["heading"] = heading
    return env.reset(seed=seed, options=options)


def assert_board_consistent(env: SnakeEnv) -> None:
    """The board codes say exactly what the snake and food are."""
    board = env.board()
    snake, food = env.snake, env.food
    assert len(set(snake)) == len(snake), "the snake overlaps itself"
    assert board[snake[0]] == HEAD
    assert all(board[cell] == BODY for cell in snake[1:])
    if food is not None:
        assert board[food] == FOOD and food not in snake
    assert np.count_nonzero(board == FOOD) == (food is not None)
    assert np.count_nonzero(board == EMPTY) == board.size - len(snake) - (food is not None)


# ----------------------------------------------------------------- registration and packaging
def test_registration_spec() -> None:
    spec = gym.spec("snake-v0")
    assert spec.entry_point == "gym_snake.env:SnakeEnv"
    assert spec.vector_entry_point == "gym_snake.vector:SnakeVectorEnv"
    assert spec.max_episode_steps == 10_000
    env = gym.make("snake-v0")
    assert env.unwrapped.config.obs_type == "rgb" and env.observation_space.shape == (40, 40, 3)


def test_make_with_module_prefix_needs_no_import() -> None:
    code = (
        "import gymnasium as gym; env = gym.make('gym_snake:snake-v0', obs_type='grid'); "
        "print(env.reset(seed=0)[0].shape)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "(100,)"


def test_gymnasium_plugin_entry_point_registers_ids() -> None:
    (entry,) = [e for e in metadata.entry_points(group="gymnasium.envs") if e.value == "gym_snake:register_envs"]
    entry.load()()  # idempotent
    assert "snake-v0" in gym.registry


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"width": 0}, "width must be an integer >= 2 and <= 256, got 0"),
        ({"height": -3}, "height must be an integer >= 2 and <= 256, got -3"),
        ({"width": 1}, "width must be an integer >= 2 and <= 256, got 1"),
        ({"width": 10.0}, "width must be an integer"),
        ({"height": True}, "height must be an integer"),
        ({"initial_length": 0}, "initial_length must be an integer >= 1, got 0"),
        ({"width": 4, "height": 3, "initial_length": 4}, r"needs a row or column of 5 cells.*initial_length <= 3"),
        ({"obs_type": "pixels"}, r"obs_type must be one of \('rgb', 'grid', 'features', 'view'\), got 'pixels'"),
        ({"action_mode": "diagonal"}, r"action_mode must be one of \('absolute', 'relative'\)"),
        ({"cell_size": 0}, "cell_size must be an integer >= 1 and <= 64, got 0"),
        ({"render_cell_size": -1}, "render_cell_size must be an integer >= 1"),
        ({"food_reward": float("nan")}, "food_reward must be a finite number, got nan"),
        ({"death_reward": "-1"}, "death_reward must be a finite number"),
        ({"wrap_walls": "yes"}, "wrap_walls must be True or False"),
        ({"max_steps_without_food": -1}, "max_steps_without_food must be an integer >= 0 and <= 2147483647, got -1"),
        ({"render_mode": "video"}, r"render_mode must be one of \['human', 'rgb_array', 'ansi'\] or None, got 'video'"),
    ],
)
def test_invalid_constructor_values_raise(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SnakeEnv(**kwargs)


@pytest.mark.parametrize("action", [-1, 4, 1.0, np.float32(1), "1", None, [1], np.array([1]), 2**70, True])
def test_out_of_space_actions_raise(action) -> None:
    env = make()
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"not in the action space Discrete\(4\).*0 up, 1 right, 2 down, 3 left"):
        env.step(action)


@pytest.mark.parametrize("action", [np.int64(2), np.uint8(2), np.array(2)])
def test_integer_actions_of_any_kind_are_accepted(action) -> None:
    env = make()
    start(env, L_SNAKE)
    env.step(action)
    assert env.heading == int(action)  # 2 down


def test_relative_mode_rejects_action_3() -> None:
    env = make(action_mode="relative")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"Discrete\(3\).*0 turn left, 1 straight, 2 turn right"):
        env.step(3)


def test_step_before_reset_and_after_the_end_raises() -> None:
    env = make()
    with pytest.raises(gym.error.ResetNeeded, match="Call reset"):
        env.step(0)
    start(env, [(0, 5), (1, 5)])  # heading up, against the top wall
    *_, terminated, _, info = env.step(UP)
    assert terminated and info["death"]
    with pytest.raises(gym.error.ResetNeeded, match=r"episode is over \(death\)"):
        env.step(LEFT)
    env.reset()
    env.step(LEFT)  # playable again


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"food": (1, 1)}, "need a 'snake'"),
        ({"snake": [(0, 0)], "colour": 1}, r"unknown reset option\(s\) \['colour'\]"),
        ({"snake": [(0, 0), (0, 2)]}, "are not adjacent"),
        ({"snake": [(0, 0), (0, 1), (0, 0)]}, "visits a cell twice"),
        ({"snake": [(0, 10)]}, "outside the 10x10"),
        ({"snake": [(0, 0)]}, "one-cell snake needs options\\['heading'\\]"),
        ({"snake": [(0, 1), (0, 0)], "heading": LEFT}, "back into its neck"),
        ({"snake": [(0, 1), (0, 0)], "heading": 4}, "options\\['heading'\\] must be"),
        ({"snake": [(0, 1), (0, 0)], "food": (0, 0)}, "is on the snake"),
        ({"snake": [(0, 1), "x"]}, "must be a \\(row, column\\) pair"),
    ],
)
def test_invalid_reset_options_raise(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make().reset(seed=0, options=options)


# ----------------------------------------------------------------- movement and actions
def test_action_constants_and_headings() -> None:
    assert (UP, RIGHT, DOWN, LEFT) == (0, 1, 2, 3)
    assert (TURN_LEFT, STRAIGHT, TURN_RIGHT) == (0, 1, 2)
    env = make()
    start(env, [(5, 5), (6, 5)], food=(0, 0))  # heading up
    assert env.heading == UP
    for action, head in [(UP, (4, 5)), (RIGHT, (4, 6)), (DOWN, (5, 6)), (LEFT, (5, 5))]:
        env.step(action)
        assert env.heading == action and env.snake[0] == head
        assert_board_consistent(env)


def test_reversing_into_the_neck_is_ignored() -> None:
    env = make()
    start(env, L_SNAKE)  # heading right
    obs, reward, terminated, truncated, info = env.step(LEFT)
    assert env.snake[0] == (4, 5) and env.heading == RIGHT
    assert (reward, terminated, truncated) == (0.0, False, False)
    one = make()
    start(one, [(5, 5)], heading=UP)
    one.step(DOWN)  # a one-cell snake cannot reverse either
    assert one.snake == [(4, 5)] and one.heading == UP


def test_relative_actions_turn_relative_to_the_heading() -> None:
    env = make(action_mode="relative")
    start(env, L_SNAKE)  # heading right
    env.step(STRAIGHT)
    assert env.snake[0] == (4, 5) and env.heading == RIGHT
    env.step(TURN_LEFT)
    assert env.snake[0] == (3, 5) and env.heading == UP
    env.step(TURN_RIGHT)
    assert env.snake[0] == (3, 6) and env.heading == RIGHT
    env.step(TURN_RIGHT)
    assert env.snake[0] == (4, 6) and env.heading == DOWN


# ----------------------------------------------------------------- eating, dying, winning
def test_eating_grows_the_snake_and_places_new_food_on_a_free_cell() -> None:
    env = make(food_reward=2.5)
    start(env, L_SNAKE, food=(4, 5))
    obs, reward, terminated, truncated, info = env.step(RIGHT)
    assert reward == 2.5 and not terminated and not truncated
    assert info == {"score": 1, "length": 6, "death": False, "win": False, "starved": False}
    assert env.snake == [(4, 5), *L_SNAKE]  # the tail stayed: one cell longer
    assert env.food is not None and env.food not in env.snake
    assert_board_consistent(env)
    np.testing.assert_array_equal(obs, env.board().ravel())
    obs, reward, *_ = env.step(RIGHT)
    assert reward == 0.0 and env.snake == [(4, 6), (4, 5), *L_SNAKE[:-1]]  # an ordinary move: the tail moved


def test_wall_death_leaves_the_snake_in_place() -> None:
    env = make(death_reward=-5.0)
    start(env, [(4, 9), (4, 8), (4, 7)])  # heading right, at the right wall
    before = env.board()
    obs, reward, terminated, truncated, info = env.step(RIGHT)
    assert (reward, terminated, truncated) == (-5.0, True, False)
    assert info == {"score": 0, "length": 3, "death": True, "win": False, "starved": False}
    np.testing.assert_array_equal(env.board(), before)


def test_self_collision_kills() -> None:
    env = make()
    # head at (4,4) heading up; turning down is a reverse (ignored), turning left runs into (4,3)
    snake = [(4, 4), (5, 4), (5, 3), (4, 3), (3, 3)]
    start(env, snake)
    *_, terminated, truncated, info = env.step(LEFT)
    assert terminated and info["death"] and env.snake == snake and env.heading == LEFT


def test_moving_into_the_cell_the_tail_leaves_is_legal() -> None:
    env = make()
    square = [(0, 0), (1, 0), (1, 1), (0, 1)]  # head (0,0) heading up, tail (0,1) right of the head
    start(env, square, food=(5, 5))
    *_, terminated, _, info = env.step(RIGHT)
    assert not terminated and env.snake == [(0, 1), (0, 0), (1, 0), (1, 1)]
    for _ in range(8):  # chase the tail round the square
        action = {(0, 1): DOWN, (1, 1): LEFT, (1, 0): UP, (0, 0): RIGHT}[env.snake[0]]
        assert not env.step(action)[2]
        assert_board_consistent(env)


def test_winning_fills_the_board() -> None:
    env = make(width=3, height=2, initial_length=2, win_reward=10.0)
    start(env, [(1, 0), (1, 1), (1, 2), (0, 2), (0, 1)], food=(0, 0))  # heading left, food at the last free cell
    obs, reward, terminated, truncated, info = env.step(UP)
    assert (reward, terminated, truncated) == (11.0, True, False)
    assert info == {"score": 1, "length": 6, "death": False, "win": True, "starved": False}
    assert env.food is None and not np.any(obs == EMPTY) and not np.any(obs == FOOD)


def test_a_cycle_policy_wins_on_a_2x2_board() -> None:
    cycle = {(0, 0): RIGHT, (0, 1): DOWN, (1, 1): LEFT, (1, 0): UP}
    for seed in range(10):
        env = make(width=2, height=2, initial_length=1, obs_type="features")
        _, info = env.reset(seed=seed)
        for _ in range(100):
            obs, reward, terminated, truncated, info = env.step(cycle[env.snake[0]])
            assert not truncated
            if terminated:
                break
        assert info["win"] and info["score"] == 3 and info["length"] == 4
        assert not obs[7:].any()  # no food left to point at


def test_starvation_truncates_and_eating_resets_the_count() -> None:
    env = make(max_steps_without_food=4)
    start(env, [(5, 1), (5, 0)], food=(5, 3))
    for _ in range(1, 5):  # eats at step 2, so starvation comes 4 steps later, at step 6
        assert not env.step(RIGHT)[3]
    obs, reward, terminated, truncated, info = env.step(RIGHT)
    assert not truncated
    obs, reward, terminated, truncated, info = env.step(DOWN)
    assert truncated and not terminated and info["starved"] and not info["death"] and reward == 0.0
    with pytest.raises(gym.error.ResetNeeded, match="starvation"):
        env.step(DOWN)


def test_default_starvation_limit_is_the_area_and_zero_disables_it() -> None:
    env = make(width=4, height=3, wrap_walls=True, initial_length=1)
    start(env, [(0, 0)], heading=RIGHT, food=(2, 3))
    lengths = [env.step(RIGHT)[3] for _ in range(12)]  # circles row 0 of the torus, never meets the food
    assert lengths == [False] * 11 + [True]
    env = make(width=4, height=3, wrap_walls=True, initial_length=1, max_steps_without_food=0)
    start(env, [(0, 0)], heading=RIGHT, food=(2, 3))
    assert not any(env.step(RIGHT)[3] for _ in range(500))


def test_wrap_walls_leaves_through_one_edge_and_enters_the_opposite() -> None:
    env = make(wrap_walls=True)
    start(env, [(0, 9), (0, 8)], food=(5, 5))
    env.step(RIGHT)
    assert env.snake[0] == (0, 0)
    env.step(UP)
    assert env.snake[0] == (9, 0)
    assert_board_consistent(env)


# ----------------------------------------------------------------- starts, food and randomness
def test_starts_are_straight_inside_the_board_and_safe() -> None:
    env = make(width=7, height=5, initial_length=4)
    seen = set()
    for seed in range(300):
        env.reset(seed=seed)
        snake, heading = env.snake, env.heading
        dr, dc = [(-1, 0), (0, 1), (1, 0), (0, -1)][heading]
        assert len(snake) == 4
        assert all(b == (a[0] - dr, a[1] - dc) for a, b in zip(snake, snake[1:])), "not straight behind the head"
        ahead = (snake[0][0] + dr, snake[0][1] + dc)
        assert 0 <= ahead[0] < 5 and 0 <= ahead[1] < 7 and ahead not in snake
        assert_board_consistent(env)
        seen.add((snake[0], heading))
    # every start is used: 3 per row for each horizontal heading, 1 per column for each vertical one
    assert len(seen) == len(tables_for(env.config).start_list) == 2 * 3 * 5 + 2 * 1 * 7


def test_draws_follow_the_documented_rule() -> None:
    """The start is start_list[int(u0 * n_starts)] and the food the int(u1 * n_free)-th free cell,
    u0, u1 the first uniforms of np_random(seed).random(UNIFORM_BLOCK)."""
    env = make()
    tables = tables_for(env.config)
    for seed in (0, 1, 42):
        env.reset(seed=seed)
        u = gym.utils.seeding.np_random(seed)[0].random(UNIFORM_BLOCK)
        cells, heading, *_ = tables.start_list[int(u[0] * len(tables.start_list))]
        assert env.snake == [divmod(c, 10) for c in cells] and env.heading == heading
        free = [c for c in range(100) if c not in cells]
        assert env.food == divmod(free[int(u[1] * len(free))], 10)


def test_food_never_spawns_on_the_snake_in_long_random_play() -> None:
    for kwargs in ({"width": 5, "height": 4}, {"width": 6, "height": 6, "wrap_walls": True, "initial_length": 1}):
        env = make(**kwargs)
        rng = np.random.default_rng(0)
        env.reset(seed=3)
        eaten = 0
        for _ in range(4000):
            # mostly toward the food, so the snake grows long
            head, food = env.snake[0], env.food
            greedy = (
                (DOWN if food[0] > head[0] else UP) if food[0] != head[0] else (RIGHT if food[1] > head[1] else LEFT)
            )
            *_, terminated, truncated, info = env.step(int(greedy if rng.random() < 0.8 else rng.integers(4)))
            eaten += info["score"] > 0 and not (terminated or truncated)
            if terminated or truncated:
                env.reset()
            else:
                assert_board_consistent(env)
        assert eaten > 300


def test_same_seed_same_game_different_seed_different_game() -> None:
    def play(seed: int) -> list:
        env = make(obs_type="features")
        out = [env.reset(seed=seed)[0]]
        actions = np.random.default_rng(5).integers(4, size=300).tolist()
        for action in actions:
            obs, reward, terminated, truncated, _ = env.step(action)
            out.append((obs, reward, terminated, truncated))
            if terminated or truncated:
                out.append(env.reset()[0])
        return out

    assert repr(play(7)) == repr(play(7))
    assert repr(play(7)) != repr(play(8))


def test_replacing_np_random_drops_the_buffered_draws() -> None:
    env = make()
    env.reset(seed=0)
    env.np_random = gym.utils.seeding.np_random(123)[0]
    env.reset()
    fresh = make()
    fresh.reset(seed=123)
    assert env.snake == fresh.snake and env.food == fresh.food


def test_pickle_keeps_a_finished_episode_finished() -> None:
    env = make()
    start(env, [(0, 5), (1, 5)])
    env.step(UP)
    for clone in (pickle.loads(pickle.dumps(env)), copy.deepcopy(env)):
        with pytest.raises(gym.error.ResetNeeded):
            clone.step(LEFT)
        clone.reset(seed=1)
        assert_board_consistent(clone)
        clone.step(clone.heading)
        assert_board_consistent(clone)


# ----------------------------------------------------------------- observations
def test_grid_observation_is_the_flat_board() -> None:
    env = make()
    obs, _ = start(env, L_SNAKE, food=(2, 7))
    assert obs.shape == (100,) and obs.dtype == np.uint8 and env.observation_space.contains(obs)
    grid = obs.reshape(10, 10)
    assert grid[4, 4] == HEAD and grid[2, 7] == FOOD and grid[6, 2] == BODY and np.count_nonzero(grid) == 6
    obs[:] = 0  # the observation is a copy: changing it does not change the game
    assert env.board()[4, 4] == HEAD


def test_features_observation() -> None:
    env = make(obs_type="features")
    assert FEATURE_NAMES[:3] == ("danger_straight", "danger_left", "danger_right")
    obs, _ = start(env, [(0, 9), (1, 9), (2, 9)], food=(5, 2))  # top-right corner, heading up
    assert obs.dtype == np.float32 and env.observation_space.contains(obs)
    expected = dict.fromkeys(FEATURE_NAMES, 0.0) | {
        "danger_straight": 1.0, "danger_right": 1.0, "heading_up": 1.0, "food_down": 1.0, "food_left": 1.0,
    }  # fmt: skip
    np.testing.assert_array_equal(obs, [expected[name] for name in FEATURE_NAMES])


@pytest.mark.parametrize("kwargs", [{}, {"wrap_walls": True, "width": 5, "height": 4}, {"action_mode": "relative"}])
def test_danger_features_say_which_moves_end_the_game(kwargs: dict) -> None:
    env, probe = make(obs_type="features", **kwargs), make(**kwargs)
    relative = env.config.action_mode == "relative"
    rng = np.random.default_rng(1)
    obs, _ = env.reset(seed=11)
    for _ in range(400):
        for k, turn in enumerate((0, 3, 1)):  # straight, left, right
            probe.reset(options={"snake": env.snake, "heading": env.heading, "food": env.food})
            action = (STRAIGHT, TURN_LEFT, TURN_RIGHT)[k] if relative else (env.heading + turn) % 4
            *_, info = probe.step(action)
            assert obs[k] == info["death"], (FEATURE_NAMES[k], env.snake, env.heading)
        obs, _, terminated, truncated, _ = env.step(int(rng.integers(env.action_space.n)))
        if terminated or truncated:
            obs, _ = env.reset()


def test_rgb_observation_colours_cells() -> None:
    env = SnakeEnv(cell_size=3, width=6, height=5)
    obs, _ = env.reset(seed=0, options={"snake": [(1, 1), (1, 2)], "food": (4, 5)})
    assert obs.shape == (15, 18, 3) and obs.dtype == np.uint8 and env.observation_space.contains(obs)
    colours = {tuple(obs[r * 3 + 1, c * 3 + 1]) for r, c in [(1, 1), (1, 2), (4, 5), (0, 0)]}
    assert len(colours) == 4, "head, body, food and empty must have distinct colours"
    assert np.all(obs[3:6, 3:6] == obs[4, 4]), "a cell is one flat colour"
