"""Pac-man maze layouts in the Berkeley-style text format, with validation that names line and column.

    %  wall        .  pellet        o  power pellet
    P  the player  G  a ghost       (space) an empty corridor

Every row must have the same length; out-of-grid counts as wall. Built-in layouts live in
`gym_gridworld/layouts/<name>.txt`: `small` (12x12, drawn 7 pixels per cell: exactly 84x84) and
`medium` (20x17).

Limits, checked before anything of the layout's size is allocated: at most `MAX_SIDE` (256) rows and
columns, `MAX_GHOSTS` (64) ghosts, and a file of at most `MAX_FILE_BYTES`; files are UTF-8. Whatever
is wrong with a layout raises `LayoutError` naming the file (or source), the value and the limit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from gym_gridworld.core import Grid

WALL_CHAR, PELLET_CHAR, POWER_CHAR, PLAYER_CHAR, GHOST_CHAR, EMPTY_CHAR = "%", ".", "o", "P", "G", " "
CHAR_MEANINGS = {
    WALL_CHAR: "wall",
    PELLET_CHAR: "pellet",
    POWER_CHAR: "power pellet",
    PLAYER_CHAR: "player",
    GHOST_CHAR: "ghost",
    EMPTY_CHAR: "empty",
}


MAX_SIDE = 256  # rows and columns of a layout
MAX_GHOSTS = 64
MAX_FILE_BYTES = 4 * (MAX_SIDE + 2) * MAX_SIDE  # room for CRLF line ends and multi-byte spaces


class LayoutError(ValueError):
    """A layout text that cannot be played; the message names the line, column and problem."""


@dataclass(frozen=True, eq=False)
class Layout:
    """A parsed maze: `(height, width)` bool masks and (row, col) start positions."""

    name: str
    text: str
    walls: np.ndarray
    pellets: np.ndarray
    power_pellets: np.ndarray
    player: tuple[int, int]
    ghosts: tuple[tuple[int, int], ...]

    @property
    def shape(self) -> tuple[int, int]:
        return self.walls.shape


def builtin_layouts() -> tuple[str, ...]:
    """The names of the layouts shipped with the package."""
    folder = resources.files("gym_gridworld") / "layouts"
    return tuple(sorted(entry.name[: -len(".txt")] for entry in folder.iterdir() if entry.name.endswith(".txt")))


def load_layout(layout: str | os.PathLike | Layout) -> Layout:
    """A Layout from a built-in name (`"small"`, `"medium"`), a path to a text file, or a Layout."""
    if isinstance(layout, Layout):
        return check_built_layout(layout)
    if not isinstance(layout, (str, os.PathLike)):
        raise LayoutError(
            f"layout must be a built-in name {builtin_layouts()}, a path to a text file or a Layout, got {layout!r}"
        )
    name = os.fspath(layout)
    if name in builtin_layouts():
        text = (resources.files("gym_gridworld") / "layouts" / f"{name}.txt").read_text(encoding="utf-8")
        return parse_layout(text, name)
    path = Path(name)
    if not path.is_file():
        raise LayoutError(f"unknown layout {name!r}: not a built-in layout {builtin_layouts()} nor an existing file")
    with path.open("rb") as file:
        data = file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise LayoutError(
            f"{path}: the file has more than {MAX_FILE_BYTES} bytes (the limit for a layout of at most "
            f"{MAX_SIDE}x{MAX_SIDE} cells)"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise LayoutError(f"{path}: not a UTF-8 text file (byte {error.start}: {error.reason})") from None
    return parse_layout(text, str(path))


def check_layout_shape(shape: tuple[int, int], n_ghosts: int, source: str) -> None:
    """A LayoutError unless `shape` (rows, columns) and `n_ghosts` are within the documented limits."""
    for what, value in zip(("rows", "columns"), shape):
        if value > MAX_SIDE:
            raise LayoutError(f"{source}: {value} {what}: a layout has at most {MAX_SIDE} rows and {MAX_SIDE} columns")
    if n_ghosts > MAX_GHOSTS:
        raise LayoutError(f"{source}: {n_ghosts} ghosts: a layout has at most {MAX_GHOSTS}")


def check_built_layout(layout: Layout) -> Layout:
    """`layout` if a Layout built by hand (not by `parse_layout`) is playable as far as its arrays and
    positions go: same-shape 2-D bool masks within the size limits, the player and ghosts on open cells."""
    name = layout.name
    masks = (layout.walls, layout.pellets, layout.power_pellets)
    if not all(isinstance(mask, np.ndarray) and mask.dtype == np.bool_ and mask.ndim == 2 for mask in masks):
        raise LayoutError(f"{name}: walls, pellets and power_pellets must be 2-D bool numpy arrays")
    check_layout_shape(layout.walls.shape, len(layout.ghosts), name)
    if not layout.pellets.shape == layout.power_pellets.shape == layout.walls.shape:
        raise LayoutError(f"{name}: walls, pellets and power_pellets must have the same shape")
    height, width = layout.walls.shape
    for what, position in [("the player", layout.player), *(("a ghost", ghost) for ghost in layout.ghosts)]:
        if not (
            isinstance(position, tuple)
            and len(position) == 2
            and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in position)
            and 0 <= position[0] < height
            and 0 <= position[1] < width
        ):
            raise LayoutError(
                f"{name}: {what} at {position!r} is not a (row, column) cell of the {height}x{width} maze"
            )
        if layout.walls[position]:
            raise LayoutError(f"{name}: {what} at {position!r} is on a wall")
    return layout


def parse_layout(text: str, source: str = "<layout>") -> Layout:
    """Parse and validate a layout text; `source` names it in error messages."""
    if not isinstance(text, str):
        raise LayoutError(f"{source}: a layout text must be a str, got {type(text).__name__}")
    if len(text) > MAX_FILE_BYTES:
        raise LayoutError(f"{source}: {len(text)} characters: a layout text has at most {MAX_FILE_BYTES}")
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()  # trailing blank lines (e.g. the file's final newline) are not rows
    if not lines:
        raise LayoutError(f"{source}: the layout is empty")
    width = len(lines[0])
    check_layout_shape((len(lines), max(len(line) for line in lines)), 0, source)
    allowed = ", ".join(f"{char!r} {meaning}" for char, meaning in CHAR_MEANINGS.items())
    players: list[tuple[int, int]] = []
    ghosts: list[tuple[int, int]] = []
    for row, line in enumerate(lines):
        if len(line) != width:
            raise LayoutError(
                f"{source}: line {row + 1} has {len(line)} characters but line 1 has {width}: "
                "every row of a layout must have the same length (ragged rows)"
            )
        for col, char in enumerate(line):
            if char not in CHAR_MEANINGS:
                raise LayoutError(
                    f"{source}: line {row + 1}, column {col + 1}: unknown character {char!r} (allowed: {allowed})"
                )
            if char == PLAYER_CHAR:
                players.append((row, col))
            elif char == GHOST_CHAR:
                ghosts.append((row, col))
    check_layout_shape((len(lines), width), len(ghosts), source)
    if not players:
        raise LayoutError(f"{source}: no player: put exactly one {PLAYER_CHAR!r} in the layout")
    if len(players) > 1:
        (r1, c1), (r2, c2) = players[:2]
        raise LayoutError(
            f"{source}: line {r2 + 1}, column {c2 + 1}: a second player (the first is at line {r1 + 1}, "
            f"column {c1 + 1}); "
            f"a layout has exactly one {PLAYER_CHAR!r}"
        )
    chars = np.array([list(line) for line in lines])
    walls, pellets, power = chars == WALL_CHAR, chars == PELLET_CHAR, chars == POWER_CHAR
    if not (pellets | power).any():
        raise LayoutError(f"{source}: no pellets: a level needs at least one {PELLET_CHAR!r} or {POWER_CHAR!r}")
    grid = Grid(walls)
    reachable = grid.reachable(grid.cell(*players[0])).reshape(walls.shape)
    stranded = np.argwhere((pellets | power) & ~reachable)
    if len(stranded):
        row, col = stranded[0]
        raise LayoutError(
            f"{source}: line {row + 1}, column {col + 1}: pellet {str(chars[row, col])!r} cannot be "
            f"reached from the player "
            f"at line {players[0][0] + 1}, column {players[0][1] + 1} ({len(stranded)} unreachable pellet(s) in all)"
        )
    return Layout(source, "\n".join(lines) + "\n", walls, pellets, power, players[0], tuple(ghosts))
