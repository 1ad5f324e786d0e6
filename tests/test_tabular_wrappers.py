"""Discretize, AsMultiDiscrete, TileCoding and the observation -> table-row index of tabular agents."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env

from agents.tabular import ActiveTiles, AsMultiDiscrete, Discretize, TileCoding
from agents.tabular.state_index import (
    DENSE_LIMIT,
    DenseIndex,
    SparseIndex,
    TileIndex,
    make_state_index,
    space_from_json,
    space_to_json,
)


class BoxEnv(gym.Env):
    """A one-step env that returns a given observation from a given Box, for wrapper tests."""

    def __init__(self, space: spaces.Box, obs: np.ndarray | None = None) -> None:
        self.observation_space = space
        self.action_space = spaces.Discrete(2)
        self.obs = space.low.copy() if obs is None else np.asarray(obs, dtype=space.dtype)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return self.obs.copy(), {}

    def step(self, action):
        return self.obs.copy(), 0.0, True, False, {}


# ----------------------------------------------------------------------------- Discretize
def test_discretize_uses_the_course_bins_for_cartpole() -> None:
    env = Discretize(gym.make("CartPole-v1"))
    assert env.observation_space == spaces.MultiDiscrete([10, 10, 10, 10])
    np.testing.assert_allclose(env.low, [-2.4, -5, -0.209, -5])
    np.testing.assert_allclose(env.high, [2.4, 5, 0.209, 5])
    # bins are [-2.4, -1.92), ..., [1.92, 2.4]; zero sits at the lower edge of bin 5
    expected = {(-2.4, 0): 0, (-1.93, 0): 0, (-1.91, 0): 1, (0.0, 0): 5, (2.39, 0): 9, (-0.21, 2): 0, (0.2, 2): 9}
    for (value, dim), bin_ in expected.items():
        obs = np.zeros(4)
        obs[dim] = value
        assert env.observation(obs)[dim] == bin_, (value, dim)


def test_discretize_clips_values_outside_the_bounds_to_the_edge_bins() -> None:
    env = Discretize(gym.make("CartPole-v1"), bins=(3, 4, 5, 6))
    np.testing.assert_array_equal(env.observation(np.array([-100.0, 100.0, -np.inf, np.inf])), [0, 3, 0, 5])
    obs, _ = env.reset(seed=1)
    assert env.observation_space.contains(obs) and obs.dtype == np.int64


def test_discretize_given_bounds_win_and_bad_arguments_are_named() -> None:
    env = Discretize(BoxEnv(spaces.Box(-1.0, 1.0, (2,), dtype=np.float64)), bins=4, low=(0.0, -10.0), high=(1.0, 10.0))
    np.testing.assert_array_equal(env.observation(np.array([0.5, 0.0])), [2, 2])
    with pytest.raises(ValueError, match=r"unbounded in dimension\(s\) \[1\]; pass finite low= and high="):
        Discretize(BoxEnv(spaces.Box(np.array([0.0, -np.inf]), np.array([1.0, np.inf]), dtype=np.float64)))
    with pytest.raises(ValueError, match="bins must be positive integers"):
        Discretize(gym.make("CartPole-v1"), bins=0)
    with pytest.raises(ValueError, match=r"bins has shape \(2,\); give one number or one per dimension \(4,\)"):
        Discretize(gym.make("CartPole-v1"), bins=(3, 4))
    with pytest.raises(ValueError, match="high must exceed low"):
        Discretize(BoxEnv(spaces.Box(-1.0, 1.0, (1,), dtype=np.float64)), low=1.0, high=1.0)
    with pytest.raises(ValueError, match="needs a Box observation space"):
        Discretize(gym.make("FrozenLake-v1"))
    with pytest.raises(ValueError, match="NaN"):
        Discretize(BoxEnv(spaces.Box(-1.0, 1.0, (1,), dtype=np.float64))).observation(np.array([np.nan]))


@pytest.mark.filterwarnings("ignore:.*is different from the unwrapped version")  # checking the wrapper is the point
@pytest.mark.parametrize(
    "make", [lambda: Discretize(gym.make("CartPole-v1")), lambda: TileCoding(gym.make("MountainCar-v0"))]
)
def test_wrappers_pass_the_gymnasium_env_checker_and_record_their_arguments(make) -> None:
    env = make()
    check_env(env, skip_render_check=True)
    remade = gym.make(env.spec)  # the wrapper is part of the spec, so the env can be re-created
    assert remade.observation_space == env.observation_space


# ----------------------------------------------------------------------------- AsMultiDiscrete
def test_as_multi_discrete_views_integer_features_exactly() -> None:
    space = spaces.Box(low=np.array([0, 0, -1]), high=np.array([1, 3, 1]), dtype=np.float32)
    env = AsMultiDiscrete(BoxEnv(space, [1, 3, -1]))
    assert env.observation_space == spaces.MultiDiscrete([2, 4, 3], start=[0, 0, -1])
    obs, _ = env.reset()
    np.testing.assert_array_equal(obs, [1, 3, -1])
    assert obs.dtype == np.int64 and env.observation_space.contains(obs)
    with pytest.raises(ValueError, match=r"entry \(1,\) = 2.5 is not a whole number; use Discretize"):
        env.observation(np.array([0, 2.5, 0], dtype=np.float32))


def test_as_multi_discrete_refuses_continuous_or_unbounded_boxes() -> None:
    with pytest.raises(ValueError, match="unbounded"):
        AsMultiDiscrete(gym.make("CartPole-v1"))
    with pytest.raises(ValueError, match="non-integer bounds"):
        AsMultiDiscrete(BoxEnv(spaces.Box(0.0, 0.5, (2,), dtype=np.float64)))


# ----------------------------------------------------------------------------- TileCoding
def test_tile_coding_tilings_are_offset_and_nearby_points_share_tiles() -> None:
    env = TileCoding(gym.make("MountainCar-v0"), n_tilings=4, tiles_per_dim=5)
    assert isinstance(env.observation_space, ActiveTiles)
    assert env.observation_space.n_tilings == 4 and env.observation_space.tiles_per_tiling == 36
    low, high = env.low, env.high
    width = (high - low) / 5
    point = low + 2.5 * width
    here = env.observation(point)
    assert env.observation_space.contains(here)
    # a tiny move changes at most a few tilings; a move of a whole tile width changes every tiling
    assert np.sum(env.observation(point + 0.01 * width) != here) <= 2
    assert np.all(env.observation(point + np.array([1.0, 0.0]) * width) != here)
    # the tilings are offset: moving a quarter tile (one tiling's offset) changes some but not all
    changed = np.sum(env.observation(point + np.array([0.26, 0.0]) * width) != here)
    assert 1 <= changed <= 3
    # clipped at the edges: points beyond the bounds code like the bounds
    np.testing.assert_array_equal(env.observation(high + 5.0), env.observation(high))


def test_tile_coding_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="n_tilings must be a positive integer"):
        TileCoding(gym.make("MountainCar-v0"), n_tilings=0)
    with pytest.raises(ValueError, match="flat"):
        TileCoding(BoxEnv(spaces.Box(0.0, 1.0, (2, 2), dtype=np.float64)))


# ----------------------------------------------------------------------------- state index
def test_dense_index_is_the_mixed_radix_number_of_the_entries() -> None:
    space = spaces.MultiDiscrete([3, 4, 5], start=[0, 1, -2])
    index = make_state_index(space, max_states=10)
    assert isinstance(index, DenseIndex) and index.n_rows == 60
    seen = {index(np.array([a, b + 1, c - 2])) for a in range(3) for b in range(4) for c in range(5)}
    assert seen == set(range(60))
    assert index(np.array([0, 1, -2])) == 0 and index(np.array([2, 4, 2])) == 59 and index(np.array([0, 1, -1])) == 1
    discrete = make_state_index(spaces.Discrete(5, start=-2), max_states=10)
    assert [discrete(s) for s in range(-2, 3)] == [0, 1, 2, 3, 4]
    blackjack = make_state_index(spaces.Tuple([spaces.Discrete(32), spaces.Discrete(11), spaces.Discrete(2)]), 10)
    assert blackjack.n_rows == 32 * 11 * 2 and blackjack((1, 2, 1)) == 1 * 22 + 2 * 2 + 1
    binary = make_state_index(spaces.MultiBinary(3), 10)
    assert binary(np.array([1, 0, 1])) == 5


def test_sparse_index_hands_out_rows_in_order_of_first_visit_up_to_max_states() -> None:
    space = spaces.MultiDiscrete(np.full((5, 5), 4))  # 4**25 states: far too many to allocate
    index = make_state_index(space, max_states=3)
    assert isinstance(index, SparseIndex) and index.n_rows == 0
    grids = [np.full((5, 5), v) for v in range(4)]
    assert [index(g) for g in grids[:3]] == [0, 1, 2]
    assert index(grids[1]) == 1 and index(grids[3], add=False) is None and index.n_rows == 3
    with pytest.raises(ValueError, match="more than max_states=3 distinct observations"):
        index(grids[3])
    restored = make_state_index(space, max_states=3)
    restored.restore(index.arrays()["observations"])
    assert [restored(g, add=False) for g in grids] == [0, 1, 2, None]
    assert make_state_index(spaces.Discrete(DENSE_LIMIT + 1), 10).mode == "sparse"


def test_tile_index_gives_each_tiling_its_own_rows() -> None:
    index = make_state_index(ActiveTiles(3, 10), max_states=1)
    assert isinstance(index, TileIndex) and index.n_rows == 30
    np.testing.assert_array_equal(index(np.array([0, 9, 5])), [0, 19, 25])


def test_a_box_observation_is_refused_with_the_wrappers_to_use() -> None:
    with pytest.raises(ValueError, match="Discretize.*TileCoding.*AsMultiDiscrete"):
        make_state_index(spaces.Box(-1.0, 1.0, (4,)), 10)
    with pytest.raises(ValueError, match="not supported by tabular agents"):
        make_state_index(spaces.Text(5), 10)


@pytest.mark.parametrize(
    "space",
    [
        spaces.Discrete(7, start=3),
        spaces.MultiDiscrete([[2, 3], [4, 5]], start=[[0, 1], [2, 3]]),
        spaces.MultiBinary(4),
        spaces.Tuple([spaces.Discrete(3), spaces.MultiDiscrete([2, 2])]),
        ActiveTiles(4, 9),
    ],
)
def test_spaces_round_trip_through_json(space: spaces.Space) -> None:
    rebuilt = space_from_json(space_to_json(space))
    assert rebuilt == space and type(rebuilt) is type(space)
