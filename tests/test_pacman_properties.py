"""Property-based tests of pacman-v0 (hypothesis): random layouts, options, seeds and action sequences
keep every promise; malformed layout texts and files raise LayoutError and nothing else, quickly.

Profiles: `ci` (default, 25 examples) and `nightly` (HYPOTHESIS_PROFILE=nightly), see hypothesis_profiles.py.
"""

from __future__ import annotations

import pickle

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pacman_helpers import side_by_side

from gym_gridworld import LayoutError, load_layout, parse_layout
from gym_gridworld.core import Grid
from gym_gridworld.layout import MAX_SIDE
from gym_gridworld.pacman import PacmanEnv

INTERIOR = " ..o%%"  # pellets and walls more often than the rest


@st.composite
def layouts(draw: st.DrawFn) -> str:
    """A playable layout: a walled border, random interior, one player, 0-5 ghosts; cells that the
    player cannot reach become walls."""
    height, width = draw(st.integers(3, 9)), draw(st.integers(4, 12))
    cells = [[draw(st.sampled_from(INTERIOR)) for _ in range(width - 2)] for _ in range(height - 2)]
    free = [(r, c) for r in range(height - 2) for c in range(width - 2)]
    picks = draw(st.lists(st.sampled_from(free), min_size=1, max_size=6, unique=True))
    (pr, pc), ghosts = picks[0], picks[1:]
    cells[pr][pc] = "P"
    for r, c in ghosts:
        cells[r][c] = "G"
    for dr, dc in (
        (0, 1),
        (0, -1),
        (1, 0),
        (-1, 0),
    ):  # a pellet next to the player: there is something to eat
        if 0 <= pr + dr < height - 2 and 0 <= pc + dc < width - 2 and (pr + dr, pc + dc) not in picks:
            cells[pr + dr][pc + dc] = "."
            break
    else:
        cells[pr][pc], cells[ghosts[0][0]][ghosts[0][1]] = ".", "P"  # boxed in by ghosts: swap one of them
    rows = ["%" * width] + ["%" + "".join(row) + "%" for row in cells] + ["%" * width]
    walls = np.array([[ch == "%" for ch in row] for row in rows])
    player = next((r, row.index("P")) for r, row in enumerate(rows) if "P" in row)
    reachable = Grid(walls).reachable(player[0] * width + player[1]).reshape(walls.shape)
    text = (
        "\n".join(
            "".join(ch if reachable[r, c] or ch in "%G" else "%" for c, ch in enumerate(row))
            for r, row in enumerate(rows)
        )
        + "\n"
    )
    assume("." in text or "o" in text)  # a swap with a walled-in ghost can leave no reachable pellet
    return text


options = st.fixed_dictionaries(
    {
        "lives": st.integers(1, 3),
        "frightened_steps": st.integers(1, 12),
        "ghost_randomness": st.sampled_from([0.0, 0.2, 0.7, 1.0]),
    }
)
layout_choice = st.one_of(st.sampled_from(["small", "medium"]), layouts())
actions = st.lists(st.integers(0, 3), min_size=1, max_size=60)


def make(layout: str, obs_type: str, **kwargs) -> PacmanEnv:
    return PacmanEnv(
        layout=parse_layout(layout, "generated") if "\n" in layout else layout, obs_type=obs_type, **kwargs
    )


@given(
    layout=layout_choice,
    opts=options,
    seed=st.integers(0, 2**32 - 1),
    moves=actions,
    obs_type=st.sampled_from(["grid", "rgb"]),
)
def test_every_step_keeps_the_games_promises(layout, opts, seed, moves, obs_type):
    """Obs in space; pellets only decrease and lives never increase within an episode; ghosts never
    stand on walls; the same seed and actions give the same trajectory; a pickled copy taken mid-episode
    continues identically."""
    if "\n" in layout and obs_type == "rgb" and max(len(line) for line in layout.splitlines()) > 42:
        obs_type = "grid"
    env, twin = make(layout, obs_type, **opts), make(layout, obs_type, **opts)
    obs, info = env.reset(seed=seed)
    assert env.observation_space.contains(obs) and np.array_equal(obs, twin.reset(seed=seed)[0])
    walls = env.game.maze.grid.walls
    copy = None
    for t, action in enumerate(moves):
        before = info
        obs, reward, terminated, truncated, info = env.step(action)
        assert env.observation_space.contains(obs)
        twin_step = twin.step(action)
        assert np.array_equal(obs, twin_step[0]) and (reward, terminated, info) == (
            twin_step[1],
            twin_step[2],
            twin_step[4],
        )
        assert info["pellets_left"] <= before["pellets_left"] and info["lives"] <= before["lives"]
        assert not walls[env.game.ghost_cells].any() and not walls[env.game.pacman]
        if t == len(moves) // 2:
            copy = pickle.loads(pickle.dumps(env))
            copy_moves = moves[t + 1 :]
            expected = []
        elif copy is not None:
            expected.append((obs, reward, terminated, info))
        if terminated:
            break
    if copy is not None:
        for action, (obs, reward, terminated, info) in zip(copy_moves, expected):
            copy_obs, copy_reward, copy_terminated, _, copy_info = copy.step(action)
            assert np.array_equal(copy_obs, obs) and (copy_reward, copy_terminated, copy_info) == (
                reward,
                terminated,
                info,
            )


@given(
    layout=layout_choice,
    opts=options,
    seed=st.integers(0, 2**31),
    obs_type=st.sampled_from(["grid", "rgb"]),
    moves=st.lists(st.lists(st.integers(0, 3), min_size=3, max_size=3), min_size=30, max_size=60),
    time_limit=st.one_of(st.none(), st.integers(1, 20)),
)
def test_vector_games_equal_single_envs(layout, opts, seed, obs_type, moves, time_limit):
    if "\n" in layout:
        obs_type = "grid" if max(len(line) for line in layout.splitlines()) > 42 else obs_type
        layout = parse_layout(layout, "generated")
    side_by_side(np.array(moves), seed, max_episode_steps=time_limit, layout=layout, obs_type=obs_type, **opts)


# ----------------------------------------------------------------------------- malformed layouts
LAYOUT_CHARS = "%.oPG \t\r\nx#é\x00"
ragged_or_odd = st.lists(st.text(alphabet=LAYOUT_CHARS, max_size=30), max_size=30).map("\n".join)
huge = st.tuples(st.integers(1, 3 * MAX_SIDE), st.integers(1, 3 * MAX_SIDE)).map(
    lambda shape: "\n".join(["%" * shape[1]] * shape[0])
)


@settings(deadline=5000)  # each example well under a second here; the deadline catches a quadratic path
@given(text=st.one_of(st.text(max_size=400), ragged_or_odd, huge))
def test_malformed_texts_raise_layout_error_and_nothing_else(text):
    try:
        layout = parse_layout(text, "fuzz")
    except LayoutError as error:
        assert str(error).startswith("fuzz")
    else:
        assert layout.shape[0] <= MAX_SIDE and layout.shape[1] <= MAX_SIDE and layout.player is not None
        env = PacmanEnv(layout=layout, obs_type="grid")
        assert env.observation_space.contains(env.reset(seed=0)[0])


@settings(deadline=5000)
@given(
    data=st.one_of(
        st.binary(max_size=400),
        ragged_or_odd.map(lambda t: t.encode("utf-8")),
        st.binary(min_size=1, max_size=20).map(lambda b: b"%%%%\n%P.%\n" + b + b"\n%%%%\n"),
    )
)
def test_malformed_files_raise_layout_error_and_nothing_else(data, tmp_path_factory):
    path = tmp_path_factory.mktemp("layouts") / "fuzz.txt"
    path.write_bytes(data)
    try:
        load_layout(str(path))
    except LayoutError as error:
        assert str(path) in str(error)
