"""Videos of agents: record greedy evaluation episodes from an env's `render()` into a GIF or an MP4.

env = gym.make("snake-v0", render_mode="rgb_array")
n_frames = record_episodes(agent, env, 1, "snake.gif", seed=0)   # the same episode as evaluate(agent, env, 1, seed=0)

The format follows the file's suffix: `.gif` (Pillow, lossless for the suite's few-colour renderings; Pillow merges
identical consecutive frames into one longer-shown frame, so a GIF may hold fewer frames than were recorded) or `.mp4`
(H.264 through the ffmpeg binary of `imageio-ffmpeg`; frames are padded to even sizes, as its pixel format needs).
Frames are the env's `render()` after `reset` and after every step, until `max_frames`: the episode playing then is
truncated there (up to it, the agent plays exactly as in `evaluate`; later episodes get a single step each).
`max_side` shrinks large frames by an integer stride, which keeps GIFs small. The file is written atomically: a
failed recording leaves no file.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from agents.common.checkpoint import atomic_path
from agents.common.evaluation import evaluate

VIDEO_SUFFIXES = (".gif", ".mp4")
MAX_FRAMES = 1000  # default cap on recorded frames (a GIF keeps its frames in memory until it is written)


class _FrameRecorder(gym.Wrapper):
    """Keeps `render()` after `reset` and after each `step`, up to `max_frames`, where it truncates the episode."""

    def __init__(self, env: gym.Env, max_frames: int, stride: int | None, max_side: int | None) -> None:
        super().__init__(env)
        self.frames: list[np.ndarray] = []
        self.max_frames = max_frames
        self.stride = stride
        self.max_side = max_side

    def _grab(self) -> None:
        if len(self.frames) >= self.max_frames:
            return
        frame = np.asarray(self.env.render())
        if frame.ndim != 3 or frame.shape[2] not in (3, 4) or frame.dtype != np.uint8:
            raise ValueError(f"render() must return an RGB(A) uint8 array of shape (H, W, 3|4), got {frame.shape}")
        if self.stride is None:
            self.stride = max(1, math.ceil(max(frame.shape[:2]) / self.max_side)) if self.max_side else 1
        self.frames.append(np.ascontiguousarray(frame[:: self.stride, :: self.stride, :3]))

    def reset(self, **kwargs: Any) -> Any:
        result = self.env.reset(**kwargs)
        self._grab()
        return result

    def step(self, action: Any) -> Any:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._grab()
        # past the cap nothing more is recorded: cut the episode short rather than play it out unseen
        return obs, reward, terminated, truncated or len(self.frames) >= self.max_frames, info


def check_video_path(path: str | Path) -> Path:
    """The path, if its suffix names a format we write; else ValueError."""
    path = Path(path)
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise ValueError(
            f"unknown video format {path.suffix or '(no suffix)'!r} of {path}; use one of {VIDEO_SUFFIXES}"
        )
    if path.is_dir():
        raise ValueError(f"the video path {path} is a folder; give a file name ending in one of {VIDEO_SUFFIXES}")
    folder = path.absolute().parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"cannot write the video {path}: {folder} is not an existing writable folder")
    return path


def check_renders_rgb(env: gym.Env) -> None:
    """ValueError unless `env` was made with `render_mode="rgb_array"`."""
    if env.render_mode != "rgb_array":
        modes = env.metadata.get("render_modes", [])
        hint = (
            'make it with render_mode="rgb_array"'
            if "rgb_array" in modes
            else f"it renders only {modes or 'nothing'}, not 'rgb_array'"
        )
        raise ValueError(f"cannot record a video of {env.spec.id if env.spec else env}: {hint}")


def write_video(frames: list[np.ndarray], path: str | Path, fps: float) -> None:
    """Write RGB uint8 frames (all of one shape) to `path` (.gif or .mp4), atomically."""
    import imageio.v2 as imageio

    path = check_video_path(path)
    if not frames:
        raise ValueError("no frames to write")
    suffix = path.suffix.lower()
    with atomic_path(path) as tmp:
        if suffix == ".gif":
            # GIFs store whole centiseconds (Pillow truncates: 15 fps would play at 16.7): the nearest one, at
            # least 2 (browsers show shorter delays as 10); loop=0 repeats forever
            centiseconds = max(2, round(100.0 / fps))
            imageio.mimwrite(tmp, list[Any](frames), format="GIF", duration=10 * centiseconds, loop=0)
        else:
            import imageio_ffmpeg

            h, w = frames[0].shape[:2]
            pad = ((0, h % 2), (0, w % 2), (0, 0))  # yuv420p needs even sizes
            writer = imageio_ffmpeg.write_frames(
                str(tmp),
                (w + w % 2, h + h % 2),
                fps=fps,
                codec="libx264",
                pix_fmt_out="yuv420p",
                macro_block_size=1,
                output_params=["-f", "mp4"],  # the temporary file's name does not end in .mp4
                ffmpeg_log_level="error",
            )
            writer.send(None)  # start ffmpeg
            try:
                for frame in frames:
                    writer.send(np.ascontiguousarray(np.pad(frame, pad, mode="edge")))
            finally:
                writer.close()


def draw_off_screen() -> None:
    """Frames are drawn off screen (`render_mode="rgb_array"`), but envs that draw with pygame
    (Gymnasium's classic control) start SDL's video system, which on a machine without a display
    prints "error: XDG_RUNTIME_DIR is invalid ..." to stderr: there, default SDL to its dummy driver
    (a user's own SDL_VIDEODRIVER is kept)."""
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


def record_episodes(
    agent: Any,
    env: gym.Env,
    n_episodes: int,
    path: str | Path,
    *,
    seed: int,
    max_frames: int = MAX_FRAMES,
    max_side: int | None = None,
    fps: float | None = None,
) -> int:
    """Play `n_episodes` greedy episodes as `evaluate(agent, env, n_episodes, seed=seed)` does and write their
    frames, back to back, to `path` (.gif or .mp4). Returns the number of frames written (at most `max_frames`:
    the episode reaching it is truncated there).
    `fps` defaults to the env's `metadata["render_fps"]` (else 30). ValueError for an unknown suffix or an env
    not made with `render_mode="rgb_array"`, before anything is played."""
    path = check_video_path(path)
    check_renders_rgb(env)
    if max_frames <= 0:
        raise ValueError(f"max_frames must be positive, got {max_frames}")
    draw_off_screen()
    recorder = _FrameRecorder(env, max_frames, None, max_side)
    evaluate(agent, recorder, n_episodes, seed=seed)
    write_video(recorder.frames, path, float(fps or env.metadata.get("render_fps") or 30))
    return len(recorder.frames)
