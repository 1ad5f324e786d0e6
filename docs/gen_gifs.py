"""Animated GIFs of the suite's games for the documentation, from each env's rgb_array render.

    python docs/gen_gifs.py [OUT_DIR]     # default docs/generated/gifs; `make docs` runs it

The GIFs are generated at build time and never committed. Seeds are fixed, so a rebuild gives the
same frames."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import imageio.v2 as imageio
import numpy as np

import gym_gridworld  # noqa: F401  (registers gridworld-v0, pacman-v0)
import gym_mdp  # noqa: F401  (registers mdp-v0)
import gym_snake

OUT = Path(__file__).resolve().parent / "generated" / "gifs"
N_FRAMES = 90


def greedy_snake(obs: np.ndarray, rng: np.random.Generator) -> int:
    """Relative action (left, straight, right) that avoids a danger and heads for the food if it can.
    `obs` is snake-v0's 11 features: danger straight/left/right, heading one-hot, food up/right/down/left."""
    danger = {gym_snake.STRAIGHT: obs[0], gym_snake.TURN_LEFT: obs[1], gym_snake.TURN_RIGHT: obs[2]}
    heading = int(np.argmax(obs[3:7]))
    safe = [action for action, bad in danger.items() if not bad] or list(danger)
    towards_food = [a for a in safe if obs[7 + (heading + a - 1) % 4]]
    return int(rng.choice(towards_food or safe))


def random_policy(space: gym.Space) -> Callable[[Any, np.random.Generator, dict], Any]:
    def act(obs: Any, rng: np.random.Generator, info: dict) -> Any:
        mask = info.get("action_mask")
        allowed = np.flatnonzero(mask) if mask is not None else np.arange(space.n)
        return int(rng.choice(allowed))

    return act


def frames_of(env_id: str, kwargs: dict, policy: Callable | None, seed: int = 0) -> list[np.ndarray]:
    env = gym.make(env_id, render_mode="rgb_array", **kwargs)
    act = policy or random_policy(env.action_space)
    rng = np.random.default_rng(seed)
    obs, info = env.reset(seed=seed)
    frames = [env.render()]
    while len(frames) < N_FRAMES:
        obs, _, terminated, truncated, info = env.step(act(obs, rng, info))
        frames.append(env.render())
        if terminated or truncated:
            obs, info = env.reset()
            frames.append(env.render())
    env.close()
    return frames


GAMES: dict[str, tuple[dict, Callable | None]] = {
    "snake-v0": ({"obs_type": "features", "action_mode": "relative"}, lambda obs, rng, info: greedy_snake(obs, rng)),
    "gridworld-v0": ({}, None),
    "pacman-v0": ({}, None),
    "mdp-v0": ({}, None),
}


def main(out: Path = OUT) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for env_id, (kwargs, policy) in GAMES.items():
        frames = frames_of(env_id, kwargs, policy)
        path = out / f"{env_id}.gif"
        fps = gym.make(env_id).metadata.get("render_fps", 8)
        imageio.mimsave(path, frames, duration=1000 / fps, loop=0)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT):
        print(path)
