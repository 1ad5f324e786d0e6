"""A Gymnasium env for any small tabular MDP given by its transition and reward tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from gym_mdp import render

INVALID_ACTION_MODES = ("raise", "stay")
PROBABILITY_TOLERANCE = 1e-8
RESET_OPTIONS = ("state",)
# Bounds of the tables, checked before the dense (states, actions, states) arrays are allocated.
MAX_STATES = 1024
MAX_ACTIONS = 256
MAX_TABLE_ENTRIES = 2**20  # states x actions x next states


class InvalidMDPError(ValueError):
    """A malformed table or argument of `TabularMDP`: the message names the argument (with the index
    of the entry, e.g. `transitions[2][0]`), the value and what is allowed. A ValueError, so code that
    catches ValueError keeps working."""


class TabularMDP(gym.Env[int, int]):
    """A finite Markov decision process defined by tables.

    ## Description
    The agent is in one of `n_states` states. In state `s` it picks one of the actions allowed there;
    the next state `s'` is drawn with probability `T[s][a][s']` and the agent receives `R[s][a][s']`.
    Entering a state listed in `terminal_states` ends the episode.

    ## Action Space
    `Discrete(n_actions)`. Not every action is allowed in every state: `info["action_mask"]` (int8,
    1 = allowed) and `action_masks()` tell which, so masked agents (e.g. sb3-contrib's MaskablePPO)
    never pick a disallowed one. What happens on a disallowed action is set by `invalid_action`:
    `"raise"` raises a `ValueError` naming the state and its allowed actions; `"stay"` keeps the
    state, gives reward 0 and sets `info["invalid_action"] = True`. An action outside the action space
    always raises a `ValueError`.

    ## Observation Space
    `Discrete(n_states)`: the index of the current state, as a Python `int`.

    ## Rewards
    `R[s][a][s']` for the transition taken; 0 for a disallowed action under `invalid_action="stay"`.

    ## Starting State
    `start_state`: a state index, or a probability distribution over states sampled with
    `self.np_random`. `reset(options={"state": s})` starts in state `s` instead.

    ## Episode End
    Terminated on entering a state of `terminal_states` (none by default); truncation is left to the
    `TimeLimit` wrapper that `gym.make` adds from the registered `max_episode_steps`.

    ## Model
    `self.P[s][a] = [(probability, next_state, reward, terminated), ...]`, Gymnasium's toy_text form
    (as in FrozenLake), listing next states with non-zero probability. Disallowed actions are absent
    from `P[s]`, so a planner that iterates over `P[s].items()` sees exactly the allowed actions.

    ## Info
    `action_mask` (int8 array of length `n_actions`) for the state just reached, `invalid_action`
    (bool), and `prob`, the probability of the transition just taken (1.0 after `reset`).

    ## Arguments
    - `transitions`: nested sequence `T[s][a][s']` of probabilities; `T[s][a]` may be `None` for an
      action that is not allowed in `s`. Every row must sum to 1 within 1e-8.
    - `rewards`: nested sequence `R[s][a][s']` of the same shape (`None` rows allowed where `T` has them).
    - `allowed_actions`: per state, the allowed action indices; defaults to the actions whose
      transition row is not `None`.
    - `start_state`: int or a sequence of `n_states` probabilities (default 0).
    - `terminal_states`: states whose entry terminates the episode (default none).
    - `invalid_action`: `"stay"` (default) or `"raise"`, see above.
    - `render_mode`: `"ansi"`, `"rgb_array"`, `"human"` or `None`.

    ## Bounds and errors
    Tables are lists, tuples or numpy arrays (of lists...) of numbers (no strings or bools), with at
    most `MAX_STATES` (1024) states, `MAX_ACTIONS` (256) actions and `MAX_TABLE_ENTRIES` (2**20)
    entries `n_states * n_actions * n_states`, checked before the dense tables are allocated. Any
    malformed argument (wrong type, ragged table, negative, NaN or infinite entry, a row not summing
    to 1, an index out of range, a size over its bound) raises `InvalidMDPError`, a `ValueError`
    subclass whose message names the argument and entry, the value and what is allowed.
    `reset(options=...)` takes only `{"state": s}`; unknown options and bad states raise a ValueError
    naming them, as every env of this suite does.

    ## Version History
    - v0: initial version.
    """

    # Discrete spaces (their samples are np.int64; Any: the env's states and actions are Python ints too)
    observation_space: spaces.Discrete[Any]
    action_space: spaces.Discrete[Any]

    metadata = {"render_modes": ["ansi", "rgb_array", "human"], "render_fps": 4}

    def __init__(
        self,
        transitions: Sequence[Sequence[Sequence[float] | None]],
        rewards: Sequence[Sequence[Sequence[float] | None]],
        allowed_actions: Sequence[Sequence[int]] | None = None,
        start_state: int | Sequence[float] = 0,
        terminal_states: Sequence[int] = (),
        invalid_action: str = "stay",
        render_mode: str | None = None,
    ) -> None:
        self.transition_table, self.reward_table, self.allowed_mask = _validate_tables(
            transitions, rewards, allowed_actions
        )
        n_states, n_actions = self.allowed_mask.shape
        self.start_distribution = _validate_start(start_state, n_states)
        self.terminal_mask = _validate_terminal(terminal_states, n_states)
        for s in np.flatnonzero(~self.terminal_mask & ~self.allowed_mask.any(axis=1)):
            raise InvalidMDPError(f"state {s} is not terminal but has no allowed action")
        if not isinstance(invalid_action, str) or invalid_action not in INVALID_ACTION_MODES:
            raise InvalidMDPError(f"invalid_action must be one of {INVALID_ACTION_MODES}, got {invalid_action!r}")
        if render_mode is not None and (
            not isinstance(render_mode, str) or render_mode not in self.metadata["render_modes"]
        ):
            raise InvalidMDPError(
                f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}"
            )

        self.invalid_action = invalid_action
        self.render_mode = render_mode
        self.observation_space = spaces.Discrete(n_states)
        self.action_space = spaces.Discrete(n_actions)
        self.P = self._toy_text_model()
        self._cdf = _sampling_cdf(self.transition_table)
        self._start_cdf = _sampling_cdf(self.start_distribution[None, None])[0, 0]
        self._mask_int8 = self.allowed_mask.astype(np.int8)
        self._reward_range = float(np.abs(self.reward_table).max()) or 1.0

        self.state: int | None = None
        self.last_action: int | None = None
        self.last_reward: float = 0.0
        self.episode_over = False
        self._window: render.Window | None = None

    # ----------------------------------------------------------------- Gymnasium API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[int, dict]:
        options = {} if options is None else options  # checked before reseeding: a refused reset changes nothing
        if not isinstance(options, dict):
            raise ValueError(f"reset options must be a dict, got {options!r:.80}")
        unknown = sorted(set(options) - set(RESET_OPTIONS), key=repr)
        if unknown:
            raise ValueError(f"unknown reset option(s) {unknown}; allowed: {list(RESET_OPTIONS)}")
        state = options.get("state")
        if "state" in options and not (
            isinstance(state, (int, np.integer))
            and not isinstance(state, (bool, np.bool_))
            and 0 <= state < self.observation_space.n
        ):
            raise ValueError(f"options['state'] must be a state in 0..{self.observation_space.n - 1}, got {state!r}")
        super().reset(seed=seed)
        self.state = _sample(self._start_cdf, self.np_random) if state is None else int(state)
        self.last_action, self.last_reward, self.episode_over = None, 0.0, False
        if self.render_mode == "human":
            self.render()
        return self.state, self._info(invalid=False, prob=1.0)

    def step(self, action: int) -> tuple[int, SupportsFloat, bool, bool, dict]:
        if self.state is None:
            raise gym.error.ResetNeeded("Call reset() before step().")
        if self.episode_over:
            raise gym.error.ResetNeeded("The episode has terminated; call reset() before step().")
        if isinstance(action, (bool, np.bool_)) or not self.action_space.contains(action):
            raise ValueError(
                f"action {action!r} is not in the action space: expected an integer in 0..{self.action_space.n - 1}"
            )
        s, a = self.state, int(action)
        self.last_action = a
        if not self.allowed_mask[s, a]:
            allowed = np.flatnonzero(self.allowed_mask[s]).tolist()
            if self.invalid_action == "raise":
                raise ValueError(f"action {a} is not allowed in state {s}; allowed actions: {allowed}")
            self.last_reward = 0.0
            if self.render_mode == "human":
                self.render()
            return s, 0.0, False, False, self._info(invalid=True, prob=1.0)

        next_state = _sample(self._cdf[s, a], self.np_random)
        reward = float(self.reward_table[s, a, next_state])
        terminated = bool(self.terminal_mask[next_state])
        self.state, self.last_reward, self.episode_over = next_state, reward, terminated
        if self.render_mode == "human":
            self.render()
        return (
            next_state,
            reward,
            terminated,
            False,
            self._info(invalid=False, prob=float(self.transition_table[s, a, next_state])),
        )

    def action_masks(self) -> np.ndarray:
        """Boolean mask of the actions allowed in the current state (sb3-contrib's MaskablePPO API)."""
        if self.state is None:
            raise gym.error.ResetNeeded("Call reset() before action_masks().")
        return self.allowed_mask[self.state].copy()

    def render(self) -> str | np.ndarray | None:
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode= to gym.make.")
            return None
        if self.state is None:
            raise gym.error.ResetNeeded("Call reset() before render().")
        if self.render_mode == "ansi":
            return render.ansi_text(self.state, self.last_action, self.last_reward, self.allowed_mask)
        frame = render.rgb_diagram(
            self.state, self.observation_space.n, self.last_reward / self._reward_range, self.terminal_mask
        )
        if self.render_mode == "rgb_array":
            return frame
        if self._window is None:
            self._window = render.Window("gym_mdp", self.metadata["render_fps"])
        self._window.show(frame)
        return None

    def close(self) -> None:
        if self._window is not None:
            self._window.close()
            self._window = None

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_window"] = None  # a pygame window cannot be pickled; a copy opens its own
        return state

    # ----------------------------------------------------------------- helpers
    def _info(self, *, invalid: bool, prob: float) -> dict:
        return {"action_mask": self._mask_int8[self.state].copy(), "invalid_action": invalid, "prob": prob}

    def _toy_text_model(self) -> dict[int, dict[int, list[tuple[float, int, float, bool]]]]:
        model: dict[int, dict[int, list[tuple[float, int, float, bool]]]] = {}
        for s, row in enumerate(self.transition_table):
            model[s] = {}
            for a in np.flatnonzero(self.allowed_mask[s]):
                model[s][int(a)] = [
                    (float(row[a, s2]), int(s2), float(self.reward_table[s, a, s2]), bool(self.terminal_mask[s2]))
                    for s2 in np.flatnonzero(row[a] > 0)
                ]
        return model


# --------------------------------------------------------------------- validation
def _check_sequence(value: Any, name: str) -> Any:
    """`value` if it is a list, tuple or numpy array (not a string), else an InvalidMDPError."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        got = f"{type(value).__name__} {value!r:.80}" if value is not None else "None"
        raise InvalidMDPError(f"{name} must be a list (or tuple, or numpy array), got {got}")
    return value


def _check_index(value: Any, n: int, name: str, what: str) -> int:
    """`value` as an int in 0..n-1 (bools refused), else an InvalidMDPError naming `name`."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, (bool, np.bool_)) or not 0 <= value < n:
        raise InvalidMDPError(f"{name} contains {value!r}; {what} are 0..{n - 1} (integers)")
    return int(value)


def _validate_tables(
    transitions: Sequence, rewards: Sequence, allowed_actions: Sequence | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check the nested tables and return dense (T, R, allowed) arrays, zeros where disallowed.
    Sizes are checked against the bounds before the dense arrays are allocated."""
    _check_sequence(transitions, "transitions")
    _check_sequence(rewards, "rewards")
    n_states = len(transitions)
    if n_states == 0:
        raise InvalidMDPError("transitions must describe at least one state")
    if n_states > MAX_STATES:
        raise InvalidMDPError(f"transitions has {n_states} states, more than the limit of {MAX_STATES}")
    n_actions = len(_check_sequence(transitions[0], "transitions[0]"))
    if n_actions == 0:
        raise InvalidMDPError("transitions[0] lists no actions; every state needs the same number of actions (>= 1)")
    if n_actions > MAX_ACTIONS:
        raise InvalidMDPError(f"transitions[0] has {n_actions} actions, more than the limit of {MAX_ACTIONS}")
    if n_states * n_actions * n_states > MAX_TABLE_ENTRIES:
        raise InvalidMDPError(
            f"{n_states} states x {n_actions} actions x {n_states} next states = {n_states * n_actions * n_states} "
            f"table entries, more than the limit of {MAX_TABLE_ENTRIES}"
        )
    if len(rewards) != n_states:
        raise InvalidMDPError(f"rewards has {len(rewards)} states but transitions has {n_states}")

    T = np.zeros((n_states, n_actions, n_states))
    R = np.zeros((n_states, n_actions, n_states))
    has_row = np.zeros((n_states, n_actions), dtype=bool)
    for s in range(n_states):
        for name, table in (("transitions", transitions), ("rewards", rewards)):
            if len(_check_sequence(table[s], f"{name}[{s}]")) != n_actions:
                raise InvalidMDPError(
                    f"{name}[{s}] has {len(table[s])} actions, expected {n_actions} (ragged table; use None "
                    "for an action that is not allowed)"
                )
        for a in range(n_actions):
            row, reward_row = transitions[s][a], rewards[s][a]
            if row is None:
                continue
            has_row[s, a] = True
            T[s, a] = _probability_row(row, n_states, f"transitions[{s}][{a}]")
            if reward_row is None:
                raise InvalidMDPError(f"rewards[{s}][{a}] is None but transitions[{s}][{a}] is a transition row")
            R[s, a] = _number_row(reward_row, n_states, f"rewards[{s}][{a}]", "one reward per next state")
            if not np.all(np.isfinite(R[s, a])):
                raise InvalidMDPError(f"rewards[{s}][{a}] contains a non-finite value: {list(reward_row)}")

    if allowed_actions is None:
        allowed = has_row
    else:
        if len(_check_sequence(allowed_actions, "allowed_actions")) != n_states:
            raise InvalidMDPError(f"allowed_actions has {len(allowed_actions)} states, expected {n_states}")
        allowed = np.zeros_like(has_row)
        for s, actions in enumerate(allowed_actions):
            for a in _check_sequence(actions, f"allowed_actions[{s}]"):
                a = _check_index(a, n_actions, f"allowed_actions[{s}]", "actions")
                if not has_row[s, a]:
                    raise InvalidMDPError(
                        f"action {a} is allowed in state {s} but transitions[{s}][{a}] has no transition row"
                    )
                allowed[s, a] = True
    T[~allowed] = 0.0
    R[~allowed] = 0.0
    return T, R, allowed


def _number_row(row: Any, n: int, name: str, meaning: str) -> np.ndarray:
    """`row` as a float array of shape (n,), else an InvalidMDPError (no strings, bools or nesting)."""
    try:
        values = np.asarray(_check_sequence(row, name))
    except ValueError as error:  # a ragged nested sequence
        raise InvalidMDPError(f"{name} is not a flat list of numbers ({error})") from None
    if values.shape != (n,):
        raise InvalidMDPError(f"{name} has shape {values.shape}, expected ({n},): {meaning}")
    if values.dtype.kind not in "iuf" or (
        not isinstance(row, np.ndarray) and any(isinstance(value, (bool, np.bool_)) for value in row)
    ):  # np.asarray turns [True, 0.5] into numbers: the bools are looked for in the list itself
        raise InvalidMDPError(f"{name} must hold numbers (no bools), got {values.dtype} values: {list(row)!r:.80}")
    return values.astype(np.float64)


def _probability_row(row: Any, n: int, name: str) -> np.ndarray:
    probs = _number_row(row, n, name, "one probability per state")
    if not np.all(np.isfinite(probs)) or np.any(probs < 0):
        raise InvalidMDPError(f"{name} has a negative or non-finite probability: {list(row)}")
    if abs(probs.sum() - 1.0) > PROBABILITY_TOLERANCE:
        raise InvalidMDPError(f"{name} sums to {float(probs.sum())!r}, expected 1 within {PROBABILITY_TOLERANCE}")
    return probs


def _validate_start(start_state: int | Sequence[float], n_states: int) -> np.ndarray:
    if isinstance(start_state, (int, np.integer)) and not isinstance(start_state, (bool, np.bool_)):
        if not 0 <= start_state < n_states:
            raise InvalidMDPError(f"unknown start state {start_state}; states are 0..{n_states - 1}")
        distribution = np.zeros(n_states)
        distribution[start_state] = 1.0
        return distribution
    if not isinstance(start_state, (Sequence, np.ndarray)) or isinstance(start_state, (str, bytes)):
        raise InvalidMDPError(
            f"start_state must be a state index or a list of {n_states} probabilities, got {start_state!r:.80}"
        )
    return _probability_row(start_state, n_states, "start_state distribution")


def _validate_terminal(terminal_states: Any, n_states: int) -> np.ndarray:
    if isinstance(terminal_states, (set, frozenset)):
        terminal_states = sorted(terminal_states, key=repr)
    mask = np.zeros(n_states, dtype=bool)
    for s in _check_sequence(terminal_states, "terminal_states"):
        if not (isinstance(s, (int, np.integer)) and not isinstance(s, (bool, np.bool_)) and 0 <= s < n_states):
            raise InvalidMDPError(f"unknown terminal state {s!r}; states are 0..{n_states - 1}")
        mask[s] = True
    return mask


# --------------------------------------------------------------------- sampling
def _sampling_cdf(probabilities: np.ndarray) -> np.ndarray:
    """Cumulative sums along the last axis, exactly 1.0 from the last non-zero entry on.

    With `searchsorted(cdf, u, side="right")` for `u` in [0, 1) this never picks a zero-probability
    entry, whatever the rounding of the sums.
    """
    cdf = np.cumsum(probabilities, axis=-1)
    last_positive = probabilities.shape[-1] - 1 - np.argmax(probabilities[..., ::-1] > 0, axis=-1)
    index = np.arange(probabilities.shape[-1])
    cdf[index >= last_positive[..., None]] = 1.0
    return cdf


def _sample(cdf: np.ndarray, rng: np.random.Generator) -> int:
    return int(np.searchsorted(cdf, rng.random(), side="right"))
