"""Videos of agents: `evaluate --video` writes GIFs and MP4s of the greedy episodes, and the comparison report
embeds a GIF of each env's best algorithm."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from agents import base
from agents.cli import main
from agents.common.envs import make_env
from agents.common.video import record_episodes


def saved_random_agent(tmp_path: Path, env_id: str = "snake-v0") -> Path:
    env = make_env(env_id)
    agent = base.get_agent_class("random")(env, seed=0)
    path = tmp_path / f"agent{type(agent).checkpoint_suffix}"
    agent.save(path)
    return path


def first_rendered_frame(env_id: str, seed: int) -> np.ndarray:
    env = make_env(env_id, render_mode="rgb_array")
    env.reset(seed=seed)
    return np.asarray(env.render())


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_evaluate_records_the_greedy_episodes(tmp_path, capsys, suffix) -> None:
    checkpoint = saved_random_agent(tmp_path)
    out = tmp_path / f"snake{suffix}"
    args = ["evaluate", str(checkpoint), "--env", "snake-v0", "--episodes", "2", "--seed", "7", "--video", str(out)]
    assert main([*args, "--video-episodes", "2"]) == 0
    assert f"saved {out}" in capsys.readouterr().out
    frames = iio.imread(out)
    first = first_rendered_frame("snake-v0", seed=7)
    assert len(frames) > 1 and frames[0].shape == first.shape
    if suffix == ".gif":  # lossless for the few colours of snake's rendering
        np.testing.assert_array_equal(frames[0], first)
    else:  # H.264 is lossy: close, not equal
        assert np.abs(frames[0].astype(int) - first).mean() < 8
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_record_episodes_caps_frames_and_plays_the_evaluation_episodes(tmp_path) -> None:
    env = make_env("snake-v0", render_mode="rgb_array")
    agent = base.get_agent_class("random")(env, seed=0)
    n = record_episodes(agent, env, 3, tmp_path / "capped.mp4", seed=0, max_frames=5)
    assert n == 5 and len(iio.imread(tmp_path / "capped.mp4")) == 5
    n = record_episodes(agent, env, 1, tmp_path / "small.gif", seed=3, max_side=100)
    frame = iio.imread(tmp_path / "small.gif")[0]
    assert max(frame.shape[:2]) <= 100
    np.testing.assert_array_equal(frame, first_rendered_frame("snake-v0", 3)[::4, ::4])  # 328 / 100 -> stride 4


def test_unknown_suffix_or_no_rgb_rendering_is_a_clear_error(tmp_path, capsys) -> None:
    checkpoint = saved_random_agent(tmp_path)
    assert main(["evaluate", str(checkpoint), "--env", "snake-v0", "--video", str(tmp_path / "x.avi")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "'.avi'" in err and ".gif" in err and len(err.splitlines()) == 1
    with pytest.raises(ValueError, match="render_mode"):
        env = make_env("snake-v0")  # made without render_mode="rgb_array"
        record_episodes(base.get_agent_class("random")(env, seed=0), env, 1, tmp_path / "x.gif", seed=0)
    assert not (tmp_path / "x.gif").exists() and not (tmp_path / "x.avi").exists()


def test_the_comparison_report_embeds_a_gif_of_the_best_learner(tmp_path) -> None:
    from agents.compare.job import check_plan
    from agents.compare.plan import build_plan
    from agents.compare.report import GIF_MAX_FRAMES, GIF_MAX_SIDE
    from agents.compare.runner import run_comparison

    plan = build_plan(
        {
            "name": "tiny-video",
            "seeds": 1,
            "eval_episodes": 2,
            "envs": {"mdp-v0": {"steps": 300, "eval_every": 300, "algos": ["random", "tabular-q"]}},
        }
    )
    run_dir, code = run_comparison(plan, check_plan(plan), tmp_path / "run", backend="local", workers=1, progress=False)
    assert code == 0
    report = (run_dir / "report.md").read_text()
    gif = run_dir / "episode_mdp-v0.gif"
    assert f"![tabular-q on mdp-v0, one greedy episode]({gif.name})" in report  # the better learner (0 > -20)
    assert gif.stat().st_size < 2_000_000
    frames = iio.imread(gif, index=None)
    # a greedy tabular policy that stays in one state renders the same frame: Pillow merges them into one
    assert 1 <= len(frames) <= GIF_MAX_FRAMES and max(frames.shape[1:3]) <= GIF_MAX_SIDE
    np.testing.assert_array_equal(frames[0], first_rendered_frame("mdp-v0", seed=1_000_000))  # seed 0's first
    # without the saved agent the report is still written, with a one-line note instead of the GIF
    from agents.compare.report import write_report

    for agent_file in (run_dir / "jobs").glob("*tabular-q*/agent.*"):
        agent_file.unlink()
    report = write_report(run_dir).read_text()
    assert "No episode GIF for mdp-v0: FileNotFoundError: no saved agent" in report
    assert not gif.exists() and "episode_mdp-v0.gif" not in report


@pytest.mark.atari
def test_atari_video_is_a_whole_game_of_raw_screens_cut_at_the_cap(tmp_path) -> None:
    from agents.dqn import DQN
    from agents.dqn.atari import record_game
    from agents.wrappers.atari import make_atari_env

    game = "BreakoutNoFrameskip-v4"
    agent = DQN(make_atari_env(game), {"buffer_size": 100, "learning_starts": 10}, seed=0)
    assert record_game(agent, game, tmp_path / "game.mp4", seed=5, max_frames=40) == 40
    assert iio.immeta(tmp_path / "game.mp4")["fps"] == 15  # real time: 60 frames/s, one in 4 per agent step
    frames = iio.imread(tmp_path / "game.mp4")
    assert frames.shape == (40, 210, 160, 3) and frames.std() > 0  # the raw ALE screen, not the 84x84 gray input
    with pytest.raises(SystemExit) as exit_info:
        from agents.dqn.atari import main as atari_main

        atari_main(["--game", game, "--video", str(tmp_path / "game.webm")])
    assert exit_info.value.code == 2


def test_recording_a_pygame_drawn_env_without_a_display_prints_no_sdl_error(tmp_path: Path) -> None:
    """CartPole draws its rgb_array frames with pygame; on a machine with no display (and no
    XDG_RUNTIME_DIR), SDL printed an "error:" line in the middle of `make demo` unless told to
    use its dummy driver."""
    import os
    import subprocess
    import sys

    code = (
        "from agents import base; from agents.common.envs import make_env; "
        "from agents.common.video import record_episodes; "
        "env = make_env('CartPole-v1', render_mode='rgb_array'); "
        "agent = base.get_agent_class('random')(env, seed=0); "
        f"print(record_episodes(agent, env, 1, {str(tmp_path / 'cartpole.gif')!r}, seed=0, max_frames=5))"
    )
    hidden = ("DISPLAY", "WAYLAND_DISPLAY", "XDG_RUNTIME_DIR", "SDL_VIDEODRIVER", "SDL_AUDIODRIVER")
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "5"
    assert "error" not in out.stderr.lower(), out.stderr


@pytest.mark.parametrize(("fps", "milliseconds"), [(15, 70), (4, 250), (60, 20), (200, 20)])
def test_gif_frame_delays_are_the_nearest_whole_centiseconds_a_browser_honours(tmp_path, fps, milliseconds) -> None:
    from agents.common.video import write_video

    frames = [np.full((8, 8, 3), value, dtype=np.uint8) for value in (0, 80, 160)]  # distinct: none merged
    write_video(frames, tmp_path / "clip.gif", fps=fps)
    from PIL import Image

    with Image.open(tmp_path / "clip.gif") as gif:
        delays = []
        for index in range(gif.n_frames):
            gif.seek(index)
            delays.append(gif.info["duration"])
    assert delays == [milliseconds] * 3
