"""Play gridworld-v0 or pacman-v0 with the keyboard.

    python -m gym_gridworld.play                          # gridworld-v0, one step per key press
    python -m gym_gridworld.play --env pacman-v0          # pac-man in real time (keeps moving)
    python -m gym_gridworld.play --env pacman-v0 --layout medium --turn-based
    python -m gym_gridworld.play --partial                # the 3x3 view, outlined

Arrow keys or WASD move, R starts a new episode, Esc or Q quits. The window title shows the score.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from typing import Any

import gymnasium as gym
import numpy as np

import gym_gridworld
from gym_gridworld.core import DOWN, LEFT, RIGHT, UP
from gym_gridworld.render import Window

QUIT, RESTART = "quit", "restart"
MIN_WINDOW = 480  # frames are scaled up by an integer factor to at least this many pixels


def key_commands() -> dict[int, int | str]:
    """pygame key code -> action or command."""
    import pygame

    return {
        pygame.K_UP: UP, pygame.K_w: UP,
        pygame.K_DOWN: DOWN, pygame.K_s: DOWN,
        pygame.K_LEFT: LEFT, pygame.K_a: LEFT,
        pygame.K_RIGHT: RIGHT, pygame.K_d: RIGHT,
        pygame.K_r: RESTART, pygame.K_ESCAPE: QUIT, pygame.K_q: QUIT,
    }  # fmt: skip


def keyboard(turn_based: bool) -> Iterator[int | str | None]:
    """Commands from the keyboard: one per key press (turn-based), or once per frame the latest
    key (None when no key was pressed this frame)."""
    import pygame

    commands = key_commands()
    while True:
        events = [pygame.event.wait()] if turn_based else pygame.event.get()
        chosen: int | str | None = None
        for event in events:
            if event.type == pygame.QUIT:
                chosen = QUIT
            elif event.type == pygame.KEYDOWN and event.key in commands:
                chosen = commands[event.key]
        if chosen is not None or not turn_based:
            yield chosen


def play(
    env_id: str = "gridworld-v0",
    *,
    seed: int | None = None,
    turn_based: bool | None = None,
    commands: Sequence[int | str | None] | None = None,
    **env_kwargs: Any,
) -> list[float]:
    """Play until quit and return the score of every episode played.

    `turn_based` (default: True for gridworld-v0, False for pacman-v0) steps once per key press;
    otherwise the game steps at the env's frame rate and keeps moving in the last direction
    chosen, as in the arcade. `commands` replays a script (actions, "restart", "quit", or None
    for "no new key") instead of reading the keyboard."""
    env = gym.make(env_id, render_mode="rgb_array", **env_kwargs)
    turn_based = env_id.endswith("gridworld-v0") if turn_based is None else turn_based
    window = Window(env_id, env.metadata["render_fps"] if not turn_based else 30)
    source: Iterator[int | str | None] = iter(commands) if commands is not None else keyboard(turn_based)
    scores = [0.0]
    direction = LEFT
    env.reset(seed=seed)
    try:
        while True:
            _show(window, env, env_id, scores[-1])
            command = next(source, QUIT)
            if command == QUIT:
                break
            if command == RESTART:
                scores.append(0.0)
                env.reset()
                continue
            if command is None and turn_based:
                continue
            direction = direction if command is None else int(command)
            _, reward, terminated, truncated, info = env.step(direction)
            scores[-1] += float(reward)
            if terminated or truncated:
                outcome = " (level cleared)" if info.get("win") else ""
                print(f"episode over{outcome}: score {scores[-1]:+g}; a new one starts")
                scores.append(0.0)
                env.reset()
    finally:
        env.close()
        window.close()
    return scores


def _show(window: Window, env: gym.Env, env_id: str, score: float) -> None:
    frame = env.render()
    assert isinstance(frame, np.ndarray)  # play makes the env with render_mode="rgb_array"
    scale = max(1, -(-MIN_WINDOW // max(frame.shape[:2])))
    window.show(np.repeat(np.repeat(frame, scale, axis=0), scale, axis=1))
    window.set_caption(f"{env_id} | score {score:+g} | arrows/WASD move, R restart, Esc quit")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="gridworld-v0", choices=gym_gridworld.ENV_IDS)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--layout", default=None, help="pacman-v0: a built-in layout name or a layout file")
    parser.add_argument("--partial", action="store_true", help="gridworld-v0: the 3x3 partial view")
    parser.add_argument("--size", type=int, default=None, help="gridworld-v0: cells per side")
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument("--turn-based", dest="turn_based", action="store_true", default=None, help="one step per key")
    pace.add_argument("--realtime", dest="turn_based", action="store_false", help="step at the frame rate")
    args = parser.parse_args(argv)
    kwargs: dict[str, Any] = {}
    if args.env == "pacman-v0" and args.layout is not None:
        kwargs["layout"] = args.layout
    if args.env == "gridworld-v0":
        kwargs["partial"] = args.partial
        if args.size is not None:
            kwargs["size"] = args.size
    try:  # a bad size or layout: one `error:` line and exit status 2, not a traceback
        gym.make(args.env, **kwargs).close()
    except ValueError as error:
        parser.error(str(error))
    scores = play(args.env, seed=args.seed, turn_based=args.turn_based, **kwargs)
    print("scores:", ", ".join(f"{s:+g}" for s in scores))


if __name__ == "__main__":
    main()
