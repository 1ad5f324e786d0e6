"""Rendering of a tabular MDP: pure functions of the state, plus a pygame window for "human" mode."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

CELL = 64  # pixels per state in the diagram
STATES_PER_ROW = 8
BAR_HEIGHT = 10
BACKGROUND = np.array([255, 255, 255], dtype=np.uint8)
OUTLINE = np.array([60, 60, 60], dtype=np.uint8)
TERMINAL_OUTLINE = np.array([20, 20, 140], dtype=np.uint8)
IDLE_FILL = np.array([215, 215, 215], dtype=np.uint8)
CURRENT_FILL = np.array([255, 185, 0], dtype=np.uint8)
POSITIVE = np.array([40, 170, 60], dtype=np.uint8)
NEGATIVE = np.array([210, 40, 40], dtype=np.uint8)


# 3x5 bitmaps of the digits 0-9 (rows top to bottom, 3 bits each), drawn scaled as state labels
DIGITS = [
    "111101101101111",
    "010110010010111",
    "111001111100111",
    "111001111001111",
    "101101111001001",
    "111100111001111",
    "111100111101111",
    "111001001001001",
    "111101111101111",
    "111101111001111",
]
DIGIT_SCALE = 3


@lru_cache(maxsize=64)
def _label(number: int) -> np.ndarray:
    """A boolean mask of `number` written in the 3x5 digit font, scaled by DIGIT_SCALE."""
    glyphs = [np.array([int(bit) for bit in DIGITS[int(d)]], dtype=bool).reshape(5, 3) for d in str(number)]
    spaced = [np.pad(g, ((0, 0), (0, 1))) for g in glyphs]
    return np.kron(np.hstack(spaced)[:, :-1], np.ones((DIGIT_SCALE, DIGIT_SCALE), dtype=bool))


def ansi_text(state: int, last_action: int | None, last_reward: float, allowed_mask: np.ndarray) -> str:
    """A readable text of the states (current one bracketed), the last action and reward."""
    boxes = " ".join(f"[s{s}]" if s == state else f" s{s} " for s in range(allowed_mask.shape[0]))
    action = "-" if last_action is None else str(last_action)
    allowed = ", ".join(str(a) for a in np.flatnonzero(allowed_mask[state]))
    return f"{boxes}\nstate {state} | last action {action} | last reward {last_reward:+g} | allowed actions {allowed}\n"


@lru_cache(maxsize=8)
def _layout(n_states: int) -> tuple[int, int, np.ndarray, np.ndarray]:
    cols = min(n_states, STATES_PER_ROW)
    rows = -(-n_states // cols)
    yy, xx = np.mgrid[0:CELL, 0:CELL]
    distance = np.hypot(yy - (CELL - 1) / 2, xx - (CELL - 1) / 2)
    radius = CELL * 0.38
    ring = np.abs(distance - radius) <= 2.0
    disc = distance < radius - 2.0
    return rows, cols, ring, disc


def rgb_diagram(state: int, n_states: int | np.integer, scaled_reward: float, terminal_mask: np.ndarray) -> np.ndarray:
    """A uint8 HxWx3 image: one numbered circle per state (row-major, 8 per row), the current one filled amber,
    terminal states ringed in blue, and a bar under the diagram showing the last reward (green to the
    right for a positive reward, red to the left for a negative one, length proportional to
    `scaled_reward` in [-1, 1])."""
    rows, cols, ring, disc = _layout(n_states)
    height, width = rows * CELL + BAR_HEIGHT, cols * CELL
    frame = np.empty((height, width, 3), dtype=np.uint8)
    frame[:] = BACKGROUND
    for s in range(n_states):
        r, c = divmod(s, cols)
        cell = frame[r * CELL : (r + 1) * CELL, c * CELL : (c + 1) * CELL]
        cell[disc] = CURRENT_FILL if s == state else IDLE_FILL
        cell[ring] = TERMINAL_OUTLINE if terminal_mask[s] else OUTLINE
        label = _label(s)
        top, left = (CELL - label.shape[0]) // 2, (CELL - label.shape[1]) // 2
        cell[top : top + label.shape[0], left : left + label.shape[1]][label] = OUTLINE
    half = width // 2
    length = int(round(min(abs(scaled_reward), 1.0) * (half - 1)))
    bar = frame[rows * CELL + 2 : height - 2]
    if scaled_reward > 0:
        bar[:, half : half + length] = POSITIVE
    elif scaled_reward < 0:
        bar[:, half - length : half] = NEGATIVE
    bar[:, half - 1 : half + 1] = OUTLINE
    return frame


class Window:
    """A pygame window that shows rgb frames at a fixed frame rate (render_mode="human")."""

    def __init__(self, title: str, fps: int, scale: int = 2) -> None:
        import pygame  # imported here: only "human" rendering needs pygame

        self._pygame = pygame
        self.fps, self.scale = fps, scale
        pygame.init()
        pygame.display.init()
        pygame.display.set_caption(title)
        self._screen: pygame.Surface | None = None
        self._clock = pygame.time.Clock()

    def show(self, frame: np.ndarray) -> None:
        pygame = self._pygame
        size = (frame.shape[1] * self.scale, frame.shape[0] * self.scale)
        if self._screen is None or self._screen.get_size() != size:
            self._screen = pygame.display.set_mode(size)
        surface = pygame.surfarray.make_surface(frame.swapaxes(0, 1))
        self._screen.blit(pygame.transform.scale(surface, size), (0, 0))
        pygame.event.pump()
        pygame.display.flip()
        self._clock.tick(self.fps)

    def close(self) -> None:
        self._pygame.display.quit()
        self._pygame.quit()
