"""gym_mdp: the three-state MDP exactly as specified, TabularMDP validation, masks and rendering."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

import gymnasium as gym
import numpy as np
import pytest

import gym_mdp
from gym_mdp import InvalidMDPError, TabularMDP, render
from gym_mdp.three_state import ALLOWED_ACTIONS, REWARDS, TRANSITIONS

SEED_TRANSITIONS = [
    [[0.7, 0.3, 0.0], [1.0, 0.0, 0.0], [0.8, 0.2, 0.0]],
    [[0.0, 1.0, 0.0], None, [0.0, 0.0, 1.0]],
    [None, [0.8, 0.1, 0.1], None],
]
SEED_REWARDS = [
    [[+10, 0, 0], [0, 0, 0], [0, 0, 0]],
    [[0, 0, 0], [0, 0, 0], [0, 0, -50]],
    [[0, 0, 0], [+40, 0, 0], [0, 0, 0]],
]


def test_three_state_tables_are_the_specified_ones() -> None:
    assert TRANSITIONS == SEED_TRANSITIONS
    assert REWARDS == SEED_REWARDS
    assert ALLOWED_ACTIONS == [[0, 1, 2], [0, 2], [1]]
    env = gym.make("mdp-v0").unwrapped
    for s in range(3):
        assert sorted(env.P[s]) == ALLOWED_ACTIONS[s]
        for a, outcomes in env.P[s].items():
            for prob, s2, reward, terminated in outcomes:
                assert prob == SEED_TRANSITIONS[s][a][s2] and prob > 0
                assert reward == SEED_REWARDS[s][a][s2]
                assert terminated is False
            assert sum(p for p, *_ in outcomes) == pytest.approx(1.0)


def test_registration_spec() -> None:
    spec = gym.spec("mdp-v0")
    assert spec.max_episode_steps == 100
    assert spec.kwargs == {}
    env = gym.make("mdp-v0")
    assert env.unwrapped.invalid_action == "stay"


def test_make_with_module_prefix_needs_no_import() -> None:
    code = "import gymnasium as gym; env = gym.make('gym_mdp:mdp-v0'); print(env.reset(seed=0)[0])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"


def test_gymnasium_plugin_entry_point_registers_ids() -> None:
    (entry,) = [e for e in metadata.entry_points(group="gymnasium.envs") if e.value == "gym_mdp:register_envs"]
    entry.load()()  # idempotent: registering again neither fails nor warns
    assert "mdp-v0" in gym.registry


def test_starts_in_state_zero_and_truncates_at_100_steps() -> None:
    env = gym.make("mdp-v0")
    for seed in range(5):
        obs, info = env.reset(seed=seed)
        assert obs == 0
        np.testing.assert_array_equal(info["action_mask"], [1, 1, 1])
    steps = 0
    while True:
        obs, reward, terminated, truncated, info = env.step(int(np.flatnonzero(info["action_mask"])[0]))
        steps += 1
        assert not terminated
        if truncated:
            break
    assert steps == 100


def test_action_mask_follows_the_state() -> None:
    env = gym.make("mdp-v0")
    _, info = env.reset(seed=0, options={"state": 2})
    np.testing.assert_array_equal(info["action_mask"], [0, 1, 0])
    assert info["action_mask"].dtype == np.int8
    np.testing.assert_array_equal(env.unwrapped.action_masks(), [False, True, False])
    _, info = env.reset(options={"state": 1})
    np.testing.assert_array_equal(info["action_mask"], [1, 0, 1])


def test_transition_frequencies_match_the_table() -> None:
    env = gym.make("mdp-v0").unwrapped
    env.reset(seed=1)
    n = 20_000
    for s in range(3):
        for a in ALLOWED_ACTIONS[s]:
            counts = np.zeros(3)
            for _ in range(n):
                env.reset(options={"state": s})
                counts[env.step(a)[0]] += 1
            expected = np.array(SEED_TRANSITIONS[s][a])
            # 5 standard deviations of a binomial proportion
            tolerance = 5 * np.sqrt(expected * (1 - expected) / n) + 1e-12
            assert np.all(np.abs(counts / n - expected) <= tolerance), (s, a, counts / n)


def test_rewards_follow_the_table() -> None:
    env = gym.make("mdp-v0").unwrapped
    env.reset(seed=3)
    for _ in range(500):
        env.reset(options={"state": 1})
        assert env.step(2)[1] == -50.0  # always lands in 2
        env.reset(options={"state": 2})
        next_state, reward, *_ = env.step(1)
        assert reward == (40.0 if next_state == 0 else 0.0)


def test_disallowed_action_stay_mode() -> None:
    env = gym.make("mdp-v0")
    env.reset(seed=0, options={"state": 1})
    obs, reward, terminated, truncated, info = env.step(1)
    assert (obs, reward, terminated, truncated) == (1, 0.0, False, False)
    assert info["invalid_action"] is True
    _, _, _, _, info = env.step(0)
    assert info["invalid_action"] is False


def test_disallowed_action_raise_mode_names_state_and_allowed_actions() -> None:
    env = gym.make("mdp-v0", invalid_action="raise")
    env.reset(seed=0, options={"state": 2})
    with pytest.raises(ValueError, match=r"action 0 is not allowed in state 2; allowed actions: \[1\]"):
        env.step(0)


@pytest.mark.parametrize("mode", ["stay", "raise"])
@pytest.mark.parametrize("action", [-1, 3, 1.0, "1", None])
def test_action_outside_the_space_always_raises(mode: str, action: object) -> None:
    env = gym.make("mdp-v0", invalid_action=mode).unwrapped
    env.reset(seed=0)
    with pytest.raises(ValueError, match="not in the action space"):
        env.step(action)


def test_step_before_reset_raises() -> None:
    env = TabularMDP([[[1.0]]], [[[0.0]]])
    with pytest.raises(gym.error.ResetNeeded):
        env.step(0)


def test_terminal_state_terminates_and_blocks_further_steps() -> None:
    env = TabularMDP([[[0.0, 1.0]], [[0.0, 1.0]]], [[[0, 5]], [[0, 0]]], terminal_states=[1])
    env.reset(seed=0)
    obs, reward, terminated, truncated, _ = env.step(0)
    assert (obs, reward, terminated, truncated) == (1, 5.0, True, False)
    assert env.P[0][0] == [(1.0, 1, 5.0, True)]
    with pytest.raises(gym.error.ResetNeeded, match="terminated"):
        env.step(0)


def test_start_distribution_is_sampled() -> None:
    env = TabularMDP([[[1, 0]], [[0, 1]]], [[[0, 0]], [[0, 0]]], start_state=[0.25, 0.75])
    starts = [env.reset(seed=seed)[0] for seed in range(2000)]
    assert 0.70 < np.mean(starts) < 0.80


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"transitions": [[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0]]]}, r"transitions\[1\] has 1 actions, expected 2"),
        ({"transitions": [[[0.5, 0.4], [0.0, 1.0]], [[0.0, 1.0], None]]}, r"transitions\[0\]\[0\] sums to 0.9"),
        ({"transitions": [[[1.2, -0.2], [0.0, 1.0]], [[0.0, 1.0], None]]}, "negative"),
        ({"transitions": [[[1.0], [0.0, 1.0]], [[0.0, 1.0], None]]}, r"shape \(1,\), expected \(2,\)"),
        (
            {"allowed_actions": [[0], [0, 1]]},
            r"action 1 is allowed in state 1 but transitions\[1\]\[1\] has no transition row",
        ),
        ({"allowed_actions": [[0], [5]]}, r"actions are 0..1"),
        ({"start_state": 7}, "unknown start state 7; states are 0..1"),
        ({"start_state": [0.5, 0.6]}, "start_state distribution sums to"),
        ({"terminal_states": [2]}, "unknown terminal state 2"),
        ({"invalid_action": "clip"}, r"invalid_action must be one of \('raise', 'stay'\), got 'clip'"),
        ({"render_mode": "video"}, "render_mode must be one of"),
        ({"rewards": [[[0, 0], None], [[0, 0], None]]}, r"rewards\[0\]\[1\] is None"),
        ({"rewards": [[[0, 0], [0]], [[0, 0], None]]}, r"rewards\[0\]\[1\] has shape \(1,\), expected \(2,\)"),
    ],
)
def test_invalid_tables_are_rejected_with_a_clear_message(kwargs: dict, message: str) -> None:
    base = {
        "transitions": [[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], None]],
        "rewards": [[[0, 0], [0, 1]], [[0, 0], None]],
    }
    with pytest.raises(ValueError, match=message):
        TabularMDP(**{**base, **kwargs})


def first_row(row: list) -> list:
    """GOOD's transitions with `row` as transitions[0][0]."""
    return [[row, [0.0, 1.0]], [[0.0, 1.0], None]]


GOOD = {"transitions": [[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], None]], "rewards": [[[0, 0], [0, 1]], [[0, 0], None]]}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"transitions": None, "rewards": None}, r"transitions must be a list \(or tuple, or numpy array\), got None"),
        ({"rewards": 3}, r"rewards must be a list .*got int"),
        ({"transitions": "ab"}, r"transitions must be a list .*got str"),
        ({"transitions": [None, [[0.0, 1.0], None]]}, r"transitions\[0\] must be a list .*got None"),
        ({"rewards": [[[0, 0], [0, 1]], 5]}, r"rewards\[1\] must be a list .*got int"),
        ({"transitions": [[[1.0, 0.0], 7], [[0.0, 1.0], None]]}, r"transitions\[0\]\[1\] must be a list .*got int"),
        ({"transitions": first_row(["1", "0"])}, r"transitions\[0\]\[0\] must hold numbers"),
        ({"transitions": first_row([True, False])}, r"transitions\[0\]\[0\] must hold numbers"),
        ({"transitions": first_row([[1.0], [0.0, 0.0]])}, r"transitions\[0\]\[0\] is not a flat list"),
        ({"transitions": first_row([float("nan"), 1.0])}, r"transitions\[0\]\[0\] has a negative or non-finite"),
        ({"rewards": [[[0, float("inf")], [0, 1]], [[0, 0], None]]}, r"rewards\[0\]\[0\] contains a non-finite value"),
        ({"rewards": [[[0, "x"], [0, 1]], [[0, 0], None]]}, r"rewards\[0\]\[0\] must hold numbers"),
        (
            {"transitions": [[None]] * 10**6, "rewards": [[None]] * 10**6},
            r"1000000 states, more than the limit of 1024",
        ),
        (
            {"transitions": [[None] * 10**6], "rewards": [[None] * 10**6]},
            r"1000000 actions, more than the limit of 256",
        ),
        ({"transitions": [[None] * 2] * 1000, "rewards": [[None] * 2] * 1000}, r"2000000 table entries, .* 1048576"),
        ({"allowed_actions": [[True], [0]]}, r"allowed_actions\[0\] contains True; actions are 0..1"),
        ({"allowed_actions": 5}, r"allowed_actions must be a list"),
        ({"allowed_actions": [[0], None]}, r"allowed_actions\[1\] must be a list"),
        ({"start_state": True}, r"start_state must be a state index or a list of 2 probabilities, got True"),
        ({"start_state": "0"}, r"start_state must be a state index"),
        ({"terminal_states": None}, r"terminal_states must be a list"),
        ({"terminal_states": [False]}, r"unknown terminal state False"),
        ({"invalid_action": ["stay"]}, r"invalid_action must be one of"),
        ({"render_mode": np.array(["ansi"])}, r"render_mode must be one of"),
    ],
)
def test_malformed_arguments_raise_invalid_mdp_error_naming_them(kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidMDPError, match=message):
        TabularMDP(**{**GOOD, **kwargs})


def test_invalid_mdp_error_is_a_value_error_and_sets_of_terminal_states_work() -> None:
    assert issubclass(InvalidMDPError, ValueError) and gym_mdp.InvalidMDPError is InvalidMDPError
    env = TabularMDP(**GOOD, terminal_states={1})
    env.reset(seed=0)
    assert env.step(1)[:3] == (1, 1.0, True)


@pytest.mark.parametrize("env_id", ["mdp-v0"])
def test_unknown_reset_options_raise_like_the_other_envs(env_id: str) -> None:
    env = gym.make(env_id)
    with pytest.raises(ValueError, match=r"unknown reset option\(s\) \['start'\]; allowed: \['state'\]"):
        env.reset(options={"start": 1})
    with pytest.raises(ValueError, match=r"unknown reset option\(s\) \['foo'\]"):
        env.reset(options={"state": 1, "foo": 2})
    with pytest.raises(ValueError, match=r"reset options must be a dict"):
        env.reset(options=[("state", 1)])
    with pytest.raises(ValueError, match=r"options\['state'\] must be a state in 0..2, got True"):
        env.reset(options={"state": True})
    assert env.reset(options={"state": 2})[0] == 2 and env.reset(options={})[0] == 0


def test_state_without_actions_must_be_terminal() -> None:
    with pytest.raises(ValueError, match="state 1 is not terminal but has no allowed action"):
        TabularMDP([[[0.0, 1.0]], [None]], [[[0, 0]], [None]])
    TabularMDP([[[0.0, 1.0]], [None]], [[[0, 0]], [None]], terminal_states=[1])


def test_reset_option_state_is_validated() -> None:
    env = gym.make("mdp-v0")
    with pytest.raises(ValueError, match=r"options\['state'\] must be a state in 0..2"):
        env.reset(options={"state": 3})


def test_ansi_render_shows_state_action_and_reward() -> None:
    env = gym.make("mdp-v0", render_mode="ansi")
    env.reset(seed=0, options={"state": 1})
    env.step(2)
    text = env.render()
    assert "[s2]" in text and "state 2" in text and "last action 2" in text and "last reward -50" in text
    assert "allowed actions 1" in text


def test_rgb_render_highlights_the_current_state(tmp_path) -> None:
    env = gym.make("mdp-v0", render_mode="rgb_array")
    for state in range(3):
        env.reset(seed=0, options={"state": state})
        frame = env.render()
        assert frame.shape == (render.CELL + render.BAR_HEIGHT, 3 * render.CELL, 3)
        centre = render.CELL // 2
        for s in range(3):
            pixel = frame[centre, s * render.CELL + centre - render.CELL // 4]  # inside the disc, left of the label
            expected = render.CURRENT_FILL if s == state else render.IDLE_FILL
            np.testing.assert_array_equal(pixel, expected)
    env.reset(options={"state": 1})
    env.step(2)
    frame = env.render()
    bar = frame[render.CELL + render.BAR_HEIGHT // 2]
    assert (bar == render.NEGATIVE).all(axis=1).sum() > 0  # -50: a red bar
    assert not (bar == render.POSITIVE).all(axis=1).any()


def test_human_render_opens_and_closes_a_window() -> None:
    pygame = pytest.importorskip("pygame")
    env = gym.make("mdp-v0", render_mode="human")
    env.reset(seed=0)
    env.step(0)
    assert pygame.display.get_init() and pygame.display.get_surface() is not None
    env.close()
    assert not pygame.display.get_init()
    env.close()


def test_maskable_ppo_trains_with_action_masks() -> None:
    from sb3_contrib import MaskablePPO
    from stable_baselines3 import PPO

    env = gym.make("mdp-v0", invalid_action="raise")  # a disallowed action raises
    with pytest.raises(ValueError, match="not allowed"):  # so an unmasked learner fails on this env...
        PPO("MlpPolicy", env, n_steps=64, batch_size=32, n_epochs=1, seed=0, device="cpu").learn(256)
    model = MaskablePPO("MlpPolicy", env, n_steps=64, batch_size=32, n_epochs=1, seed=0, device="cpu")
    model.learn(256)  # ...and the masked one trains on it: every sampled action was allowed
    for state in range(3):
        env.unwrapped.state = state
        mask = env.unwrapped.action_masks()
        actions = {int(model.predict(np.array(state), action_masks=mask, deterministic=False)[0]) for _ in range(50)}
        assert actions <= set(np.flatnonzero(mask)), (state, actions, mask)


def test_unmasked_sb3_dqn_trains_on_the_registered_default() -> None:
    """The registered default (`invalid_action="stay"`) lets an unmasked learner train: a disallowed action
    leaves the state as it was, with reward 0 and `info["invalid_action"]`, and the learner still improves."""
    from stable_baselines3 import DQN

    class Record(gym.Wrapper):
        def __init__(self, env: gym.Env) -> None:
            super().__init__(env)
            self.invalid_steps: list[tuple[int, int, float]] = []

        def step(self, action):
            before = self.env.unwrapped.state
            obs, reward, terminated, truncated, info = self.env.step(action)
            if info["invalid_action"]:
                self.invalid_steps.append((before, int(obs), float(reward)))
            return obs, reward, terminated, truncated, info

    env = Record(gym.make("mdp-v0"))
    model = DQN("MlpPolicy", env, learning_starts=200, exploration_fraction=0.5, seed=0, device="cpu")
    model.learn(3000)
    assert len(env.invalid_steps) > 10  # exploration took disallowed actions, and training went on
    assert all(state == next_state and reward == 0.0 for state, next_state, reward in env.invalid_steps)
    greedy = [int(model.predict(np.array(state), deterministic=True)[0]) for state in range(3)]
    assert greedy[0] == 0 and greedy[2] == 1, greedy  # +10 self-loop in state 0, the only action (+40) in state 2
