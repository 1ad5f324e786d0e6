"""Gray max-pooled Atari frames from the emulator's palette indices: `PaletteGray`.

SB3's preprocessing turns the last two screens of a frame skip into one gray frame as
``cv2.cvtColor(np.maximum(rgb_a, rgb_b), cv2.COLOR_RGB2GRAY)``. Each pixel of that frame depends only on
the two palette indices the emulator drew there, so it is one lookup in a 256 x 256 table of
``gray(max(colour_a, colour_b))``. Reading the indices costs ~1 us a screen where an RGB screen costs
~21 us; the lookup (~16 us) and a check of each screen for new colours (~6 us each) replace the RGB max
(~4 us) and ``cvtColor`` (~10 us): about 25 us less of a ~330-480 us agent step (`benchmarks/atari_bench.py`
measures the whole step).

ale-py does not expose its palette, so the table is learned: the first screen that shows a colour
not seen before is also read as RGB, and the table's entries for the new colours are computed by
``cv2.cvtColor`` itself on the pooled colours, so they equal what the RGB path computes with the
installed OpenCV, bit for bit (OpenCV 4 and 5 round differently; the table follows whichever runs).
A game shows a handful of colours (Pong 5, Breakout 9, Ms. Pac-Man 11), so this happens a few times
a run.

This needs a screen's RGB to be a function of its indices. It is, even with ALE's ``color_averaging``
option (which blends each screen with the previous one and maps the blend back to the nearest palette
index; tested); a colour that broke it would raise a RuntimeError when learned.

The kernels are compiled by numba on first use (a second or two; cached next to this file, or
compiled in each process when no cache folder is writable).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import numba
import numpy as np

PALETTE_SIZE = 256  # a screen pixel is a uint8 palette index (the NTSC palette uses the even ones)


def _jit(function: Callable[..., Any]) -> Any:
    try:
        return numba.njit(cache=True, nogil=True, boundscheck=False)(function)
    except RuntimeError:  # "no locator available": no writable cache folder; compile in each process
        return numba.njit(nogil=True, boundscheck=False)(function)


@_jit
def _all_known(screen: np.ndarray, known: np.ndarray) -> bool:
    flat = screen.ravel()
    missing = 0
    for pixel in range(flat.size):
        missing |= 1 - known[flat[pixel]]
    return missing == 0


@_jit
def _pooled_gray(screen_a: np.ndarray, screen_b: np.ndarray, table: np.ndarray, out: np.ndarray) -> None:
    flat_a, flat_b, flat_out = screen_a.ravel(), screen_b.ravel(), out.ravel()
    for pixel in range(flat_out.size):
        flat_out[pixel] = table[flat_a[pixel], flat_b[pixel]]


class PaletteGray:
    """Reads an emulator's screens as palette indices and pools two of them into a gray frame.

    ``read(screen)`` fills a ``(height, width)`` uint8 array with the current screen's palette indices,
    learning any new colour; ``pooled(a, b)`` returns a new ``(height, width)`` uint8 frame equal to
    ``cv2.cvtColor(np.maximum(rgb(a), rgb(b)), cv2.COLOR_RGB2GRAY)`` for two screens read earlier (pass
    the same screen twice for one screen's gray). The learned palette pickles with the object; the
    emulator does not (`bind` attaches one).
    """

    def __init__(self, ale: Any) -> None:
        height, width = ale.getScreenDims()
        self.colours = np.zeros((PALETTE_SIZE, 3), dtype=np.uint8)
        self.known = np.zeros(PALETTE_SIZE, dtype=np.uint8)
        self.table = np.zeros((PALETTE_SIZE, PALETTE_SIZE), dtype=np.uint8)
        self._rgb_screen = np.empty((height, width, 3), dtype=np.uint8)
        self.bind(ale)

    def bind(self, ale: Any) -> None:
        self._ale = ale

    def __getstate__(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if key != "_ale"}

    def read(self, screen: np.ndarray) -> None:
        self._ale.getScreen(screen)
        if not _all_known(screen, self.known):
            self._ale.getScreenRGB(self._rgb_screen)
            self._learn(screen, self._rgb_screen)

    def pooled(self, screen_a: np.ndarray, screen_b: np.ndarray) -> np.ndarray:
        out = np.empty(screen_a.shape, dtype=np.uint8)
        _pooled_gray(screen_a, screen_b, self.table, out)
        return out

    def _learn(self, screen: np.ndarray, rgb_screen: np.ndarray) -> None:
        indices, first = np.unique(screen.ravel(), return_index=True)
        colours = rgb_screen.reshape(-1, 3)[first]
        old = self.known[indices] == 1
        if not np.array_equal(self.colours[indices[old]], colours[old]):
            raise RuntimeError("the emulator drew one palette index in two colours; PaletteGray cannot pool it")
        new = indices[~old]
        self.colours[new] = colours[~old]
        self.known[new] = 1
        known = np.flatnonzero(self.known)
        # gray of max(new colour, known colour), computed by OpenCV exactly as the RGB path does
        pooled = np.maximum(self.colours[new][:, None, :], self.colours[known][None, :, :])
        gray = cv2.cvtColor(np.ascontiguousarray(pooled), cv2.COLOR_RGB2GRAY)
        self.table[np.ix_(new, known)] = gray
        self.table[np.ix_(known, new)] = gray.T
