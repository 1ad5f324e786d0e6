"""Each Atari wrapper on its own, make_atari_env's options and errors, and the vector form (real ROMs)."""

from __future__ import annotations

from typing import Any

import cv2
import gymnasium as gym
import numpy as np
import pytest

from agents.wrappers.atari import (
    MSPACMAN_COLOR,
    ClipReward,
    CropDownsample,
    EpisodicLife,
    FireReset,
    FrameStack,
    GrayscaleResize,
    MaxAndSkip,
    NoopReset,
    make_atari_env,
    register_atari_ids,
)
from agents.wrappers.vector import BatchedProcessVectorEnv
from gym_conformance import checks
from gym_conformance.checks import EnvCase

pytestmark = pytest.mark.atari
SEED = 3


def play(env: gym.Env, actions, seed: int = SEED) -> list[tuple]:
    """Reset with `seed`, take `actions` (resetting when an episode ends); every transition."""
    obs, info = env.reset(seed=seed)
    trace: list[tuple] = [(obs, info)]
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(action)
        trace.append((obs, reward, terminated, truncated, info))
        if terminated or truncated:
            trace.append(env.reset())
    return trace


def base_env(env_id: str = "BreakoutNoFrameskip-v4", **kwargs: Any) -> gym.Env:
    register_atari_ids()
    return gym.make(env_id, **kwargs)


class StepCounter(gym.Wrapper):
    """A wrapper that acts on step (counts them): MaxAndSkip must step through it, not around it."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.steps = 0

    def step(self, action):
        self.steps += 1
        return self.env.step(action)


# --------------------------------------------------------------------------- make_atari_env
@pytest.mark.parametrize("env_id", ["ALE/Pong-v5", "PongNoFrameskip-v4"])
def test_standard_stack_spaces_and_ids(env_id: str) -> None:
    env = make_atari_env(env_id)
    assert env.observation_space == gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)
    assert env.action_space == gym.spaces.Discrete(6)
    base = env.unwrapped
    assert base._frameskip == 1, "make_atari_env must make v5 ids without their own frame skip"
    sticky = base.ale.getFloat("repeat_action_probability")
    assert sticky == pytest.approx(0.25 if env_id.startswith("ALE/") else 0.0), "the id's sticky actions are kept"
    obs, _ = env.reset(seed=SEED)
    assert obs.dtype == np.uint8 and env.observation_space.contains(obs)
    assert not obs[:3].any() and obs[3].any(), "after reset: three zero frames, then the first frame"
    for action in range(6):
        obs, reward, *_ = env.step(action)
        assert env.observation_space.contains(obs) and reward in (-1.0, 0.0, 1.0)
    assert obs[0].any(), "four steps after reset, every slot holds a frame"


@pytest.mark.filterwarnings("ignore:.*Pong-v0 is out of date")
@pytest.mark.parametrize(
    "env_id, kwargs",
    [("Pong-v4", {}), ("Pong-v0", {}), ("ALE/Pong-v5", {"env_kwargs": {"frameskip": 4}})],
)
def test_refuses_env_that_already_skips_frames(env_id: str, kwargs: dict) -> None:
    with pytest.raises(ValueError, match=r"does not skip frames itself.*PongNoFrameskip-v4"):
        make_atari_env(env_id, **kwargs)


def test_max_and_skip_alone_refuses_default_v5() -> None:
    with pytest.raises(ValueError, match=r"frameskip=4.*frameskip=1"):
        MaxAndSkip(base_env("ALE/Pong-v5"))


@pytest.mark.parametrize(
    "env_id, message",
    [
        ("ALE/Pongg-v5", r"unknown Atari id 'ALE/Pongg-v5'.*did you mean ALE/Pong-v5"),
        ("ALE/NoSuchGame-v5", r"unknown Atari id.*ALE/Pong-v5, ALE/Breakout-v5, PongNoFrameskip-v4"),
        ("CartPole-v1", r"'CartPole-v1' is not an Atari.*ALE/Pong-v5"),
    ],
)
def test_bad_ids_name_the_problem(env_id: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_atari_env(env_id)
    with pytest.raises(ValueError, match=message):
        make_atari_env(env_id, num_envs=2)  # refused before any worker starts


@pytest.mark.parametrize("wrapper", [NoopReset, FireReset, EpisodicLife, MaxAndSkip])
def test_atari_only_wrappers_refuse_other_envs(wrapper) -> None:
    with pytest.raises(TypeError, match=rf"{wrapper.__name__} needs an Atari env.*got CartPoleEnv.*ALE/Pong-v5"):
        wrapper(gym.make("CartPole-v1"))


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("noop_max", -1, r"noop_max must be an integer in 0\.\.1000, got -1"),
        ("frame_skip", 0, r"frame_skip must be an integer in 1\.\.100, got 0"),
        ("max_pool", "bgr", r"max_pool must be one of 'rgb', 'gray'"),
        ("frame_stack", 0, r"frame_stack must be an integer in 1\.\.64, got 0"),
        ("stack_padding", "edge", r"padding must be one of 'zeros', 'reset'"),
        ("screen_size", 0, r"screen_size must be a positive int"),
        ("screen_size", (84, True), r"screen_size must be a positive int"),
        ("num_envs", 0, r"num_envs must be an integer in 1\.\.256, got 0"),
    ],
)
def test_bad_option_values_raise(option: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_atari_env("PongNoFrameskip-v4", **{option: value})


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("screen_size", 100_000, r"screen_size must be at most 1024 pixels a side .*got 100000"),
        ("screen_size", 1025, r"screen_size must be at most 1024 pixels a side .*got 1025"),
        ("screen_size", (84, 1025), r"screen_size must be at most 1024 pixels a side .*got \(84, 1025\)"),
        ("frame_stack", 65, r"frame_stack must be an integer in 1\.\.64 \(the limit\), got 65"),
        ("noop_max", 1001, r"noop_max must be an integer in 0\.\.1000 \(the limit\), got 1001"),
        ("frame_skip", 101, r"frame_skip must be an integer in 1\.\.100 \(the limit\), got 101"),
        ("num_envs", 257, r"num_envs must be an integer in 1\.\.256 \(the limit\), got 257"),
        ("num_envs", 10**9, r"num_envs must be an integer in 1\.\.256 \(the limit\), got 1000000000"),
    ],
)
def test_oversized_values_are_refused_before_any_allocation(option: str, value: Any, message: str) -> None:
    """screen_size=100000 once got the process killed for memory; every size-like argument has a limit."""
    import tracemalloc

    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=message):
            make_atari_env("PongNoFrameskip-v4", **{option: value})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000, f"{peak} bytes allocated before the error"


def test_limits_hold_for_the_wrappers_on_their_own() -> None:
    with pytest.raises(ValueError, match=r"noop_max must be an integer in 0\.\.1000 \(the limit\)"):
        NoopReset(base_env(), noop_max=1001)
    with pytest.raises(ValueError, match=r"skip must be an integer in 1\.\.100 \(the limit\)"):
        MaxAndSkip(base_env(), skip=101)
    with pytest.raises(ValueError, match=r"screen_size must be at most 1024"):
        GrayscaleResize(MaxAndSkip(base_env()), screen_size=(2000, 84))
    with pytest.raises(ValueError, match=r"num_stack must be an integer in 1\.\.64 \(the limit\)"):
        FrameStack(GrayscaleResize(MaxAndSkip(base_env())), num_stack=65)
    # the limits themselves are allowed
    env = FrameStack(GrayscaleResize(MaxAndSkip(NoopReset(base_env(), 1000), skip=100), 1024), num_stack=2)
    assert env.reset(seed=0)[0].shape == (2, 1024, 1024)
    assert make_atari_env("PongNoFrameskip-v4", frame_stack=64).reset(seed=0)[0].shape == (64, 84, 84)


def test_fire_reset_refuses_game_without_fire() -> None:
    with pytest.raises(ValueError, match=r"action 1 to be FIRE.*'NOOP'"):
        FireReset(base_env("FreewayNoFrameskip-v4"))
    env = make_atari_env("FreewayNoFrameskip-v4")  # fire_reset=None: only for games with FIRE
    assert "FireReset" not in str(env)


def test_bad_actions_and_step_before_reset_raise() -> None:
    env = make_atari_env("PongNoFrameskip-v4")
    with pytest.raises(gym.error.ResetNeeded):
        env.step(0)
    env.reset(seed=SEED)
    for action, error in [(6, ValueError), (-1, ValueError), (1.5, TypeError), ("1", TypeError)]:
        with pytest.raises(error, match="action"):
            env.step(action)
    env.step(np.int64(2))  # numpy integers are fine


# --------------------------------------------------------------------------- single wrappers
@pytest.mark.parametrize(
    "max_pool, env_id, kwargs",
    [("rgb", "BreakoutNoFrameskip-v4", {}), ("gray", "ALE/Breakout-v5", {"frameskip": 1})],
    ids=["rgb-v4", "gray-v5-sticky-actions"],
)
def test_fast_path_equals_stepping_through_wrappers(max_pool: str, env_id: str, kwargs: dict) -> None:
    fast = MaxAndSkip(NoopReset(base_env(env_id, **kwargs)), max_pool=max_pool)
    counter = StepCounter(base_env(env_id, **kwargs))
    slow = MaxAndSkip(NoopReset(counter), max_pool=max_pool)
    assert fast.fast and not slow.fast
    actions = np.random.default_rng(0).integers(0, 4, 300)
    checks.assert_same(play(fast, actions), play(slow, actions), "trace")
    assert counter.steps >= 4 * 300 - 50, "the slow path must step the wrapper beneath every frame"


def test_max_and_skip_pools_the_last_two_frames() -> None:
    env = MaxAndSkip(base_env("PongNoFrameskip-v4"), max_pool="gray")
    reference = base_env("PongNoFrameskip-v4", obs_type="grayscale")
    obs, _ = env.reset(seed=SEED)
    ref_obs, _ = reference.reset(seed=SEED)
    np.testing.assert_array_equal(obs, ref_obs)
    for action in [2, 3, 2, 2, 3, 0]:
        obs, reward, terminated, truncated, info = env.step(action)
        frames, total = [], 0.0
        for _ in range(4):
            frame, frame_reward, *_ = reference.step(action)
            frames.append(frame)
            total += frame_reward
        np.testing.assert_array_equal(obs, np.maximum(frames[2], frames[3]))
        assert reward == total and info["episode_frame_number"] == reference.unwrapped.ale.getEpisodeFrameNumber()


@pytest.mark.parametrize("env_id", ["PongNoFrameskip-v4", "BreakoutNoFrameskip-v4", "MsPacmanNoFrameskip-v4"])
def test_gray_output_is_the_gray_of_the_pooled_rgb_frame(env_id: str) -> None:
    """gray=True reads palette indices and looks the pooled gray up: pixel for pixel what OpenCV makes
    of the pooled RGB frame, through resets, games that end inside a frame skip (stale screens pooled)
    and colours first seen in either of the two pooled screens."""
    gray = MaxAndSkip(NoopReset(base_env(env_id)), gray=True)
    rgb = MaxAndSkip(NoopReset(base_env(env_id)))
    assert gray.observation_space == gym.spaces.Box(0, 255, (210, 160), np.uint8)
    actions = np.random.default_rng(1).integers(0, gray.action_space.n, 1500)
    gray_trace, rgb_trace = play(gray, actions), play(rgb, actions)
    assert len(gray_trace) == len(rgb_trace) > len(actions) + 1, "some games must end"
    for gray_step, rgb_step in zip(gray_trace, rgb_trace):
        np.testing.assert_array_equal(gray_step[0], cv2.cvtColor(rgb_step[0], cv2.COLOR_RGB2GRAY))
        assert gray_step[1:] == rgb_step[1:]


def test_gray_output_with_colour_averaging() -> None:
    """ALE's colour averaging blends each screen with the previous one (and maps the blend back to a
    palette index): gray=True still gives the gray of the pooled RGB frame."""
    envs = []
    for gray in (True, False):
        base = base_env("PongNoFrameskip-v4")
        base.unwrapped.ale.setBool("color_averaging", True)  # applied when reset(seed=) reloads the ROM
        envs.append(MaxAndSkip(base, gray=gray))
    actions = np.random.default_rng(2).integers(0, 6, 200)
    gray_trace, rgb_trace = play(envs[0], actions), play(envs[1], actions)
    for gray_step, rgb_step in zip(gray_trace, rgb_trace):
        np.testing.assert_array_equal(gray_step[0], cv2.cvtColor(rgb_step[0], cv2.COLOR_RGB2GRAY))
    plain = MaxAndSkip(base_env("PongNoFrameskip-v4"), gray=True)
    plain_trace = play(plain, actions)
    assert any(not np.array_equal(a[0], b[0]) for a, b in zip(plain_trace, gray_trace)), "averaging had no effect"


def test_noop_reset_draws_from_the_env_rng() -> None:
    frames = []
    env = NoopReset(base_env(), noop_max=30)
    for seed in range(4):
        _, info = env.reset(seed=seed)
        frames.append(info["episode_frame_number"])
        _, again = env.reset(seed=seed)
        assert again["episode_frame_number"] == frames[-1], "same seed, same number of no-ops"
    assert all(1 <= n <= 30 for n in frames) and len(set(frames)) > 1, frames
    _, info = NoopReset(base_env(), noop_max=0).reset(seed=0)
    assert info["episode_frame_number"] == 0


def test_episodic_life_ends_episodes_not_games() -> None:
    env = EpisodicLife(MaxAndSkip(base_env()))
    _, info = env.reset(seed=SEED)
    lives, game_frame = env.unwrapped.ale.lives(), 0
    rng = np.random.default_rng(0)
    life_losses = 0
    while True:
        _, _, terminated, truncated, info = env.step(int(rng.integers(0, 4)))
        if not terminated:
            continue
        if info["game_over"]:
            break
        assert info["life_lost"] and info["lives"] == lives - 1
        lives, game_frame = info["lives"], info["episode_frame_number"]
        life_losses += 1
        _, info = env.reset()  # continues the game
        assert info["lives"] == lives and info["episode_frame_number"] == game_frame + 4
    assert life_losses == 4 and info["lives"] == 0  # Breakout: 5 lives
    _, info = env.reset()
    assert info["lives"] == 5 and info["episode_frame_number"] == 0, "after game over reset starts a new game"


def test_truncation_ends_the_game_not_just_the_life() -> None:
    env = make_atari_env("ALE/Breakout-v5", env_kwargs={"max_num_frames_per_episode": 120})
    env.reset(seed=SEED)
    for step in range(1, 40):  # noqa: B007 (the last value is checked after the loop)
        _, _, terminated, truncated, info = env.step(1)
        if terminated or truncated:
            break
    assert truncated and not terminated and info["game_over"] and not info["life_lost"]
    assert info["episode_frame_number"] == 120 and info["episode"]["l"] == step + 2  # + the fire reset
    _, info = env.reset()
    assert info["episode_frame_number"] < 60, "after truncation reset starts a new game"


def test_fire_reset_fires_and_returns_the_frame() -> None:
    env = FireReset(MaxAndSkip(base_env()))
    obs, info = env.reset(seed=SEED)
    assert info["episode_frame_number"] == 8, "FIRE and action 2, one 4-frame step each"
    by_hand = MaxAndSkip(base_env())
    by_hand.reset(seed=SEED)
    by_hand.step(1)
    expected, *_ = by_hand.step(2)
    np.testing.assert_array_equal(obs, expected)


def test_clip_reward_keeps_the_raw_reward() -> None:
    env = ClipReward(MaxAndSkip(base_env()))
    env.reset(seed=SEED)
    raw_rewards = set()
    for action in np.random.default_rng(1).integers(0, 4, 400):
        _, reward, terminated, truncated, info = env.step(action)
        assert reward == float(np.sign(info["raw_reward"]))
        raw_rewards.add(info["raw_reward"])
        if terminated or truncated:
            env.reset()
    assert 1.0 in raw_rewards, "no brick was hit: nothing was clipped"


def test_grayscale_resize_uses_cv2_area_on_the_luma() -> None:
    import cv2

    env = GrayscaleResize(MaxAndSkip(base_env()), screen_size=(42, 32))
    obs, _ = env.reset(seed=SEED)
    rgb = env.unwrapped.ale.getScreenRGB()
    expected = cv2.resize(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), (32, 42), interpolation=cv2.INTER_AREA)
    assert obs.shape == (42, 32)
    np.testing.assert_array_equal(obs, expected)


def test_frame_stack_ring_buffer_order_padding_and_copies() -> None:
    inner = GrayscaleResize(MaxAndSkip(base_env()))
    env = FrameStack(inner, num_stack=3, padding="reset")
    obs, _ = env.reset(seed=SEED)
    first = obs[2].copy()
    assert all(np.array_equal(frame, first) for frame in obs), "reset padding repeats the first frame"
    history = [first]
    for action in [1, 3, 3, 2, 2]:
        kept = obs
        obs, *_ = env.step(action)
        history.append(obs[-1].copy())
        assert obs is not kept and not np.shares_memory(obs, kept), "each observation is a new array"
    np.testing.assert_array_equal(obs, np.stack(history[-3:]), err_msg="oldest frame first")
    obs[:] = 0  # the caller owns the array: the next stack is unaffected
    nxt, *_ = env.step(0)
    np.testing.assert_array_equal(nxt[:2], np.stack(history[-2:]))


def test_crop_downsample_follows_the_mspacman_recipe() -> None:
    env = CropDownsample(MaxAndSkip(base_env("MsPacmanNoFrameskip-v4")))
    assert env.observation_space.shape == (88, 80)
    env.reset(seed=SEED)
    for action in [0, 1, 1, 4, 4]:
        obs, *_ = env.step(action)
    pooled = np.maximum(*env.env._frames)  # the frame CropDownsample got
    crop = pooled[1:176:2, ::2].astype(np.int32).sum(axis=2)
    erased = crop == sum(MSPACMAN_COLOR)
    assert erased.any(), "Ms. Pac-Man is on screen: some pixels must be blanked"
    crop[erased] = 0
    np.testing.assert_array_equal(obs, (crop // 3).astype(np.uint8))
    stacked = make_atari_env("ALE/MsPacman-v5", mspacman_crop=True)
    assert stacked.observation_space.shape == (4, 88, 80)
    with pytest.raises(ValueError, match="erase_color needs RGB"):
        CropDownsample(MaxAndSkip(base_env("MsPacmanNoFrameskip-v4"), max_pool="gray"))


# --------------------------------------------------------------------------- conformance and vector form
def _vector_entry(num_envs: int, max_episode_steps: int | None = None, **options: Any):
    return make_atari_env(num_envs=num_envs, **options)


ENV_ID = "rlsuite-test/AtariBreakout-v0"
OPTIONS = {
    "game_id": "BreakoutNoFrameskip-v4",
    "episode_statistics": False,
}  # info["episode"]["t"] is wall time
if ENV_ID not in gym.registry:
    gym.register(ENV_ID, entry_point=make_atari_env, vector_entry_point=_vector_entry, kwargs=OPTIONS)
CASE = EnvCase(ENV_ID, n_steps=120)


@pytest.mark.parametrize(
    "check",
    [
        checks.check_gymnasium_env_checker,
        checks.check_sb3_env_checker,
        checks.check_passive_checker,
        checks.check_observations_in_space,
        checks.check_determinism,
        checks.check_close_twice,
        checks.check_render_modes,
        checks.check_pickle_roundtrip,
        checks.check_deepcopy_roundtrip,
    ],
    ids=lambda check: check.__name__,
)
def test_conformance(check) -> None:
    check(CASE)


@pytest.mark.parametrize(
    "vector_options",
    [{"num_workers": 2}, {"num_workers": 1, "spin_s": 0}, {"num_workers": 0}],
    ids=["2-workers", "1-worker-no-polling", "in-this-process"],
)
def test_vector_sub_env_i_equals_single_env_seeded_seed_plus_i(vector_options: dict) -> None:
    case = EnvCase(ENV_ID, vector_options, n_steps=120)
    single = EnvCase(ENV_ID, n_steps=120)
    # check_vector_matches_single makes singles with the same kwargs: drop the vector options for them
    original = case.make
    object.__setattr__(case, "make", lambda **extra: single.make(**extra))
    try:
        checks.check_vector_matches_single(case, num_envs=3)
    finally:
        object.__setattr__(case, "make", original)


@pytest.mark.parametrize("bad_env", [0, 1], ids=["in-this-process", "in-a-worker"])
def test_vector_env_reports_sub_env_errors_and_closes(bad_env: int) -> None:
    venv = make_atari_env("PongNoFrameskip-v4", num_envs=2, num_workers=1)
    obs, info = venv.reset(seed=0)
    assert obs.shape == (2, 4, 84, 84) and set(info["lives"]) == {0}
    assert venv.get_attr("spec")[1].id == "PongNoFrameskip-v4"
    with pytest.raises(ValueError, match=r"actions must have shape \(2,\)"):
        venv.step(np.array([0, 1, 2]))
    actions = np.array([0, 0])
    actions[bad_env] = 9
    error = ValueError if bad_env == 0 else RuntimeError
    with pytest.raises(error, match="outside the action space"):
        venv.step(actions)
    assert venv.closed
    with pytest.raises(gym.error.ClosedEnvironmentError):
        venv.step(np.array([0, 1]))
    venv.close()  # closing twice is fine


def test_vector_env_needs_box_observations() -> None:
    with pytest.raises(TypeError, match="needs Box observations"):
        BatchedProcessVectorEnv([lambda: gym.make("FrozenLake-v1")], num_workers=0)


def test_sb3_dqn_runs_on_the_channels_first_stack() -> None:
    """A DQN smoke run: SB3's NatureCNN takes our (4, 84, 84) uint8 observations as they are."""
    from stable_baselines3 import DQN

    env = make_atari_env("ALE/Breakout-v5")
    model = DQN(
        "CnnPolicy",
        env,
        buffer_size=200,
        learning_starts=50,
        batch_size=4,
        train_freq=4,
        seed=0,
        device="cpu",
    )
    model.learn(120)
    assert model.num_timesteps == 120 and model._n_updates > 0
    assert model.observation_space.shape == (4, 84, 84)  # no transpose wrapper was needed
    obs, _ = env.reset(seed=SEED)
    action, _ = model.predict(obs, deterministic=True)
    assert env.action_space.contains(int(action))


def test_vector_only_and_single_only_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="num_workers and spin_s are for the vector form"):
        make_atari_env("PongNoFrameskip-v4", num_workers=1)
    with pytest.raises(ValueError, match="num_workers and spin_s are for the vector form"):
        make_atari_env("PongNoFrameskip-v4", spin_s=0.0)
    with pytest.raises(ValueError, match="render_mode is for a single env"):
        make_atari_env("PongNoFrameskip-v4", num_envs=2, render_mode="rgb_array")
