"""Exact planners on env.unwrapped.P: the three-state MDP's known optimum, FrozenLake, -inf masks."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import gym_mdp  # noqa: F401
from agents.tabular.planners import policy_iteration, tabular_model, value_iteration


@pytest.mark.parametrize(("gamma", "policy"), [(0.90, [0, 0, 1]), (0.95, [0, 2, 1])])
def test_three_state_optimal_policy(gamma: float, policy: list[int]) -> None:
    env = gym.make("mdp-v0")
    vi = value_iteration(env, gamma)
    pi = policy_iteration(env, gamma)
    np.testing.assert_array_equal(vi.policy, policy)
    np.testing.assert_array_equal(pi.policy, policy)
    np.testing.assert_allclose(vi.Q, pi.Q, atol=1e-8)
    assert np.isneginf(vi.Q[1, 1]) and np.isneginf(vi.Q[2, 0]) and np.isneginf(vi.Q[2, 2])


def test_value_iteration_satisfies_the_bellman_equation() -> None:
    env = gym.make("mdp-v0")
    gamma = 0.95
    solution = value_iteration(env, gamma, tol=1e-12)
    P = env.unwrapped.P
    for s, actions in P.items():
        for a, outcomes in actions.items():
            backup = sum(p * (r + gamma * (0 if done else solution.V[s2])) for p, s2, r, done in outcomes)
            assert solution.Q[s, a] == pytest.approx(backup, abs=1e-9)
        assert solution.V[s] == pytest.approx(max(solution.Q[s, a] for a in actions))


def test_frozen_lake_planners_agree_and_reach_the_known_value() -> None:
    env = gym.make("FrozenLake-v1")
    vi = value_iteration(env, 0.99)
    pi = policy_iteration(env, 0.99)
    np.testing.assert_allclose(vi.V, pi.V, atol=1e-7)
    np.testing.assert_array_equal(vi.policy, pi.policy)
    # the slippery 4x4 lake's optimal start value for gamma=0.99 (well known: about 0.54)
    assert vi.V[0] == pytest.approx(0.542, abs=0.002)
    model = tabular_model(env)
    assert model.allowed.all() and model.C.shape == (16, 4, 16)


def test_invalid_gamma_is_rejected() -> None:
    env = gym.make("mdp-v0")
    with pytest.raises(ValueError, match=r"gamma must be in \[0, 1\], got 1.5"):
        value_iteration(env, 1.5)
    with pytest.raises(ValueError, match=r"gamma must be in \[0, 1\), got 1.0"):
        policy_iteration(env, 1.0)


def test_env_without_model_is_rejected() -> None:
    with pytest.raises(ValueError, match="CartPoleEnv has no model `P`"):
        value_iteration(gym.make("CartPole-v1"), 0.9)
