"""The classic three-state MDP (states 0-2, actions 0-2, not all allowed everywhere)."""

from __future__ import annotations

from gym_mdp.tabular_mdp import TabularMDP

# T[s][a][s']; None: the action is not allowed in that state.
TRANSITIONS: list[list[list[float] | None]] = [
    [[0.7, 0.3, 0.0], [1.0, 0.0, 0.0], [0.8, 0.2, 0.0]],
    [[0.0, 1.0, 0.0], None, [0.0, 0.0, 1.0]],
    [None, [0.8, 0.1, 0.1], None],
]
# R[s][a][s']
REWARDS = [
    [[+10, 0, 0], [0, 0, 0], [0, 0, 0]],
    [[0, 0, 0], [0, 0, 0], [0, 0, -50]],
    [[0, 0, 0], [+40, 0, 0], [0, 0, 0]],
]
ALLOWED_ACTIONS = [[0, 1, 2], [0, 2], [1]]


class ThreeStateMDP(TabularMDP):
    """The three-state MDP used in many RL courses to introduce value iteration and Q-learning.

    ## Description
    From state 0, action 0 usually keeps the agent in 0 with +10; action 2 may lead to state 1.
    In state 1, action 2 costs -50 and leads to state 2; from there action 1 pays +40 and usually
    returns to state 0. Whether the detour through the -50 is worth it depends on the discount:
    the optimal policy is (0, 0, 1) for discount 0.90 and (0, 2, 1) for 0.95.

    | state | allowed actions |
    |-------|-----------------|
    | 0     | 0, 1, 2         |
    | 1     | 0, 2            |
    | 2     | 1               |

    Transition probabilities and rewards are the module constants `TRANSITIONS` and `REWARDS`
    (`T[s][a][s']`, `R[s][a][s']`).

    ## Spaces
    Observation `Discrete(3)`, action `Discrete(3)`; `info["action_mask"]` and `action_masks()` give
    the allowed actions.

    ## Starting State and Episode End
    Starts in state 0. No state is terminal: `mdp-v0` episodes are truncated after 100 steps.

    ## Arguments
    - `invalid_action`: `"stay"` (registered default, so an unmasked agent such as SB3's DQN can train:
      a disallowed action keeps the state with reward 0 and `info["invalid_action"] = True`) or
      `"raise"` (a `ValueError` naming the state and its allowed actions).
    - `render_mode`: `"ansi"`, `"rgb_array"`, `"human"` or `None`.

    ## Version History
    - v0: initial version.
    """

    def __init__(self, invalid_action: str = "stay", render_mode: str | None = None) -> None:
        super().__init__(
            TRANSITIONS,
            REWARDS,
            allowed_actions=ALLOWED_ACTIONS,
            start_state=0,
            invalid_action=invalid_action,
            render_mode=render_mode,
        )
