"""Drawing grids of cell kinds: pure functions of the state, plus a pygame window for "human" mode.

Every image is built by indexing precomputed pixels with the grid of cell kinds, never by a loop
over pixels: flat-coloured cells (gridworld-v0) look their colours up packed as one uint32 per pixel
(R, G, B, 0); sprites (pacman-v0, render frames) are whole `(s, s, 3)` tiles indexed by kind; the
observation canvases re-paste only the cells whose kind changed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from functools import lru_cache
from typing import Any

import gymnasium as gym
import numpy as np


def pack_colors(colors: np.ndarray) -> np.ndarray:
    """`(..., 3)` uint8 RGB colours as `(...)` uint32 values whose bytes are R, G, B, 0."""
    colors = np.asarray(colors, dtype=np.uint8)
    rgba = np.zeros(colors.shape[:-1] + (4,), dtype=np.uint8)
    rgba[..., :3] = colors
    return rgba.view(np.uint32)[..., 0]


def _rgb_view(packed: np.ndarray) -> np.ndarray:
    """The RGB bytes of a packed uint32 image as a (non-contiguous) `(..., 3)` uint8 view."""
    return packed.view(np.uint8).reshape(packed.shape + (4,))[..., :3]


@lru_cache(maxsize=64)
def _nearest_index(n_cells: int, n_pixels: int) -> np.ndarray:
    """For each of `n_pixels` pixels, the cell it shows when `n_cells` cells are scaled to `n_pixels`
    with nearest-neighbour sampling (every cell gets floor or ceil of n_pixels / n_cells pixels)."""
    index = np.arange(n_pixels) * n_cells // n_pixels
    index.flags.writeable = False
    return index


def scaled_cells(kinds: np.ndarray, palette: np.ndarray, size: int) -> np.ndarray:
    """Draw `(..., h, w)` cell kinds as flat-coloured cells scaled to a `(..., size, size, 3)` uint8
    image (nearest neighbour, so cells stay crisp). `palette` is packed (see `pack_colors`)."""
    h, w = kinds.shape[-2:]
    rows, cols = _nearest_index(h, size), _nearest_index(w, size)
    one_line_per_row = palette.take(np.take(kinds, cols, axis=-1))  # (..., h, size): a pixel row per cell row
    # the rows as contiguous RGB bytes first: taking whole rows of them is 4x faster than of the packed view
    return np.take(np.ascontiguousarray(_rgb_view(one_line_per_row)), rows, axis=-3)


class CellCanvas:
    """A batch of `(n, size, size, 3)` images of `(n, h, w)` grids of flat-coloured cells, scaled like
    `scaled_cells` (the same pixels), that redraws only the cells whose kind changed since the last
    `draw`: a step of a grid game changes a few cells of each world, so a batch step writes a few small
    blocks per world instead of whole images.

    A cell covers a block of `floor` or `ceil` of `size / h` pixel rows (and columns), so cells come in
    at most four block shapes. For each shape a strided view of the canvas has one `(bh, bw, 3)` block
    starting at every pixel, and a batch of changed cells is one indexed assignment of colour blocks.

    `draw(kinds)` returns the canvas `image` itself, overwritten by the next `draw` (copy it to keep it);
    `draw(kinds, fresh=True)` a new array. With `strips=True` the canvas keeps only one pixel row per cell
    row (the rows of a cell row are identical): blocks are one pixel high, and `draw` stretches the strips
    into the images with one `np.take` of pixel rows, which writes the batch once. That is the cheaper
    way when a new array is wanted anyway (it costs about half a copy of a whole canvas, which also
    reads the batch) or when most cells change each step (views that move with the agent)."""

    def __init__(
        self, n_images: int, shape: tuple[int, int], colors: np.ndarray, size: int, strips: bool = False
    ) -> None:
        h, w = shape
        self.shape = (h, w)
        self.strips = strips
        # what `_paint` draws on: the whole images, or the strips (one pixel row per cell row)
        self._painted = np.zeros((n_images, h if strips else size, size, 3), dtype=np.uint8)
        # the whole images `draw` returns: the painted array itself, or (strips) made by draw(fresh=False) on first use
        self.image: np.ndarray | None = None if strips else self._painted
        self._pixel_rows = _nearest_index(h, size)  # the cell row each pixel row shows
        self._drawn = np.full(n_images * h * w, -1, dtype=np.int16)  # nothing drawn yet
        starts, heights = [], []
        for n_cells in (h, w):
            index = _nearest_index(n_cells, size)
            starts.append(np.searchsorted(index, np.arange(n_cells)))
            heights.append(np.bincount(index, minlength=n_cells))
        if strips:  # one pixel row per cell row
            starts[0], heights[0] = np.arange(h), np.ones(h, dtype=np.int64)
        self._row_start, self._col_start = starts
        block_shapes = sorted({(int(bh), int(bw)) for bh in heights[0] for bw in heights[1]})
        cell_shape = np.add.outer(heights[0] * (size + 1), heights[1]).ravel()  # one code per block shape
        self._groups = [(bh, bw, cell_shape == bh * (size + 1) + bw) for bh, bw in block_shapes]
        colors = np.asarray(colors, dtype=np.uint8)
        self._blocks = [np.ascontiguousarray(np.broadcast_to(colors[:, None, None], (len(colors), bh, bw, 3)))
                        for bh, bw, _ in self._groups]  # fmt: skip

    def draw(self, kinds: np.ndarray, fresh: bool = False) -> np.ndarray:
        """The images of `(n, h, w)` cell kinds: the canvas `image` itself, or with `fresh` a new array."""
        flat = kinds.reshape(-1)
        changed = np.flatnonzero(flat != self._drawn)
        if changed.size:
            new = flat[changed]
            self._drawn[changed] = new
            images, cells = np.divmod(changed, self.shape[0] * self.shape[1])
            for (bh, bw, in_group), blocks in zip(self._groups, self._blocks):
                if len(self._groups) > 1:
                    chosen = in_group[cells]
                    self._paint(bh, bw, blocks, images[chosen], cells[chosen], new[chosen])
                else:
                    self._paint(bh, bw, blocks, images, cells, new)
        if not self.strips:
            return self._painted.copy() if fresh else self._painted
        if fresh:
            return np.take(self._painted, self._pixel_rows, axis=1)
        if self.image is None:
            n, _, size, _ = self._painted.shape
            self.image = np.empty((n, size, size, 3), dtype=np.uint8)
        # mode="clip" (the indices are valid anyway) lets numpy write straight into `out`, without a temporary
        return np.take(self._painted, self._pixel_rows, axis=1, out=self.image, mode="clip")

    def _paint(
        self, bh: int, bw: int, blocks: np.ndarray, images: np.ndarray, cells: np.ndarray, kinds: np.ndarray
    ) -> None:
        canvas = self._painted
        n, height, width, _ = canvas.shape
        strides = canvas.strides
        # made here rather than kept, so that pickled or copied canvases still draw into their own arrays
        shape = (n, height - bh + 1, width - bw + 1, bh, bw, 3)
        at_pixel = np.ndarray(shape, np.uint8, buffer=canvas, strides=strides[:3] + strides[1:])
        rows, cols = np.divmod(cells, self.shape[1])
        at_pixel[images, self._row_start[rows], self._col_start[cols]] = blocks[kinds]


def tile_sprites(kinds: np.ndarray, sprites: np.ndarray) -> np.ndarray:
    """Draw `(h, w)` cell kinds with one `(s, s, 3)` uint8 sprite per kind: a `(h*s, w*s, 3)` image."""
    h, w = kinds.shape
    s = sprites.shape[1]
    return sprites[kinds].transpose(0, 2, 1, 3, 4).reshape(h * s, w * s, 3)


class SpriteCanvas:
    """A `(size, size, 3)` image of a `(h, w)` grid of cell kinds drawn with `(s, s, 3)` sprites,
    centred on black, that redraws only the cells whose kind changed since the last `draw`.

    A step of a maze game changes a handful of cells, so this costs a few small copies instead of
    re-tiling the whole maze; the result is the same image as `tile_sprites` on a fresh canvas."""

    def __init__(self, sprites: np.ndarray, shape: tuple[int, int], size: int) -> None:
        h, w = shape
        s = sprites.shape[1]
        if h * s > size or w * s > size:
            raise ValueError(f"{h}x{w} cells of {s} pixels do not fit a {size}x{size} image")
        self.sprites = sprites
        self.image = np.zeros((size, size, 3), dtype=np.uint8)
        self._top, self._left = (size - h * s) // 2, (size - w * s) // 2
        self._shape = (h, s, w, s, 3)
        self._drawn = np.full(h * w, -1, dtype=np.int16)  # nothing drawn yet

    def draw(self, kinds: np.ndarray) -> np.ndarray:
        """The image of `kinds` (a fresh array the caller may keep)."""
        flat = kinds.ravel()
        changed = np.flatnonzero(flat != self._drawn)
        if changed.size:
            h, s, w = self._shape[:3]
            # a view of the maze area as (cell row, pixel row, cell col, pixel col, rgb); made here
            # rather than kept, so that pickled or copied canvases still draw into their own image
            cells = self.image[self._top : self._top + h * s, self._left : self._left + w * s].reshape(self._shape)
            rows, cols = np.divmod(changed, w)
            cells[rows, :, cols] = self.sprites[flat[changed]]
            self._drawn[changed] = flat[changed]
        return self.image.copy()


def outline(
    image: np.ndarray, top: int, left: int, height: int, width: int, color: tuple[int, int, int], thickness: int
) -> None:
    """Draw a rectangle outline in place (clipped to the image)."""
    t = thickness
    bottom, right = top + height, left + width
    for rows, cols in (
        (slice(top, top + t), slice(left, right)),
        (slice(bottom - t, bottom), slice(left, right)),
        (slice(top, bottom), slice(left, left + t)),
        (slice(top, bottom), slice(right - t, right)),
    ):
        image[max(rows.start, 0) : max(rows.stop, 0), max(cols.start, 0) : max(cols.stop, 0)] = color


def ansi_grid(kinds: np.ndarray, chars: str) -> str:
    """A text picture of `(h, w)` cell kinds, one character per kind (`chars[kind]`)."""
    table = np.array(list(chars))
    return "\n".join("".join(row) for row in table[kinds]) + "\n"


# ----------------------------------------------------------------------------- sprite shapes
def _pixel_centres(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column coordinates of pixel centres in a `size x size` tile, in cell units (0..1)."""
    centres = (np.arange(size) + 0.5) / size
    return centres[:, None], centres[None, :]


def disc(size: int, radius: float, centre: tuple[float, float] = (0.5, 0.5)) -> np.ndarray:
    """Bool mask of a disc (radius and centre in cell units); at least the centre pixel is set."""
    y, x = _pixel_centres(size)
    mask = (y - centre[0]) ** 2 + (x - centre[1]) ** 2 <= radius**2
    if not mask.any():
        mask[int(centre[0] * size), int(centre[1] * size)] = True
    return mask


def pacman_shape(size: int, direction: int) -> np.ndarray:
    """Bool mask of a pac-man disc with its mouth (a 90-degree wedge) open towards `direction`
    (0 up, 1 down, 2 left, 3 right)."""
    y, x = _pixel_centres(size)
    dy, dx = ((-1, 0), (1, 0), (0, -1), (0, 1))[direction]
    ry, rx = y - 0.5, x - 0.5
    along = ry * dy + rx * dx
    across = np.abs(ry * dx - rx * dy)
    mouth = (along > 0) & (across < along)
    return disc(size, 0.45) & ~(mouth if size >= 5 else np.zeros_like(mouth))


def ghost_shape(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Bool masks (body, eyes) of a ghost: a dome over a skirt with a wavy hem, and two eyes."""
    y, x = _pixel_centres(size)
    dome = ((y - 0.45) ** 2 + (x - 0.5) ** 2 <= 0.4**2) & (y <= 0.45)
    skirt = (y > 0.45) & (y < 0.92) & (np.abs(x - 0.5) <= 0.4)
    hem = (y >= 0.8) & (np.cos(x * 6 * np.pi) > 0.3)
    body = (dome | skirt) & ~hem
    eyes = disc(size, 0.1, (0.4, 0.33)) | disc(size, 0.1, (0.4, 0.67)) if size >= 8 else np.zeros_like(body)
    return body, eyes


def sprite(
    size: int, background: tuple[int, int, int], layers: list[tuple[np.ndarray, tuple[int, int, int]]]
) -> np.ndarray:
    """A `(size, size, 3)` tile: `background` with each (mask, colour) layer painted in order."""
    tile = np.empty((size, size, 3), dtype=np.uint8)
    tile[:] = background
    for mask, color in layers:
        tile[mask] = color
    return tile


class Window:
    """A pygame window that shows rgb frames at a fixed frame rate (render_mode="human")."""

    def __init__(self, title: str, fps: int) -> None:
        import pygame  # imported here: only "human" rendering and keyboard play need pygame

        self._pygame = pygame
        self.fps = fps
        pygame.display.init()  # the display only: no audio device is needed
        pygame.display.set_caption(title)
        self._screen = None
        self._clock = pygame.time.Clock()

    def show(self, frame: np.ndarray) -> None:
        pygame = self._pygame
        size = (frame.shape[1], frame.shape[0])
        if self._screen is None or self._screen.get_size() != size:
            self._screen = pygame.display.set_mode(size)
        pygame.surfarray.blit_array(self._screen, frame.swapaxes(0, 1))
        pygame.event.pump()
        pygame.display.flip()
        self._clock.tick(self.fps)

    def set_caption(self, title: str) -> None:
        self._pygame.display.set_caption(title)

    def close(self) -> None:
        self._pygame.display.quit()


def check_render_mode(render_mode: str | None, metadata: dict[str, Any]) -> str | None:
    """`render_mode` if `metadata["render_modes"]` lists it (or it is None), else a ValueError."""
    if render_mode is not None and render_mode not in metadata["render_modes"]:
        raise ValueError(f"render_mode must be one of {metadata['render_modes']} or None, got {render_mode!r}")
    return render_mode


class RenderModes(ABC):
    """`render()`, `close()` and pickling for a Gymnasium env that draws itself.

    The env sets `render_mode` (see `check_render_mode`) and `_started`, and provides
    `_ansi() -> str` and `_rgb_frame() -> np.ndarray`; "human" shows the rgb frame in a pygame
    window opened on first use and closed by `close()`."""

    metadata: dict[str, Any]
    render_mode: str | None
    _started: bool
    _window: Window | None = None

    def render(self) -> str | np.ndarray | None:
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode= to gym.make.")
            return None
        if not self._started:
            raise gym.error.ResetNeeded("Call reset() before render().")
        if self.render_mode == "ansi":
            return self._ansi()
        frame = self._rgb_frame()
        if self.render_mode == "rgb_array":
            return frame
        if self._window is None:
            self._window = Window(type(self).__name__, self.metadata["render_fps"])
        self._window.show(frame)
        return None

    @abstractmethod
    def _ansi(self) -> str:
        """The state as text (render_mode "ansi")."""

    @abstractmethod
    def _rgb_frame(self) -> np.ndarray:
        """The state as a uint8 HxWx3 image (render_mode "rgb_array", and "human")."""

    def close(self) -> None:
        if self._window is not None:
            self._window.close()
            self._window = None

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_window"] = None  # a pygame window cannot be pickled; a copy opens its own
        return state
