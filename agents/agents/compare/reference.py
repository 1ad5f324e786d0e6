"""Reference returns of envs whose model is known (`env.unwrapped.P`): mdp-v0, FrozenLake, ...

The comparison measures the undiscounted return of an episode cut at `max_episode_steps` (100 for
mdp-v0), not the discounted value that value iteration optimises, so two exact references are
computed for that measure:

- `optimum`: the best expected return of any policy over the H-step episode, by backward induction
  (finite-horizon value iteration, gamma = 1): V_0 = 0, V_h(s) = max_a E[r + V_{h-1}(s')],
  optimum = E_{s0}[V_H(s0)]. It may use a policy that changes with the time left, which an agent
  that sees only the state (not the clock) cannot represent, so it is an upper bound.
- `stationary`: the best deterministic policy of the state alone, the target of an agent that sees
  only the state: found by trying every such policy when there are at most 4,096 of them (mdp-v0
  has 27), otherwise the greedy policy of value iteration with gamma = 0.99 (labelled as such).

For mdp-v0 the optimum is 137.17 and the best state-only policy (0, 2, 1) earns 120.85: the
difference is what knowing the time left is worth (stop taking the -50 detour near the end).
Actions that an env refuses but tolerates (`invalid_action="stay"`: same state, reward 0) are
included as the self-loops they are.

`ExactEvaluator` computes, with the same model, the exact expected return of an agent's greedy
policy (asked for its action in each state), with no evaluation noise: on mdp-v0 one episode's return
has a standard deviation of about 130, so even 100 evaluation episodes leave an error of about 13.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

from agents.common.envs import make_env
from agents.tabular.planners import tabular_model, value_iteration

MAX_ENUMERATED_POLICIES = 4096


@dataclass(frozen=True)
class Reference:
    horizon: int
    optimum: float
    stationary: float
    stationary_label: str


def _start_distribution(env: Any) -> np.ndarray | None:
    for name in ("start_distribution", "initial_state_distrib"):  # TabularMDP, toy_text envs
        value = getattr(env, name, None)
        if value is not None:
            return np.asarray(value, dtype=float)
    return None


def _model_with_stay(env: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """R[s, a], C[s, a, s'] (non-terminating moves) and the allowed mask, with tolerated invalid
    actions as zero-reward self-loops."""
    model = tabular_model(env)
    R, C, allowed = model.R.copy(), model.C.copy(), model.allowed.copy()
    if getattr(env, "invalid_action", None) == "stay":
        for s, a in zip(*np.nonzero(~allowed)):
            C[s, a, s] = 1.0
        allowed[:] = True
    return R, C, allowed


def policy_return(R: np.ndarray, C: np.ndarray, policy: np.ndarray, start: np.ndarray, horizon: int) -> float:
    """Expected undiscounted return of a state-only deterministic policy over `horizon` steps."""
    states = np.arange(len(policy))
    R_pi, C_pi = R[states, policy], C[states, policy]
    V = np.zeros(len(policy))
    for _ in range(horizon):
        V = R_pi + C_pi @ V
    return float(start @ V)


def optimal_return(R: np.ndarray, C: np.ndarray, allowed: np.ndarray, start: np.ndarray, horizon: int) -> float:
    """The best expected undiscounted return over `horizon` steps (finite-horizon value iteration)."""
    V = np.zeros(R.shape[0])
    for _ in range(horizon):
        V = np.where(allowed, R + C @ V, -np.inf).max(axis=1)
        V = np.where(np.isneginf(V), 0.0, V)  # a state without actions (terminal) earns nothing more
    return float(start @ V)


class ExactEvaluator:
    """Exact expected H-step return of an agent's greedy policy on a model-known env whose
    observation is the state index (the agent must see the raw state: no observation wrappers)."""

    def __init__(self, env: Any) -> None:
        unwrapped = env.unwrapped
        self.horizon = env.spec.max_episode_steps
        start = _start_distribution(unwrapped)
        if start is None:
            raise ValueError(
                f"{env.spec.id if env.spec else env} has no known start distribution; use ExactEvaluator.for_env"
            )
        self.start = start
        self.R, self.C, _ = _model_with_stay(unwrapped)
        self.masks = tabular_model(unwrapped).allowed.astype(np.int8)  # what info["action_mask"] would say

    @classmethod
    def for_env(cls, env: Any) -> ExactEvaluator | None:
        """An evaluator, or None when `env` has no model, start distribution, horizon or state observations."""
        unwrapped = env.unwrapped
        if not hasattr(unwrapped, "P") or _start_distribution(unwrapped) is None or env.spec is None:
            return None
        if not env.spec.max_episode_steps or not isinstance(env.observation_space, spaces.Discrete):
            return None
        if env.observation_space.n != len(unwrapped.P) or env.observation_space.start != 0:
            return None
        return cls(env)

    def __call__(self, agent: Any, repeats: int = 3) -> float | None:
        """The greedy policy's exact return; None if the agent's greedy action in some state varies
        between calls (a stochastic policy has no single action per state to evaluate)."""
        masked = getattr(agent, "uses_action_mask", False)
        policy = []
        for state, mask in enumerate(self.masks):
            kwargs = {"action_mask": mask} if masked else {}
            actions = {int(agent.act(state, greedy=True, **kwargs)) for _ in range(repeats)}
            if len(actions) > 1:
                return None
            policy.append(actions.pop())
        return policy_return(self.R, self.C, np.array(policy), self.start, self.horizon)


def reference_returns(env_id: str, env_kwargs: dict[str, Any] | None = None) -> Reference | None:
    """Exact references for `env_id`, or None when the env has no model, start distribution or horizon."""
    env = make_env(env_id, **(env_kwargs or {}))
    unwrapped = env.unwrapped
    horizon = env.spec.max_episode_steps if env.spec is not None else None
    start = _start_distribution(unwrapped)
    if not hasattr(unwrapped, "P") or start is None or not horizon:
        return None
    R, C, allowed = _model_with_stay(unwrapped)
    choices = [np.flatnonzero(row) for row in allowed]
    if np.prod([len(c) for c in choices], dtype=float) <= MAX_ENUMERATED_POLICIES:
        stationary = max(policy_return(R, C, np.array(p), start, horizon) for p in itertools.product(*choices))
        label = "best state-only policy"
    else:
        policy = value_iteration(env, 0.99).policy
        stationary, label = policy_return(R, C, policy, start, horizon), "value-iteration policy (gamma 0.99)"
    env.close()
    return Reference(horizon, optimal_return(R, C, allowed, start, horizon), stationary, label)
