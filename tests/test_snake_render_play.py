"""gym_snake: rendered frames, text boards, the pygame window and keyboard play (headless)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pygame
import pytest

from gym_snake import DOWN, LEFT, RIGHT, UP, SnakeEnv
from gym_snake.play import KeyboardGame, main
from gym_snake.render import BORDER, BORDER_WRAPPED, COLORS, EYE

CELL = 20
BORDER_PX = max(2, CELL // 8)


def pixel(frame: np.ndarray, row: float, col: float) -> tuple[int, ...]:
    """The colour at a fractional (row, column) position of the board in a rendered frame."""
    return tuple(int(v) for v in frame[BORDER_PX + int(row * CELL), BORDER_PX + int(col * CELL)])


def test_rgb_array_frames_show_the_board() -> None:
    env = SnakeEnv(obs_type="grid", width=6, height=5, render_cell_size=CELL, render_mode="rgb_array")
    # a U-shaped snake: head (1,1) heading up, body (2,1) (2,2) (1,2), so (1,1) and (1,2) are not joined
    env.reset(seed=0, options={"snake": [(1, 1), (2, 1), (2, 2), (1, 2)], "food": (4, 5)})
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.shape == (5 * CELL + 2 * BORDER_PX, 6 * CELL + 2 * BORDER_PX, 3)
    assert pixel(frame, 4.5, 5.5) == COLORS[3]  # food
    assert pixel(frame, 2.5, 2.5) == COLORS[1]  # body
    assert pixel(frame, 1.5, 1.5) == COLORS[2]  # head
    assert EYE in {
        tuple(p)
        for p in frame[BORDER_PX + CELL : BORDER_PX + 2 * CELL, BORDER_PX + CELL : BORDER_PX + 2 * CELL].reshape(-1, 3)
    }
    assert pixel(frame, 2.5, 2.0) == COLORS[1], "consecutive segments are joined"
    assert pixel(frame, 1.5, 2.0) != COLORS[1], "the head and the tail touch but are not joined"
    assert tuple(frame[0, 0]) == BORDER
    wrapped = SnakeEnv(wrap_walls=True, render_mode="rgb_array")
    wrapped.reset(seed=0)
    assert tuple(wrapped.render()[0, 0]) == BORDER_WRAPPED


def test_rgb_array_rendering_and_rgb_observations_do_not_need_pygame() -> None:
    code = (
        "import sys; sys.modules['pygame'] = None\n"  # any import of pygame now fails
        "import gymnasium as gym, gym_snake\n"
        "env = gym.make('snake-v0', render_mode='rgb_array'); obs, _ = env.reset(seed=0); env.step(0)\n"
        "venv = gym.make_vec('snake-v0', num_envs=2, render_mode='rgb_array'); venv.reset(seed=0)\n"
        "print(obs.shape, env.render().shape, venv.render()[0].shape)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "(40, 40, 3) (328, 328, 3) (328, 328, 3)"


def test_ansi_board() -> None:
    env = SnakeEnv(obs_type="grid", width=5, height=3, render_mode="ansi")
    env.reset(seed=0, options={"snake": [(1, 2), (1, 1), (2, 1)], "food": (0, 4)})
    assert env.render() == "#######\n#....*#\n#.o>..#\n#.o...#\n#######\nscore 0  length 3\n"
    env.step(UP)
    assert env.render().splitlines()[1] == "#..^.*#"
    torus = SnakeEnv(obs_type="grid", width=5, height=3, wrap_walls=True, render_mode="ansi")
    torus.reset(seed=0)
    assert torus.render().startswith(":::::::\n:")


def test_render_without_mode_warns_and_before_reset_raises() -> None:
    with pytest.warns(UserWarning, match="render_mode"):
        assert SnakeEnv().render() is None
    with pytest.raises(Exception, match="reset"):
        SnakeEnv(render_mode="rgb_array").render()


def test_human_mode_opens_and_closes_a_window() -> None:
    env = SnakeEnv(obs_type="grid", render_mode="human")
    env.metadata = {**env.metadata, "render_fps": 1000}  # keep the test fast
    env.reset(seed=0)
    assert pygame.display.get_surface() is not None
    assert env.step(env.heading)[0].shape == (100,)
    assert env.render() is None
    env.close()
    assert not pygame.display.get_init()
    env.close()


def key(k: int) -> pygame.event.Event:
    return pygame.event.Event(pygame.KEYDOWN, key=k)


def new_game(**kwargs) -> KeyboardGame:
    env = SnakeEnv(obs_type="grid", render_mode="rgb_array", **kwargs)
    return KeyboardGame(env, fps=1000, seed=0)


def test_keyboard_play_steers_pauses_and_quits() -> None:
    game = new_game()
    env = game.env
    heading = env.heading
    turn = {UP: LEFT, DOWN: LEFT, LEFT: UP, RIGHT: UP}[heading]
    game.run(max_frames=1, events=[key({UP: pygame.K_UP, LEFT: pygame.K_a}[turn])])
    assert env.heading == turn
    head = env.snake[0]
    game.run(max_frames=3, events=[key(pygame.K_p)])
    assert env.snake[0] == head, "paused: the snake stands still"
    game.run(max_frames=1, events=[key(pygame.K_p)])
    assert env.snake[0] != head
    # two quick turns within one frame are both played, one per frame
    second = (turn + 1) % 4
    game.run(
        max_frames=2,
        events=[
            key({UP: pygame.K_w, RIGHT: pygame.K_d, DOWN: pygame.K_s, LEFT: pygame.K_LEFT}[second]),
            key({UP: pygame.K_UP, RIGHT: pygame.K_RIGHT, DOWN: pygame.K_DOWN, LEFT: pygame.K_LEFT}[(second + 1) % 4]),
        ],
    )
    assert env.heading == (second + 1) % 4
    assert game.run(max_frames=50, events=[key(pygame.K_q)]) == [] and not game.running
    game.close()


def test_keyboard_play_records_scores_and_restarts() -> None:
    game = new_game(width=5, height=5)
    scores = game.run(max_frames=40)  # straight on into a wall
    assert scores == [0] and game.over
    game.run(max_frames=1, events=[key(pygame.K_r)])
    assert not game.over and len(game.env.snake) == 3
    game.close()


def test_play_main_runs_until_quit() -> None:
    pygame.display.init()
    pygame.event.post(pygame.event.Event(pygame.QUIT))
    assert main(["--width", "6", "--height", "6", "--fps", "1000", "--seed", "1"]) == []
    assert not pygame.display.get_init()


def test_play_rejects_bad_arguments(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["--width", "1"])
    assert "width must be an integer >= 2 and <= 256, got 1" in capsys.readouterr().err
