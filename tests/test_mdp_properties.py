"""Property-based tests of gym_mdp (Hypothesis): generated MDPs, malformed tables and reset options.

The number of examples comes from the Hypothesis profile (tests/hypothesis_profiles.py)."""

from __future__ import annotations

import copy
from datetime import timedelta

import gymnasium as gym
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import gym_mdp  # noqa: F401  (registers mdp-v0)
from gym_mdp import InvalidMDPError, TabularMDP


@st.composite
def mdps(draw: st.DrawFn) -> dict:
    """Keyword arguments of a valid TabularMDP: 1-5 states, 1-3 actions, some disallowed, some
    terminal states, rows of random weights normalised to sum to 1."""
    n_states, n_actions = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    terminal = sorted(draw(st.sets(st.integers(0, n_states - 1), max_size=n_states - 1)))
    transitions, rewards = [], []
    for s in range(n_states):
        allowed = draw(st.lists(st.booleans(), min_size=n_actions, max_size=n_actions))
        if s not in terminal and not any(allowed):
            allowed[draw(st.integers(0, n_actions - 1))] = True
        t_row, r_row = [], []
        for a in range(n_actions):
            if not allowed[a]:
                t_row.append(None)
                r_row.append(None)
                continue
            weights = draw(st.lists(st.integers(0, 4), min_size=n_states, max_size=n_states))
            weights[draw(st.integers(0, n_states - 1))] += 1  # at least one next state
            t_row.append([w / sum(weights) for w in weights])
            r_row.append(draw(st.lists(st.integers(-9, 9), min_size=n_states, max_size=n_states)))
        transitions.append(t_row)
        rewards.append(r_row)
    start = draw(st.integers(0, n_states - 1))
    return {"transitions": transitions, "rewards": rewards, "terminal_states": terminal, "start_state": start}


@given(mdps(), st.integers(0, 2**32 - 1), st.lists(st.integers(0, 2), min_size=1, max_size=40))
def test_only_transitions_of_positive_probability_happen_and_masks_match(kwargs, seed, actions):
    env = TabularMDP(**kwargs)
    T, R, allowed = env.transition_table, env.reward_table, env.allowed_mask
    state, info = env.reset(seed=seed)
    assert state == kwargs["start_state"]
    for action in actions:
        if action >= env.action_space.n:
            continue
        np.testing.assert_array_equal(info["action_mask"], allowed[state])
        np.testing.assert_array_equal(env.action_masks(), allowed[state])
        assert sorted(env.P[state]) == np.flatnonzero(allowed[state]).tolist()
        next_state, reward, terminated, truncated, info = env.step(action)
        assert env.observation_space.contains(next_state) and not truncated
        if not allowed[state, action]:  # invalid_action="stay"
            assert (next_state, reward, terminated, info["invalid_action"]) == (state, 0.0, False, True)
            continue
        assert T[state, action, next_state] > 0 and info["prob"] == T[state, action, next_state]
        assert reward == R[state, action, next_state]
        assert terminated == (next_state in kwargs["terminal_states"])
        state = next_state
        if terminated:
            state, info = env.reset()


# --------------------------------------------------------------------------- malformed input
def break_table(data: st.DataObject, kwargs: dict) -> dict:
    """`kwargs` with one defect drawn from the kinds TabularMDP must refuse."""
    kwargs = copy.deepcopy(kwargs)
    T, R = kwargs["transitions"], kwargs["rewards"]
    rows = [(s, a) for s in range(len(T)) for a in range(len(T[s])) if T[s][a] is not None]
    s, a = data.draw(st.sampled_from(rows))
    n = len(T)
    defect = data.draw(st.sampled_from(
        ["negative", "nan", "inf", "not_one", "short", "long", "ragged_state", "string", "bool", "nested",
         "state_none", "reward_nan", "reward_row_none", "huge_states", "huge_actions", "top_none", "top_dict"]
    ))  # fmt: skip
    if defect == "negative":
        T[s][a] = [-0.5] + [1.5 / max(n - 1, 1)] * (n - 1) if n > 1 else [-1.0]
    elif defect in ("nan", "inf"):
        T[s][a][data.draw(st.integers(0, n - 1))] = float(defect)
    elif defect == "not_one":
        factor = data.draw(st.sampled_from([0.5, 1.5, 0.0, 1 + 1e-6]))
        T[s][a] = [p * factor for p in T[s][a]]
    elif defect == "short":
        T[s][a] = T[s][a][:-1]
    elif defect == "long":
        T[s][a] = T[s][a] + [0.0]
    elif defect == "ragged_state":
        T[s] = T[s] + [None] if data.draw(st.booleans()) else T[s][:-1]
    elif defect == "string":
        T[s][a] = [str(p) for p in T[s][a]]
    elif defect == "bool":
        T[s][a] = [True] + [False] * (n - 1)
    elif defect == "nested":
        T[s][a] = [[p] for p in T[s][a]][:-1] + [[0.0, 0.0]]
    elif defect == "state_none":
        T[s] = None
    elif defect == "reward_nan":
        R[s][a][0] = float("nan")
    elif defect == "reward_row_none":
        R[s][a] = None
    elif defect == "huge_states":
        kwargs["transitions"], kwargs["rewards"] = [[None]] * 10**6, [[None]] * 10**6
    elif defect == "huge_actions":
        kwargs["transitions"] = [[[1.0]] * 10**5]
        kwargs["rewards"] = [[[0.0]] * 10**5]
    elif defect == "top_none":
        kwargs[data.draw(st.sampled_from(["transitions", "rewards"]))] = None
    else:
        kwargs[data.draw(st.sampled_from(["transitions", "rewards"]))] = {0: T[0]}
    return kwargs


@settings(deadline=timedelta(seconds=5))  # refused before any large allocation
@given(mdps(), st.data())
def test_malformed_tables_raise_invalid_mdp_error(kwargs, data):
    broken = break_table(data, kwargs)
    try:
        TabularMDP(**broken)
    except InvalidMDPError:
        return
    raise AssertionError(f"accepted a malformed table: {broken!r:.300}")


JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=4),
    st.lists(st.one_of(st.none(), st.integers(-3, 3), st.floats(), st.text(max_size=2)), max_size=4),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)  # fmt: skip


ARGUMENTS = st.sampled_from(["allowed_actions", "start_state", "terminal_states", "invalid_action", "render_mode"])


@settings(deadline=timedelta(seconds=5))
@given(mdps(), ARGUMENTS, JUNK)
def test_any_argument_value_is_accepted_or_refused_with_invalid_mdp_error(kwargs, name, value):
    try:
        env = TabularMDP(**{**kwargs, name: value})
    except InvalidMDPError as error:
        assert name in str(error) or "state" in str(error) or "action" in str(error), error
    else:
        assert env.observation_space.contains(env.reset(seed=0)[0])


OPTION_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(), st.text(max_size=3))


OPTION_KEYS = st.one_of(st.sampled_from(["state", "seed", "start"]), st.text(max_size=3))


@given(st.dictionaries(OPTION_KEYS, OPTION_VALUES, max_size=3))
def test_reset_options_are_accepted_only_when_valid_and_refused_with_a_value_error(options):
    env = gym.make("mdp-v0")
    state = options.get("state")
    valid = set(options) <= {"state"} and ("state" not in options or (type(state) is int and 0 <= state < 3))
    try:
        obs, _ = env.reset(seed=0, options=options)
    except ValueError as error:
        assert not valid, error
        assert "option" in str(error)
    else:
        assert valid, f"accepted invalid reset options {options!r}"
        assert obs == (state if "state" in options else 0)
