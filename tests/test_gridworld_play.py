"""Keyboard play (python -m gym_gridworld.play), driven by a scripted list of commands."""

from __future__ import annotations

import pytest

from gym_gridworld import DOWN, LEFT
from gym_gridworld.play import QUIT, RESTART, main, play


def test_scripted_gridworld_play_matches_the_env():
    """Seed 7's world (see test_gridworld): LEFT, LEFT collects a goal; then a new episode starts."""
    scores = play("gridworld-v0", seed=7, commands=[LEFT, LEFT, RESTART, DOWN, QUIT])
    assert scores[0] == 1.0 and len(scores) == 2


def test_realtime_pacman_keeps_moving_in_the_last_direction():
    # LEFT then three frames without a key: four steps left along row 8, eating 4 pellets
    scores = play("pacman-v0", seed=0, commands=[LEFT, None, None, None])
    assert scores == [4.0]
    assert play("pacman-v0", seed=0, commands=[LEFT, None, None, None], turn_based=True) == [1.0]


def test_command_line_rejects_unknown_envs(capsys):
    with pytest.raises(SystemExit):
        main(["--env", "snake-v0"])
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [(["--size", "1000"], "size must be an integer in 1..100, got 1000")])
def test_play_reports_a_bad_argument_in_one_error_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"error: {message}" in err and "Traceback" not in err
