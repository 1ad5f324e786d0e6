"""Exact planners over Gymnasium's toy_text model form: value iteration and policy iteration.

The model is `P[s][a] = [(probability, next_state, reward, terminated), ...]` as in FrozenLake
(`env.unwrapped.P`). Actions missing from `P[s]` are not allowed in `s`: their Q-value is `-inf` and
the greedy policy never picks them. A terminated transition does not bootstrap.

    >>> import gymnasium as gym, gym_mdp
    >>> solution = value_iteration(gym.make("mdp-v0"), gamma=0.95)
    >>> solution.policy
    array([0, 2, 1])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class TabularModel:
    """Dense arrays of a toy_text model: expected reward `R[s, a]`, the probability `C[s, a, s']` of
    moving to `s'` without the episode terminating, and the `allowed[s, a]` mask."""

    R: np.ndarray
    C: np.ndarray
    allowed: np.ndarray

    @property
    def n_states(self) -> int:
        return self.R.shape[0]

    def q_values(self, V: np.ndarray, gamma: float) -> np.ndarray:
        Q = self.R + gamma * self.C @ V
        return np.where(self.allowed, Q, -np.inf)


@dataclass(frozen=True)
class Solution:
    """Optimal state values `V`, action values `Q` (-inf where not allowed) and a greedy policy."""

    V: np.ndarray
    Q: np.ndarray
    policy: np.ndarray
    iterations: int

    def act(self, obs: int, *, greedy: bool = True) -> int:
        """The optimal action in state `obs`, so that a solution plays like an agent (e.g. in
        `agents.common.evaluation.evaluate`)."""
        return int(self.policy[obs])


def tabular_model(env_or_model: Any, n_actions: int | None = None) -> TabularModel:
    """Read `env.unwrapped.P` (or a model dict given directly) into dense arrays."""
    if hasattr(env_or_model, "unwrapped"):
        env = env_or_model.unwrapped
        if not hasattr(env, "P"):
            raise ValueError(f"{type(env).__name__} has no model `P` in toy_text form; planners need one")
        model, n_actions = env.P, n_actions or int(env.action_space.n)
    else:
        model = env_or_model
    n_states = len(model)
    if n_actions is None:
        n_actions = 1 + max(int(a) for s in model for a in model[s])
    R = np.zeros((n_states, n_actions))
    C = np.zeros((n_states, n_actions, n_states))
    allowed = np.zeros((n_states, n_actions), dtype=bool)
    for s in range(n_states):
        for a, outcomes in model[s].items():
            allowed[s, a] = True
            for prob, next_state, reward, terminated in outcomes:
                R[s, a] += prob * reward
                if not terminated:
                    C[s, a, next_state] += prob
    return TabularModel(R, C, allowed)


def greedy_policy(Q: np.ndarray) -> np.ndarray:
    """argmax over actions, lowest index on ties; states without an allowed action get 0."""
    policy = np.argmax(Q, axis=1)
    policy[np.all(np.isneginf(Q), axis=1)] = 0
    return policy


def _state_values(Q: np.ndarray) -> np.ndarray:
    V = Q.max(axis=1)
    return np.where(np.isneginf(V), 0.0, V)


def _check_gamma(gamma: float, upper_inclusive: bool) -> None:
    ok = 0.0 <= gamma <= 1.0 if upper_inclusive else 0.0 <= gamma < 1.0
    if not ok:
        interval = "[0, 1]" if upper_inclusive else "[0, 1)"
        raise ValueError(f"gamma must be in {interval}, got {gamma}")


STALL_CHECK_EVERY = 1000  # value iteration gives up when the change has not shrunk over this many sweeps


def _not_converging(gamma: float, iteration: int, delta: float) -> str:
    if gamma == 1.0:
        return (
            f"value iteration does not converge at gamma=1: after {iteration} iterations the values still change "
            f"by {delta:g} per sweep (some policy collects rewards forever without ending its episode, so the "
            "values are infinite); use gamma < 1"
        )
    return (
        f"value iteration stalled at gamma={gamma}: after {iteration} iterations the values still change by "
        f"{delta:g} per sweep (float precision); use a smaller gamma"
    )


def value_iteration(
    env_or_model: Any, gamma: float, *, tol: float = 1e-10, max_iterations: int = 1_000_000
) -> Solution:
    """Bellman optimality backups until the values move less than `tol` (for gamma < 1, the
    stopping rule guarantees |V - V*| <= tol)."""
    _check_gamma(gamma, upper_inclusive=True)
    model = tabular_model(env_or_model)
    threshold = tol * (1 - gamma) / gamma if 0 < gamma < 1 else tol
    V = np.zeros(model.n_states)
    checked_delta = np.inf
    for iteration in range(1, max_iterations + 1):
        V_new = _state_values(model.q_values(V, gamma))
        delta = np.max(np.abs(V_new - V))
        V = V_new
        if delta <= threshold:
            break
        if iteration % STALL_CHECK_EVERY == 0:
            # the change no longer shrinks: at gamma = 1 the values grow without bound (some policy never
            # ends its episodes and collects rewards forever); otherwise float precision is exhausted
            if not delta < checked_delta:
                raise ValueError(_not_converging(gamma, iteration, delta))
            checked_delta = delta
    else:
        raise ValueError(
            f"value iteration did not converge in {max_iterations} iterations at gamma={gamma} "
            f"(last change {delta:g}); use a smaller gamma"
        )
    Q = model.q_values(V, gamma)
    return Solution(_state_values(Q), Q, greedy_policy(Q), iteration)


def policy_iteration(env_or_model: Any, gamma: float, *, max_iterations: int = 10_000) -> Solution:
    """Exact policy evaluation (a linear solve) alternated with greedy improvement, until the policy
    is stable. Requires gamma < 1 so that every policy has finite values."""
    _check_gamma(gamma, upper_inclusive=False)
    model = tabular_model(env_or_model)
    states = np.arange(model.n_states)
    policy = greedy_policy(np.where(model.allowed, 0.0, -np.inf))  # first allowed action
    has_action = np.asarray(model.allowed.any(axis=1), dtype=bool)
    for iteration in range(1, max_iterations + 1):
        R_pi = np.where(has_action, model.R[states, policy], 0.0)
        C_pi = model.C[states, policy] * has_action[:, None]
        V = np.linalg.solve(np.eye(model.n_states) - gamma * C_pi, R_pi)
        Q = model.q_values(V, gamma)
        best = greedy_policy(Q)
        # keep the current action where it is still optimal, so ties cannot make the loop cycle
        keep = Q[states, policy] >= Q[states, best] - 1e-12
        new_policy = np.where(keep, policy, best)
        if np.array_equal(new_policy, policy):
            return Solution(_state_values(Q), Q, greedy_policy(Q), iteration)
        policy = new_policy
    raise RuntimeError(f"policy iteration did not stabilise in {max_iterations} iterations")
