"""Pictures of snake boards: pure numpy functions of the board codes, plus a pygame window.

An image is built by indexing a table of precomputed cell sprites with the board codes (no
per-pixel Python loop), so the same function draws one board or a batch of boards. The "rgb"
observation uses flat colour cells (`observation_image`, a palette lookup and two repeats);
rendering uses larger, drawn cells with a head that looks where it is going (`render_sprites`)
and a border around the board.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from gym_snake.core import BODY, DIRECTION_DELTAS, EMPTY, FOOD, HEAD

COLORS = {
    EMPTY: (18, 18, 28),
    BODY: (60, 180, 90),
    HEAD: (250, 200, 40),
    FOOD: (225, 45, 45),
}
GRID_LINE = (34, 34, 50)
EYE = (25, 25, 25)
BORDER = (110, 110, 130)
BORDER_WRAPPED = (60, 110, 170)  # a torus board (wrap_walls=True) gets a blue border
HEADING_SPRITE = 4  # render sprite of a head with heading h: HEADING_SPRITE + h


PALETTE = np.array([COLORS[code] for code in (EMPTY, BODY, HEAD, FOOD)], dtype=np.uint8)  # by cell code
PALETTE.flags.writeable = False


def observation_image(boards: np.ndarray, cell_size: int) -> np.ndarray:
    """The "rgb" observation of boards of cell codes: (..., H, W) -> (..., H * c, W * c, 3) uint8,
    each cell a flat `cell_size` x `cell_size` square of its code's colour."""
    return PALETTE[boards].repeat(cell_size, axis=-2).repeat(cell_size, axis=-3)


@lru_cache(maxsize=16)
def render_sprites(cell_size: int) -> np.ndarray:
    """(8, cell_size, cell_size, 3) uint8: empty, body, head (no heading), food, then a head facing
    up, right, down and left (with eyes)."""
    c = cell_size
    yy, xx = np.mgrid[0:c, 0:c] + 0.5
    margin = _margin(c)
    inset = (yy >= margin) & (yy <= c - margin) & (xx >= margin) & (xx <= c - margin)
    disc = np.hypot(yy - c / 2, xx - c / 2) <= c * 0.38

    sprites = np.empty((8, c, c, 3), dtype=np.uint8)
    sprites[:] = COLORS[EMPTY]
    if c >= 8:  # faint grid lines on the right and bottom edge of every cell
        sprites[:, -1, :] = GRID_LINE
        sprites[:, :, -1] = GRID_LINE
    sprites[BODY][inset] = COLORS[BODY]
    sprites[FOOD][disc] = COLORS[FOOD]
    for k in (HEAD, *range(HEADING_SPRITE, HEADING_SPRITE + 4)):
        sprites[k][inset] = COLORS[HEAD]
    eye_radius = max(0.6, c * 0.09)
    for heading, (dr, dc) in enumerate(DIRECTION_DELTAS):
        # two eyes on the side the head faces, one each side of the centre line
        forward, side = c * 0.22, c * 0.2
        for sign in (-1, 1):
            ey = c / 2 + dr * forward + dc * side * sign
            ex = c / 2 + dc * forward + dr * side * sign
            sprites[HEADING_SPRITE + heading][np.hypot(yy - ey, xx - ex) <= eye_radius] = EYE
    sprites.flags.writeable = False
    return sprites


def board_image(boards: np.ndarray, sprites: np.ndarray) -> np.ndarray:
    """Images of boards of sprite indices: (..., H, W) -> (..., H * c, W * c, 3) uint8."""
    height, width = boards.shape[-2:]
    c = sprites.shape[1]
    tiles = sprites[boards]  # (..., H, W, c, c, 3)
    return tiles.swapaxes(-4, -3).reshape(*boards.shape[:-2], height * c, width * c, 3)


def _margin(cell_size: int) -> int:
    """Pixels between a drawn body square and its cell's edge."""
    return max(1, cell_size // 10) if cell_size >= 4 else 0


def frame(board: np.ndarray, snake: Sequence[int], heading: int, cell_size: int, wrap_walls: bool) -> np.ndarray:
    """The rendered picture of one (H, W) board with the snake's cells `snake` (head first): drawn
    cells, the body's squares joined in order, a head facing `heading`, and a border."""
    codes = board.copy()
    if len(snake):
        codes.flat[snake[0]] = HEADING_SPRITE + heading
    image = board_image(codes, render_sprites(cell_size))
    c, m, width = cell_size, _margin(cell_size), board.shape[1]
    color = COLORS[BODY]
    for a, b in zip(snake, snake[1:]):  # join consecutive squares (not across a wrapped edge)
        (ra, ca), (rb, cb) = divmod(a, width), divmod(b, width)
        if ra == rb and abs(ca - cb) == 1:
            x = max(ca, cb) * c
            image[ra * c + m : (ra + 1) * c - m, x - m : x + m] = color
        elif ca == cb and abs(ra - rb) == 1:
            y = max(ra, rb) * c
            image[y - m : y + m, ca * c + m : (ca + 1) * c - m] = color
    border = max(2, cell_size // 8)  # SnakeConfig.check_frame_size counts it
    padded = np.empty((image.shape[0] + 2 * border, image.shape[1] + 2 * border, 3), dtype=np.uint8)
    padded[:] = BORDER_WRAPPED if wrap_walls else BORDER
    padded[border:-border, border:-border] = image
    return padded


ANSI_SYMBOLS = {EMPTY: ".", BODY: "o", FOOD: "*"}
ANSI_HEADS = "^>v<"  # by heading


def ansi_text(board: np.ndarray, heading: int, score: int, wrap_walls: bool) -> str:
    """A text picture of one (H, W) board: '.' empty, 'o' body, '^>v<' the head, '*' food."""
    head_symbol = ANSI_HEADS[heading]
    rows = ["".join(head_symbol if code == HEAD else ANSI_SYMBOLS[code] for code in row) for row in board.tolist()]
    edge = ":" if wrap_walls else "#"
    line = edge * (board.shape[1] + 2)
    body = "\n".join(edge + row + edge for row in rows)
    return f"{line}\n{body}\n{line}\nscore {score}  length {int(np.count_nonzero((board == BODY) | (board == HEAD)))}\n"


class Window:
    """A pygame window that shows rgb frames at a fixed frame rate (render_mode="human")."""

    def __init__(self, title: str, fps: int) -> None:
        import pygame  # imported here: only "human" rendering needs pygame

        self._pygame = pygame
        self.fps = fps
        self.title = title
        pygame.display.init()
        pygame.display.set_caption(title)
        self._screen = None
        self._clock = pygame.time.Clock()

    def show(self, image: np.ndarray, caption: str | None = None) -> None:
        pygame = self._pygame
        size = (image.shape[1], image.shape[0])
        if self._screen is None or self._screen.get_size() != size:
            self._screen = pygame.display.set_mode(size)
        if caption is not None:
            pygame.display.set_caption(f"{self.title}: {caption}")
        pygame.surfarray.blit_array(self._screen, image.swapaxes(0, 1))
        pygame.event.pump()
        pygame.display.flip()
        self._clock.tick(self.fps)

    def close(self) -> None:
        self._pygame.display.quit()
