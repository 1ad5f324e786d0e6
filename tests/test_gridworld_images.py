"""gridworld-v0's rgb observations: the incremental canvas draws exactly the pixels of a full redraw."""

from __future__ import annotations

import copy
import pickle

import gymnasium as gym
import numpy as np
import pytest

import gym_gridworld  # noqa: F401  (registers the ids)
from gym_gridworld import render
from gym_gridworld.gridworld import COLORS, IMAGE_SIZE
from gym_gridworld.vector import GridworldVectorEnv

PALETTE = render.pack_colors(COLORS)


def full_redraw(game) -> np.ndarray:
    """The reference: every image drawn from scratch with `scaled_cells` (the renderer before the canvas)."""
    return render.scaled_cells(game.shown_kinds(), PALETTE, IMAGE_SIZE)


# 7x7 divides 84 (12 px cells); 9x9, 13x5 and 3x11 do not (cells of floor or ceil pixels: 2-4 block shapes)
@pytest.mark.parametrize(("strips", "fresh"), [(False, False), (False, True), (True, True), (True, False)])
@pytest.mark.parametrize("shape", [(7, 7), (3, 3), (9, 9), (13, 5), (3, 11), (1, 1), (84, 84)])
def test_cell_canvas_draws_the_pixels_of_scaled_cells(shape, strips, fresh):
    rng = np.random.default_rng(sum(shape))
    canvas = render.CellCanvas(6, shape, COLORS, IMAGE_SIZE, strips=strips)
    kinds = rng.integers(0, len(COLORS), (6, *shape)).astype(np.int8)
    for step in range(40):
        if step % 10 == 9:  # a whole new picture, as after a reset
            kinds = rng.integers(0, len(COLORS), kinds.shape).astype(np.int8)
        else:  # a few cells of a few images change, as in a step
            kinds = kinds.copy()
            for _ in range(rng.integers(0, 8)):
                kinds[rng.integers(6), rng.integers(shape[0]), rng.integers(shape[1])] = rng.integers(len(COLORS))
        if step == 20:  # a copy keeps drawing into its own image
            canvas = pickle.loads(pickle.dumps(canvas))
        image = canvas.draw(kinds, fresh=fresh)
        assert (image is canvas.image) != fresh and image.flags.c_contiguous and image.shape == (6, 84, 84, 3)
        np.testing.assert_array_equal(image, render.scaled_cells(kinds, PALETTE, IMAGE_SIZE))


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"partial": True}, {"size": 8, "n_goals": 5, "n_fires": 5}, {"size": 2, "n_goals": 1, "n_fires": 1}],
    ids=["default", "partial", "size8", "size2"],
)
@pytest.mark.parametrize("copy_images", [True, False], ids=["copy", "view"])
def test_vector_images_equal_single_env_images_and_a_full_redraw(kwargs, copy_images):
    n = 6
    envs = gym.make_vec("gridworld-v0", num_envs=n, max_episode_steps=9, copy=copy_images, **kwargs)
    singles = [gym.make("gridworld-v0", max_episode_steps=9, **kwargs) for _ in range(n)]
    obs, _ = envs.reset(seed=10)
    np.testing.assert_array_equal(obs, np.stack([env.reset(seed=10 + i)[0] for i, env in enumerate(singles)]))
    restart = [False] * n
    for batch in np.random.default_rng(1).integers(0, 4, (40, n)):  # crosses 4 autoresets
        obs, _, _, truncated, _ = envs.step(batch)
        np.testing.assert_array_equal(obs, full_redraw(envs.unwrapped.game))
        for i, env in enumerate(singles):
            want = env.reset()[0] if restart[i] else env.step(int(batch[i]))[0]
            restart[i] = truncated[i]
            np.testing.assert_array_equal(obs[i], want)


def test_copy_true_returns_fresh_images_and_copy_false_a_read_only_view_overwritten_in_place():
    fresh, shared = GridworldVectorEnv(4, copy=True), GridworldVectorEnv(4, copy=False)
    kept_fresh, kept_shared = fresh.reset(seed=3)[0], shared.reset(seed=3)[0]
    first = kept_fresh.copy()
    np.testing.assert_array_equal(kept_fresh, kept_shared)
    assert kept_fresh.flags.writeable and not kept_shared.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        kept_shared[0, 0, 0] = 7
    actions = np.array([0, 1, 2, 3])
    now_fresh, now_shared = fresh.step(actions)[0], shared.step(actions)[0]
    np.testing.assert_array_equal(now_fresh, now_shared)
    np.testing.assert_array_equal(kept_fresh, first)  # a fresh image stays what it was
    np.testing.assert_array_equal(kept_shared, now_shared)  # the view shows the latest step
    assert not np.array_equal(first, now_fresh)
    kept_fresh[:] = 0  # scribbling on a returned copy does not reach the canvas
    np.testing.assert_array_equal(fresh.step(actions)[0], shared.step(actions)[0])
    with pytest.raises(ValueError, match="copy must be True or False"):
        GridworldVectorEnv(2, copy="no")


@pytest.mark.parametrize("clone", [pickle.loads, copy.deepcopy], ids=["pickle", "deepcopy"])
def test_a_cloned_vector_env_continues_with_its_own_canvas(clone):
    envs = GridworldVectorEnv(3, max_episode_steps=5, copy=False)
    envs.reset(seed=0)
    actions = np.random.default_rng(2).integers(0, 4, (12, 3))
    for batch in actions[:4]:
        envs.step(batch)
    twin = clone(pickle.dumps(envs)) if clone is pickle.loads else clone(envs)
    for batch in actions[4:]:
        mine, theirs = envs.step(batch)[0], twin.step(batch)[0]
        np.testing.assert_array_equal(mine, theirs)
        np.testing.assert_array_equal(theirs, full_redraw(twin.game))
    assert not np.shares_memory(mine, theirs)
