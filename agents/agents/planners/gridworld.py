"""The gridworld-v0 reference planner: walk to the nearest goal by breadth-first search, avoiding fires.

It reads the true state of `gym_gridworld.GridworldEnv` (`env.unwrapped.game`, the whole world
whatever the observation shows) and plans one step at a time:

1. breadth-first search from the agent over floor cells that hold no fire; the first move of a
   shortest path to the nearest goal (ties: the first action in the order up, down, left, right);
2. when every goal is fenced in by fires, the same search through fires (it steps on one only
   because it must);
3. with no goal at all (`n_goals=0`), the first move that neither bumps into the wall nor steps on
   a fire, if there is one.

The goal that is collected reappears at a random free cell, so the nearest goal is a strong but not
an optimal policy; it never bumps into the wall and never steps on a fire it could walk around.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

GOAL_KIND, FIRE_KIND = 3, 4  # gym_gridworld.gridworld.GOAL, FIRE
N_ACTIONS = 4


def _first_move_to_goal(next_cell: np.ndarray, start: int, goals: set[int], blocked: set[int]) -> int | None:
    """The first action of a shortest path from `start` to any cell of `goals` that never enters
    `blocked` (moves that stay in place are not moves), or None when no goal is reachable."""
    first: dict[int, int] = {start: -1}
    queue = deque([start])
    while queue:
        cell = queue.popleft()
        for action in range(N_ACTIONS):
            target = int(next_cell[cell, action])
            if target in first or target in blocked:
                continue
            first[target] = action if cell == start else first[cell]
            if target in goals:
                return first[target]
            queue.append(target)
    return None


def gridworld_action(game: Any) -> int:
    """The planner's action for world 0 of a `GoalsAndFires` game (`GridworldEnv.unwrapped.game`)."""
    next_cell = game.picture.next_cell
    agent = int(game.agent[0])
    objects = game.objects[0]
    goals = {int(c) for c, kind in zip(objects, game.slot_kinds) if kind == GOAL_KIND}
    fires = {int(c) for c, kind in zip(objects, game.slot_kinds) if kind == FIRE_KIND}
    if goals:
        for blocked in (fires, set()):
            action = _first_move_to_goal(next_cell, agent, goals, blocked)
            if action is not None:
                return action
    for action in range(N_ACTIONS):  # no goal: any real move that avoids fires
        target = int(next_cell[agent, action])
        if target != agent and target not in fires:
            return action
    return 0
