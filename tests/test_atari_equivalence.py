"""Our Atari stack against the references, on the real Pong and Breakout ROMs shipped with ale-py.

Same ROM, seed and action sequence: the standard stack equals SB3's AtariWrapper + VecFrameStack pixel
for pixel; configured like Gymnasium's AtariPreprocessing + FrameStackObservation it equals that on
every step that does not end the game (the module docstring of agents.wrappers.atari says why the
terminal frame differs); ale_py's C++ AtariVectorEnv, configured alike, agrees the same way.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.wrappers import AtariPreprocessing, FrameStackObservation
from stable_baselines3.common.atari_wrappers import AtariWrapper
from stable_baselines3.common.vec_env import DummyVecEnv, VecFrameStack

from agents.wrappers.atari import make_atari_env, register_atari_ids

pytestmark = pytest.mark.atari

GAMES = ("Pong", "Breakout")
STEPS = 2000
SEED = 7
# Our stack configured as Gymnasium's AtariPreprocessing defaults + FrameStackObservation(4)
GYMNASIUM_LIKE = dict(
    max_pool="gray", fire_reset=False, terminal_on_life_loss=False, clip_reward=False, stack_padding="reset"
)


def random_actions(n_actions: int, steps: int = STEPS, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n_actions, steps)


@pytest.mark.parametrize("game", GAMES)
def test_standard_stack_equals_sb3_atari_wrapper(game: str) -> None:
    register_atari_ids()
    env_id = f"{game}NoFrameskip-v4"
    ours = make_atari_env(env_id)
    sb3 = VecFrameStack(DummyVecEnv([lambda: AtariWrapper(gym.make(env_id))]), n_stack=4)
    sb3.seed(SEED)
    sb3_obs = sb3.reset()
    obs, _ = ours.reset(seed=SEED)
    np.testing.assert_array_equal(obs, sb3_obs[0].transpose(2, 0, 1), err_msg="reset observation")
    lives_lost = games_over = 0
    for t, action in enumerate(random_actions(ours.action_space.n)):
        obs, reward, terminated, truncated, info = ours.step(action)
        sb3_obs, sb3_rewards, sb3_dones, sb3_infos = sb3.step(np.array([action]))
        done = terminated or truncated
        assert (reward, done) == (sb3_rewards[0], sb3_dones[0]), f"step {t}: (reward, done)"
        if done:  # SB3 autoresets and keeps the last observation in the info
            terminal = sb3_infos[0]["terminal_observation"].transpose(2, 0, 1)
            np.testing.assert_array_equal(obs, terminal, err_msg=f"step {t}: terminal observation")
            lives_lost += info["life_lost"]
            games_over += info["game_over"]
            obs, _ = ours.reset()
        np.testing.assert_array_equal(obs, sb3_obs[0].transpose(2, 0, 1), err_msg=f"step {t}: observation")
    assert games_over >= 1, "no game ended: the real reset path was not compared"
    if game == "Breakout":
        assert lives_lost >= 5, "too few lives lost to exercise EpisodicLife + FireReset"


@pytest.mark.parametrize("game", GAMES)
def test_gymnasium_configuration_equals_atari_preprocessing(game: str) -> None:
    register_atari_ids()
    env_id = f"{game}NoFrameskip-v4"
    ours = make_atari_env(env_id, **GYMNASIUM_LIKE)
    reference = FrameStackObservation(AtariPreprocessing(gym.make(env_id), noop_max=30), 4)
    obs, _ = ours.reset(seed=SEED)
    ref_obs, _ = reference.reset(seed=SEED)
    np.testing.assert_array_equal(obs, ref_obs, err_msg="reset observation")
    games = 0
    for t, action in enumerate(random_actions(ours.action_space.n)):
        obs, reward, terminated, truncated, _ = ours.step(action)
        ref_obs, ref_reward, ref_terminated, ref_truncated, _ = reference.step(action)
        assert (reward, terminated, truncated) == (ref_reward, ref_terminated, ref_truncated), f"step {t}"
        if terminated or truncated:  # the terminal frame differs by design; the next reset must not
            games += 1
            obs, _ = ours.reset()
            ref_obs, _ = reference.reset()
        np.testing.assert_array_equal(obs, ref_obs, err_msg=f"step {t}: observation")
    assert games >= 1, "no game ended: the reset path was not compared"


def test_rgb_and_gray_max_pooling_differ_on_pong() -> None:
    """The flag matters: pooling RGB then converting (SB3) is not pooling gray (Gymnasium) when the
    paddles move (green over brown: the channel-wise max is a colour neither frame has)."""
    rgb, gray = make_atari_env("PongNoFrameskip-v4"), make_atari_env("PongNoFrameskip-v4", max_pool="gray")
    rgb.reset(seed=SEED)
    gray.reset(seed=SEED)
    differing = 0
    for action in random_actions(6, steps=100):
        a, *_ = rgb.step(action)
        b, *_ = gray.step(action)
        differing += not np.array_equal(a, b)
    assert differing > 50


@pytest.mark.parametrize("game", GAMES)
def test_ale_vector_env_equals_stack_configured_alike(game: str) -> None:
    """ale_py.AtariVectorEnv (C++) pools gray frames and resizes with INTER_AREA like our stack; its
    no-ops (std::mt19937) and fire reset (FIRE as the first no-op) cannot be matched, so both are off."""
    from ale_py.vector_env import AtariVectorEnv

    vector = AtariVectorEnv(
        game.lower(),
        1,
        noop_max=0,
        use_fire_reset=False,
        episodic_life=False,
        reward_clipping=False,
        repeat_action_probability=0.0,
    )
    ours = make_atari_env(
        f"{game}NoFrameskip-v4",
        noop_max=0,
        fire_reset=False,
        terminal_on_life_loss=False,
        max_pool="gray",
        clip_reward=False,
    )
    vector_obs, _ = vector.reset(seed=SEED)
    obs, _ = ours.reset(seed=SEED)
    np.testing.assert_array_equal(obs, vector_obs[0], err_msg="reset observation")
    ended = False
    steps = 1200 if game == "Pong" else 500  # Pong's first random game ends near step 900
    for t, action in enumerate(random_actions(ours.action_space.n, steps=steps)):
        vector_obs, rewards, terminations, truncations, _ = vector.step(np.array([action]))
        if ended:  # NEXT_STEP autoreset: this step only resets
            obs, _ = ours.reset()
            reward, terminated, truncated = 0.0, False, False
        else:
            obs, reward, terminated, truncated, _ = ours.step(action)
        assert (reward, terminated, truncated) == (rewards[0], terminations[0], truncations[0]), f"step {t}"
        ended = terminated or truncated
        if not ended:
            np.testing.assert_array_equal(obs, vector_obs[0], err_msg=f"step {t}: observation")
    vector.close()
