"""Play snake with the keyboard: `python -m gym_snake.play [--width 12 --height 12 --wrap --fps 8]`.

Arrow keys or WASD steer, P pauses, R starts a new game, Esc or Q quits. The snake moves one cell
per frame; up to two key presses within a frame are queued, so quick double turns work. After a
game ends the board stays until R or a direction key starts the next one.
"""

from __future__ import annotations

import argparse
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from gym_snake.core import DOWN, LEFT, RIGHT, UP
from gym_snake.env import SnakeEnv
from gym_snake.render import Window

QUEUED_TURNS = 2


class KeyboardGame:
    """Runs games of `env` (a `SnakeEnv` made with render_mode="rgb_array") driven by pygame key
    events, showing each frame in a window. `run` returns the score of every finished game."""

    def __init__(self, env: SnakeEnv, fps: int = 8, seed: int | None = None) -> None:
        import pygame  # keyboard play needs pygame; the env itself does not

        if env.render_mode != "rgb_array" or env.config.action_mode != "absolute":
            raise ValueError("KeyboardGame needs a SnakeEnv with render_mode='rgb_array' and action_mode='absolute'")
        self._pygame = pygame
        self.env = env
        self.window = Window("snake", fps)
        self.keys = {
            pygame.K_UP: UP, pygame.K_w: UP,
            pygame.K_RIGHT: RIGHT, pygame.K_d: RIGHT,
            pygame.K_DOWN: DOWN, pygame.K_s: DOWN,
            pygame.K_LEFT: LEFT, pygame.K_a: LEFT,
        }  # fmt: skip
        self.scores: list[int] = []
        self.turns: deque[int] = deque(maxlen=QUEUED_TURNS)
        self.running = True
        self.paused = False
        self._new_game(seed)

    def _new_game(self, seed: int | None = None) -> None:
        self.env.reset(seed=seed)
        self.turns.clear()
        self.over = False
        self.paused = False

    def handle(self, event: Any) -> None:
        """React to one pygame event."""
        pygame = self._pygame
        if event.type == pygame.QUIT:
            self.running = False
        elif event.type != pygame.KEYDOWN:
            return
        elif event.key in (pygame.K_ESCAPE, pygame.K_q):
            self.running = False
        elif event.key == pygame.K_r or (self.over and event.key in self.keys):
            self._new_game()
            if event.key in self.keys:
                self.turns.append(self.keys[event.key])
        elif event.key == pygame.K_p:
            self.paused = not self.paused
        elif event.key in self.keys:
            self.turns.append(self.keys[event.key])

    def tick(self) -> None:
        """One frame: move the snake (unless paused or over) and show the board."""
        env = self.env
        if not (self.paused or self.over):
            action = self.turns.popleft() if self.turns else env.heading
            _, _, terminated, truncated, info = env.step(action)
            if terminated or truncated:
                self.over = True
                self.scores.append(info["score"])
        state = "game over, R to restart" if self.over else ("paused" if self.paused else "")
        frame = env.render()
        assert isinstance(frame, np.ndarray)  # render_mode "rgb_array", checked in __init__
        self.window.show(frame, caption=f"score {env.score}" + (f" ({state})" if state else ""))

    def run(self, max_frames: int | None = None, events: Iterable[Any] | None = None) -> list[int]:
        """Play until the player quits (or for `max_frames` frames); return the finished games' scores.
        `events`, when given, are handled before the first frame (scripted play)."""
        for event in events or ():
            self.handle(event)
        frames = 0
        while self.running and (max_frames is None or frames < max_frames):
            for event in self._pygame.event.get():
                self.handle(event)
            if self.running:
                self.tick()
                frames += 1
        return self.scores

    def close(self) -> None:
        self.window.close()
        self.env.close()


def main(argv: Sequence[str] | None = None) -> list[int]:
    parser = argparse.ArgumentParser(
        prog="python -m gym_snake.play",
        description="Play snake with the keyboard: arrow keys or WASD steer, P pauses, R restarts, Esc or Q quits.",
    )
    parser.add_argument("--width", type=int, default=12)
    parser.add_argument("--height", type=int, default=12)
    parser.add_argument("--length", type=int, default=3, help="initial snake length")
    parser.add_argument("--wrap", action="store_true", help="the board is a torus (no walls)")
    parser.add_argument("--fps", type=int, default=8, help="snake moves per second")
    parser.add_argument("--cell-size", type=int, default=32, help="pixels per cell")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    if args.fps < 1:
        parser.error(f"--fps must be at least 1, got {args.fps}")
    try:
        env = SnakeEnv(
            width=args.width,
            height=args.height,
            initial_length=args.length,
            wrap_walls=args.wrap,
            obs_type="grid",
            render_cell_size=args.cell_size,
            max_steps_without_food=0,
            render_mode="rgb_array",
        )
    except ValueError as error:
        parser.error(str(error))
    game = KeyboardGame(env, fps=args.fps, seed=args.seed)
    try:
        scores = game.run()
    finally:
        game.close()
    if scores:
        print(f"games: {len(scores)}, scores: {scores}, best: {max(scores)}")
    return scores


if __name__ == "__main__":
    main()
