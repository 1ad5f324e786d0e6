"""gym_snake: the native vector env equals N single envs, step for step, and handles bad input."""

from __future__ import annotations

import copy
import pickle
from collections import Counter

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

from gym_snake import SnakeEnv, SnakeVectorEnv

INFO_KEYS = ("score", "length", "death", "win", "starved")

# (options, num_envs, steps, max_episode_steps): every observation type, both action modes, the
# torus, tiny boards where games are won, short starvation and time limits
CROSS_CHECKS = [
    ({"obs_type": "grid"}, 8, 2500, 10_000),
    ({"obs_type": "rgb", "cell_size": 2}, 4, 1200, 10_000),
    ({"obs_type": "features", "action_mode": "relative"}, 8, 2500, 10_000),
    ({"obs_type": "grid", "wrap_walls": True, "width": 7, "height": 5, "max_steps_without_food": 20}, 8, 2500, 10_000),
    ({"obs_type": "features", "wrap_walls": True, "action_mode": "relative", "initial_length": 1}, 6, 2000, 60),
    ({"obs_type": "grid", "width": 3, "height": 2, "initial_length": 1}, 8, 2500, 10_000),
    ({"obs_type": "rgb", "width": 2, "height": 2, "initial_length": 1, "cell_size": 1}, 8, 2000, 10_000),
    (
        {"obs_type": "features", "width": 4, "height": 3, "initial_length": 2, "max_steps_without_food": 6},
        8,
        2500,
        10_000,
    ),
    ({"obs_type": "view"}, 8, 1500, 10_000),
    (
        {"obs_type": "view", "action_mode": "relative", "view_radius": 3, "width": 7, "height": 5, "copy": False},
        8,
        1500,
        10_000,
    ),
    (
        {"obs_type": "view", "action_mode": "relative", "wrap_walls": True, "view_radius": 4, "width": 6, "height": 5},
        6,
        1500,
        80,
    ),
    ({"obs_type": "grid", "copy": False, "width": 5, "height": 4}, 6, 1500, 10_000),
    ({"obs_type": "grid", "width": 48, "height": 40}, 4, 600, 10_000),  # too big for precomputed start boards
]


def run_side_by_side(
    options: dict, num_envs: int, steps: int, max_episode_steps: int, seed: int, engine: str = "auto"
) -> Counter:
    """Step gym.make_vec and num_envs gym.make envs (seeded seed + i) with the same random actions;
    assert every observation, reward, flag and info agrees; count how episodes ended."""
    venv = gym.make_vec("snake-v0", num_envs=num_envs, max_episode_steps=max_episode_steps, engine=engine, **options)
    assert isinstance(venv, SnakeVectorEnv) and venv.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    assert venv._games.engine == ("numba" if engine == "auto" else engine)  # numba is in the test requirements
    singles = [gym.make("snake-v0", max_episode_steps=max_episode_steps, **options) for _ in range(num_envs)]
    obs, infos = venv.reset(seed=seed)
    for i, env in enumerate(singles):
        single_obs, single_info = env.reset(seed=seed + i)
        np.testing.assert_array_equal(obs[i], single_obs)
        assert {k: infos[k][i] for k in INFO_KEYS} == single_info
    actions = np.random.default_rng(seed).integers(venv.single_action_space.n, size=(steps, num_envs))
    ended = [False] * num_envs
    endings: Counter = Counter()
    for t, action in enumerate(actions):
        obs, rewards, terminateds, truncateds, infos = venv.step(action)
        assert venv.observation_space.contains(obs)
        for i, env in enumerate(singles):
            if ended[i]:  # NEXT_STEP autoreset: this step only resets sub-env i
                single_obs, single_info = env.reset()
                expected = (0.0, False, False)
                ended[i] = False
            else:
                single_obs, reward, terminated, truncated, single_info = env.step(int(action[i]))
                expected = (reward, terminated, truncated)
                if terminated or truncated:
                    ended[i] = True
                    endings.update(k for k in ("death", "win", "starved") if single_info[k])
                    endings["time limit"] += truncated and not single_info["starved"]
            where = f"step {t}, sub-env {i}"
            np.testing.assert_array_equal(obs[i], single_obs, err_msg=where)
            assert (rewards[i], terminateds[i], truncateds[i]) == expected, where
            assert {k: infos[k][i] for k in INFO_KEYS} == single_info, where
            assert all(infos["_" + k][i] for k in INFO_KEYS)
    assert rewards.dtype == np.float64 and terminateds.dtype == truncateds.dtype == np.bool_
    return endings


@pytest.mark.parametrize("engine", ["numpy", "numba"])
@pytest.mark.parametrize(("options", "num_envs", "steps", "max_episode_steps"), CROSS_CHECKS, ids=lambda v: str(v))
def test_vector_env_equals_single_envs(
    options: dict, num_envs: int, steps: int, max_episode_steps: int, engine: str
) -> None:
    endings = run_side_by_side(options, num_envs, steps, max_episode_steps, seed=len(str(options)), engine=engine)
    assert sum(endings.values()) > num_envs
    if options.get("max_steps_without_food"):
        assert endings["starved"] > 0
    if max_episode_steps < 100:
        assert endings["time limit"] > 0
    if options.get("width", 10) * options.get("height", 10) <= 6:
        assert endings["win"] > 0, "tiny boards must see wins"


def test_many_seeds_on_the_default_game() -> None:
    for seed in range(0, 1000, 97):
        run_side_by_side({"obs_type": "features"}, 3, 300, 10_000, seed)


def test_partial_reset_with_reset_mask() -> None:
    venv = SnakeVectorEnv(4, obs_type="grid")
    obs, _ = venv.reset(seed=5)
    for _ in range(3):
        obs, *_ = venv.step(np.ones(4, dtype=np.int64))
    mask = np.array([False, True, False, True])
    new_obs, info = venv.reset(seed=[None, 100, None, 300], options={"reset_mask": mask})
    np.testing.assert_array_equal(new_obs[~mask], obs[~mask])  # the others keep playing
    for i, seed in ((1, 100), (3, 300)):
        np.testing.assert_array_equal(new_obs[i], SnakeEnv(obs_type="grid").reset(seed=seed)[0])
    np.testing.assert_array_equal(info["_score"], mask)
    venv.step(np.ones(4, dtype=np.int64))


def test_reset_without_seed_keeps_each_sub_envs_generator() -> None:
    venv = SnakeVectorEnv(3, obs_type="grid")
    venv.reset(seed=0)
    rngs = venv.sub_env_rngs
    obs, _ = venv.reset()
    assert all(a is b for a, b in zip(rngs, venv.sub_env_rngs))
    for i in range(3):
        env = SnakeEnv(obs_type="grid")
        env.reset(seed=i)
        np.testing.assert_array_equal(obs[i], env.reset()[0])


def test_observations_are_fresh_arrays() -> None:
    venv = SnakeVectorEnv(2, obs_type="grid")
    obs, _ = venv.reset(seed=0)
    kept = obs.copy()
    obs[:] = 0
    step_obs, *_ = venv.step(np.zeros(2, dtype=np.int64))
    assert np.count_nonzero(step_obs) == np.count_nonzero(kept)


@pytest.mark.parametrize(
    ("actions", "message"),
    [
        (np.array([0, 1, 2]), r"shape \(2,\)"),
        (np.array([0.0, 1.0]), "integer array"),
        (np.array([0, 4]), r"values in 0..3 \(0 up, 1 right, 2 down, 3 left\)"),
        (np.array([-1, 0]), "values in 0..3"),
        ([0, "1"], "integer array"),
    ],
)
def test_invalid_vector_actions_raise(actions, message: str) -> None:
    venv = SnakeVectorEnv(2, obs_type="grid")
    venv.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        venv.step(actions)


def test_vector_bad_input_raises() -> None:
    with pytest.raises(gym.error.ResetNeeded):
        SnakeVectorEnv(2).step(np.zeros(2, dtype=np.int64))
    with pytest.raises(ValueError, match="num_envs must be an integer >= 1 and <= 1048576, got 0"):
        SnakeVectorEnv(0)
    with pytest.raises(ValueError, match="max_episode_steps must be an integer >= 1 or None, got 0"):
        SnakeVectorEnv(2, max_episode_steps=0)
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['colour'\]"):
        SnakeVectorEnv(2, colour="red")
    with pytest.raises(ValueError, match="obs_type must be one of"):
        SnakeVectorEnv(2, obs_type="image")
    with pytest.raises(ValueError, match=r"render_mode must be one of \['rgb_array', 'ansi'\]"):
        SnakeVectorEnv(2, render_mode="human")
    venv = SnakeVectorEnv(2)
    with pytest.raises(ValueError, match="accepts only 'reset_mask'"):
        venv.reset(options={"snake": [(0, 0)]})
    with pytest.raises(ValueError, match=r"a list of 2 ints/None, got 3 seeds"):
        venv.reset(seed=[1, 2, 3])
    with pytest.raises(ValueError, match="reset_mask'\\] must be a bool array"):
        venv.reset(options={"reset_mask": np.array([1, 0])})


def test_vector_render_matches_single_env_render() -> None:
    venv = gym.make_vec("snake-v0", num_envs=2, render_mode="rgb_array", width=6, height=5)
    singles = [gym.make("snake-v0", render_mode="rgb_array", width=6, height=5) for _ in range(2)]
    venv.reset(seed=9)
    for i, env in enumerate(singles):
        env.reset(seed=9 + i)
    for _ in range(2):  # straight on: the first step is always safe
        headings = [env.unwrapped.heading for env in singles]
        venv.step(np.array(headings))
        for env, heading in zip(singles, headings):
            env.step(heading)
    frames = venv.render()
    assert isinstance(frames, tuple) and len(frames) == 2
    for frame, env in zip(frames, singles):
        np.testing.assert_array_equal(frame, env.render())
    text, single = gym.make_vec("snake-v0", num_envs=2, render_mode="ansi"), gym.make("snake-v0", render_mode="ansi")
    text.reset(seed=0)
    single.reset(seed=1)
    assert text.render()[1] == single.render()


def test_vector_env_survives_pickle_and_deepcopy_mid_episode() -> None:
    venv = SnakeVectorEnv(4, obs_type="features")
    venv.reset(seed=3)
    actions = np.random.default_rng(0).integers(4, size=(300, 4))
    for action in actions[:20]:
        venv.step(action)
    clones = [pickle.loads(pickle.dumps(venv)), copy.deepcopy(venv)]
    for action in actions[20:]:
        expected = venv.step(action)
        for clone in clones:
            got = clone.step(action)
            for a, b in zip(expected[:4], got[:4]):
                np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("start", [0, 61, 62, 63, 64])
def test_batched_draws_follow_each_games_stream_across_block_ends(start: int) -> None:
    """A reset takes two uniforms per game at once; a game whose block runs out between or before
    them must still get the next two values of its own stream (the single env's draws)."""
    from gym_snake.core import UNIFORM_BLOCK, SnakeBatch, SnakeConfig

    batch = SnakeBatch(SnakeConfig(obs_type="grid"), 3)
    for game in range(3):
        batch.set_rng(game, np.random.default_rng(game))
    streams = [np.random.default_rng(game).random(3 * UNIFORM_BLOCK) for game in range(3)]
    games = np.arange(3)
    skip = [start, 5, UNIFORM_BLOCK]  # game 1 stays well inside its block; game 2 starts exhausted
    for game, n in enumerate(skip):
        for _ in range(n):
            batch._draw_one(game)
    pairs = batch._draw(games, 2)
    assert pairs.shape == (2, 3)
    for game, n in enumerate(skip):
        np.testing.assert_array_equal(pairs[:, game], streams[game][n : n + 2])
    single = batch._draw(games)
    for game, n in enumerate(skip):
        assert single[game] == streams[game][n + 2]


def test_engine_choice_and_its_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    from gym_snake import compiled

    assert SnakeVectorEnv(2, engine="numpy")._games.engine == "numpy"
    assert SnakeVectorEnv(2)._games.engine == "numba"  # auto, with numba installed (the test requirements)
    with pytest.raises(ValueError, match=r"engine must be one of \('auto', 'numpy', 'numba'\), got 'c'"):
        SnakeVectorEnv(2, engine="c")
    monkeypatch.setattr(compiled, "AVAILABLE", False)  # as on a machine without numba
    assert SnakeVectorEnv(2)._games.engine == "numpy"
    with pytest.raises(ValueError, match=r"needs numba, which is not installed: pip install \"rlsuite-snake\[fast\]\""):
        SnakeVectorEnv(2, engine="numba")


def test_compiled_engine_works_where_numba_cannot_cache() -> None:
    """A read-only install with no writable cache folder: numba finds no place for its cache (here
    forced with a locator that serves only IPython cells), and the engine compiles in the process."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import numpy as np; from gym_snake import SnakeVectorEnv; v = SnakeVectorEnv(3, obs_type='grid'); "
        "v.reset(seed=0); print(v._games.engine, v.step(np.zeros(3, dtype=np.int64))[1].tolist())"
    )
    env = dict(os.environ, NUMBA_CACHE_LOCATOR_CLASSES="IPythonCacheLocator")
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True, check=True)
    reference = SnakeVectorEnv(3, obs_type="grid", engine="numpy")
    reference.reset(seed=0)
    expected = reference.step(np.zeros(3, dtype=np.int64))[1].tolist()
    assert out.stdout.split(" ", 1) == ["numba", f"{expected}\n"]
