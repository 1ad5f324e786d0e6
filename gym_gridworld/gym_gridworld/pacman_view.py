"""What pac-man looks like: observations (grid planes, sprite images) and render frames of a `PacmanBatch`.

Pure functions of the game state (no state of their own except cached sprites): the single env and
the vector env draw through the same functions, so their observations are equal by construction.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from gym_gridworld import render
from gym_gridworld.core import LEFT, N_ACTIONS
from gym_gridworld.pacman_engine import EMPTY, PACMAN, PELLET, POWER, WALL, PacmanBatch, PacmanGame

GRID_CHANNELS = ("wall", "pellet", "power_pellet", "pacman", "ghost", "frightened_ghost", "eaten_ghost")
OBS_TYPES = ("rgb", "grid")
IMAGE_SIZE = 84
RENDER_CELL = 24
ANSI_CHARS = " %.o^v<>GGGGFe"  # one character per cell kind

BLACK = (0, 0, 0)
WALL_BLUE = (33, 33, 222)
PELLET_COLOR = (255, 184, 151)
YELLOW = (255, 255, 0)
GHOST_COLORS = ((255, 0, 0), (255, 184, 255), (0, 255, 255), (255, 184, 82))  # red, pink, cyan, orange
FRIGHTENED_COLOR = (200, 200, 255)
EYE_WHITE, PUPIL = (255, 255, 255), (33, 33, 222)

_BOARD_CODES = np.array([WALL, PELLET, POWER], dtype=np.int8)


def cell_pixels(shape: tuple[int, int]) -> int:
    """Pixels per cell of the `IMAGE_SIZE` observation of a maze of `shape` cells (0 if it does not fit)."""
    return IMAGE_SIZE // max(shape)


def grid_planes(
    board: np.ndarray,
    pacman: np.ndarray,
    ghost_cells: np.ndarray,
    ghost_states: np.ndarray,
    shape: tuple[int, int],
) -> np.ndarray:
    """`(n, 7, height, width)` int8 planes in the order of `GRID_CHANNELS` of n games: `board`
    `(n, cells)`, `pacman` `(n,)`, `ghost_cells` and `ghost_states` `(ghosts, n)`."""
    n, n_cells = board.shape
    planes = np.zeros((n, len(GRID_CHANNELS), n_cells), dtype=np.int8)
    as_bool = planes.view(bool)
    for channel, code in enumerate(_BOARD_CODES):
        np.equal(board, code, out=as_bool[:, channel])
    flat = planes.reshape(-1)  # flat indices: faster than planes[games, channel, cells]
    offsets = np.arange(n) * (len(GRID_CHANNELS) * n_cells)
    flat[offsets + 3 * n_cells + pacman] = 1
    flat[offsets + (4 + ghost_states) * n_cells + ghost_cells] = 1
    return planes.reshape(n, len(GRID_CHANNELS), *shape)


def batch_planes(games: PacmanBatch) -> np.ndarray:
    """The grid planes of every game of a batch."""
    return grid_planes(games.board, games.pacman, games.ghost_cells, games.ghost_states, games.layout.shape)


def game_planes(game: PacmanGame) -> np.ndarray:
    """The `(7, height, width)` grid planes of one game."""
    cells = np.array(game.ghost_cells, dtype=np.intp)[:, None]
    states = np.array(game.ghost_states, dtype=np.intp)[:, None]
    return grid_planes(game.board[None], np.array([game.pacman]), cells, states, game.layout.shape)[0]


def images(kinds: np.ndarray) -> np.ndarray:
    """`(n, IMAGE_SIZE, IMAGE_SIZE, 3)` uint8 images of `(n, h, w)` cell kinds: sprites of
    `cell_pixels((h, w))` pixels, centred on black (what `render.SpriteCanvas` draws, for a batch)."""
    n, h, w = kinds.shape
    tiles = sprites(cell_pixels((h, w)))
    s = tiles.shape[1]
    out = np.zeros((n, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    top, left = (IMAGE_SIZE - h * s) // 2, (IMAGE_SIZE - w * s) // 2
    out[:, top : top + h * s, left : left + w * s] = (
        tiles[kinds].transpose(0, 1, 3, 2, 4, 5).reshape(n, h * s, w * s, 3)
    )
    return out


def canvas(shape: tuple[int, int]) -> render.SpriteCanvas:
    """A canvas that redraws one maze incrementally (the single env's image observation)."""
    return render.SpriteCanvas(sprites(cell_pixels(shape)), shape, IMAGE_SIZE)


def ansi_text(kinds: np.ndarray, lives: int, pellets_left: int, win: bool) -> str:
    """The maze as text (see `PacmanEnv`'s render modes), then a status line."""
    status = f"lives {lives} | pellets left {pellets_left}" + (" | level cleared" if win else "")
    return render.ansi_grid(kinds, ANSI_CHARS) + status + "\n"


def rgb_frame(kinds: np.ndarray, lives: int) -> np.ndarray:
    """The maze at `RENDER_CELL` pixels per cell, with one pac-man per life left in a row under it."""
    tiles = sprites(RENDER_CELL)
    status = np.full((1, kinds.shape[1]), EMPTY, dtype=np.int8)
    status[0, : min(lives, kinds.shape[1])] = PACMAN + LEFT
    return np.concatenate([render.tile_sprites(kinds, tiles), render.tile_sprites(status, tiles)], axis=0)


@lru_cache(maxsize=8)
def sprites(size: int) -> np.ndarray:
    """`(N_KINDS, size, size, 3)` uint8 sprites of every cell kind."""
    empty = np.zeros((size, size), dtype=bool)
    body, eyes = render.ghost_shape(size)
    pupils = (render.disc(size, 0.05, (0.42, 0.35)) | render.disc(size, 0.05, (0.42, 0.69))) if size >= 12 else empty
    ghost_eyes = [(eyes, EYE_WHITE), (pupils, PUPIL)]
    tiles = [
        render.sprite(size, BLACK, []),
        render.sprite(size, WALL_BLUE, []),
        render.sprite(size, BLACK, [(render.disc(size, 0.12), PELLET_COLOR)]),
        render.sprite(size, BLACK, [(render.disc(size, 0.3), PELLET_COLOR)]),
        *(render.sprite(size, BLACK, [(render.pacman_shape(size, d), YELLOW)]) for d in range(N_ACTIONS)),
        *(render.sprite(size, BLACK, [(body, color), *ghost_eyes]) for color in GHOST_COLORS),
        render.sprite(size, BLACK, [(body, FRIGHTENED_COLOR), (eyes, PUPIL)]),
        render.sprite(size, BLACK, [(eyes if size >= 8 else render.disc(size, 0.2), EYE_WHITE), (pupils, PUPIL)]),
    ]
    stacked = np.stack(tiles)
    stacked.flags.writeable = False
    return stacked
