"""pacman-v0 on big, oversized and malformed inputs: memory linear in the board, limits checked
before allocation, clear errors for wrong argument types and undecodable files."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import gym_gridworld  # noqa: F401  (registers the ids)
from gym_gridworld import LayoutError, load_layout, parse_layout
from gym_gridworld import pacman_engine as engine
from gym_gridworld.core import Grid
from gym_gridworld.layout import MAX_FILE_BYTES, MAX_GHOSTS, MAX_SIDE, Layout
from gym_gridworld.pacman import PacmanEnv


def pillar_maze(side: int, ghosts: int = 2) -> str:
    """A `side` x `side` layout: a border, wall pillars on even rows and columns, pellets elsewhere."""
    rows = ["%" * side]
    for r in range(1, side - 1):
        rows.append("%" + "".join("%" if r % 2 == 0 and c % 2 == 0 else "." for c in range(1, side - 1)) + "%")
    rows.append("%" * side)
    rows[1] = "%P" + rows[1][2:]
    rows[side - 2] = rows[side - 2][: side - 1 - ghosts] + "G" * ghosts + "%"
    return "\n".join(rows) + "\n"


def array_bytes(obj: object) -> int:
    """The bytes of the numpy arrays held by `obj`'s attributes (one level, lists and dicts included)."""
    total = 0
    for value in vars(obj).values():
        values = value.values() if isinstance(value, dict) else value if isinstance(value, list) else [value]
        total += sum(v.nbytes for v in values if isinstance(v, np.ndarray))
    return total


def test_a_100x100_layout_keeps_memory_linear_in_the_board():
    """It used to build an all-pairs distance table (10,000^2 cells, 1.4 GB, 92 s)."""
    layout = parse_layout(pillar_maze(100), "big.txt")
    env = gym.make("pacman-v0", layout=layout, obs_type="grid")
    obs, _ = env.reset(seed=0)
    assert obs.shape == (7, 100, 100)
    for action in np.random.default_rng(0).integers(0, 4, 30).tolist():
        assert env.observation_space.contains(env.step(action)[0])
    maze = env.unwrapped.game.maze
    assert maze.distances.table is None and maze.steer is None, "a dense table for 10,000 cells"
    per_cell = (array_bytes(maze) + array_bytes(maze.distances)) / maze.n_cells
    assert per_cell <= 64 * engine.SPARSE_CACHE_MAPS, f"{per_cell:.0f} bytes per cell"
    assert len(maze.distances._cache) <= engine.SPARSE_CACHE_MAPS


def test_sparse_distance_maps_steer_exactly_like_the_dense_table(monkeypatch):
    """Big mazes look distances up per target (BFS maps in an LRU cache): the same game as the table."""

    def trajectory() -> list:
        single = PacmanEnv(layout="medium", obs_type="grid", ghost_randomness=0.1)
        vector = gym.make_vec("pacman-v0", num_envs=3, layout="medium", obs_type="grid", ghost_randomness=0.1)
        seen = [single.reset(seed=5)[0], vector.reset(seed=5)[0]]
        for action in np.random.default_rng(1).integers(0, 4, 150).tolist():
            obs, _, terminated, _, _ = single.step(action)
            seen += [obs, vector.step(np.full(3, action))[0]]
            if terminated:
                seen.append(single.reset()[0])
        return seen

    dense = trajectory()
    assert engine.maze_of(load_layout("medium")).steer is not None
    monkeypatch.setattr(engine, "DENSE_MAX_ENTRIES", 0)
    monkeypatch.setattr(engine, "SPARSE_CACHE_MAPS", 3)  # evictions too
    monkeypatch.setattr(engine, "_MAZES", type(engine._MAZES)())
    sparse = trajectory()
    assert engine.maze_of(load_layout("medium")).steer is None
    assert len(dense) == len(sparse) and all(np.array_equal(a, b) for a, b in zip(dense, sparse))


def test_batched_bfs_matches_a_plain_breadth_first_search():
    layout = load_layout("medium")
    grid = Grid(layout.walls)
    sources = np.flatnonzero(~grid.walls)[::7]
    table = engine.bfs_distances(grid.next_cell, sources)
    for row, source in zip(table, sources):
        np.testing.assert_array_equal(row, grid.distances_from(int(source)))


@pytest.mark.parametrize("rows, cols", [(500, 500), (MAX_SIDE + 1, 10), (10, MAX_SIDE + 1)])
def test_oversized_layouts_are_refused_before_allocation(rows, cols, tmp_path):
    text = "\n".join(["%" * cols] * rows) + "\n"
    what = "rows" if rows > MAX_SIDE else "columns"
    value = rows if rows > MAX_SIDE else cols
    with pytest.raises(
        LayoutError,
        match=f"huge.txt: {value} {what}: a layout has at most {MAX_SIDE} rows and {MAX_SIDE} columns",
    ):
        parse_layout(text, "huge.txt")
    path = tmp_path / "huge.txt"
    path.write_text(text)
    with pytest.raises(LayoutError, match=f"{path}: {value} {what}"):
        gym.make("pacman-v0", layout=str(path), obs_type="grid")


def test_files_and_texts_over_the_byte_limit_and_layouts_built_by_hand_are_refused(tmp_path):
    path = tmp_path / "long.txt"
    path.write_bytes(b"%" * (MAX_FILE_BYTES + 1))
    with pytest.raises(LayoutError, match=f"{path}: the file has more than {MAX_FILE_BYTES} bytes"):
        load_layout(str(path))
    with pytest.raises(LayoutError, match=f"text: {MAX_FILE_BYTES + 1} characters: a layout text has at most"):
        parse_layout(" " * (MAX_FILE_BYTES + 1), "text")
    walls = np.zeros((MAX_SIDE + 1, 3), dtype=bool)
    by_hand = Layout("by hand", "x", walls, walls, walls, (0, 0), ())
    with pytest.raises(LayoutError, match=f"by hand: {MAX_SIDE + 1} rows"):
        PacmanEnv(layout=by_hand, obs_type="grid")
    middle = "%P." + "G" * (MAX_GHOSTS + 1) + "%"
    crowded = "\n".join(["%" * len(middle), middle, "%" * len(middle)]) + "\n"
    with pytest.raises(LayoutError, match=f"crowd: {MAX_GHOSTS + 1} ghosts: a layout has at most {MAX_GHOSTS}"):
        parse_layout(crowded, "crowd")


def test_a_non_utf8_layout_file_raises_layout_error(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"%%%%%\n%P.G%\n%%%%%\n" + "% caf\xe9\n".encode("latin-1"))
    with pytest.raises(LayoutError, match=rf"{path}: not a UTF-8 text file \(byte 23"):
        gym.make("pacman-v0", layout=str(path))


@pytest.mark.parametrize("rewards", [[1, 2], "pellet", 3.0, (("pellet", 1.0),)])
def test_rewards_of_the_wrong_type_name_the_argument_and_the_keys(rewards):
    with pytest.raises(
        ValueError, match=r"rewards must be a dict \(or None\) mapping some of \['clear', 'death', 'ghost'"
    ):
        gym.make("pacman-v0", rewards=rewards)
    with pytest.raises(ValueError, match="rewards must be a dict"):
        gym.make_vec("pacman-v0", num_envs=2, rewards=rewards)
