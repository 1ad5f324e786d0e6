"""Reference planners: policies that read an env's true state (`env.unwrapped`), as privileged references.

    from agents.planners import PlannerAgent
    planner = PlannerAgent(env)                      # gridworld-v0 or snake-v0
    action = planner.act(obs, env=env)

- `gridworld.gridworld_action`: breadth-first search to the nearest goal avoiding fires.
- `snake.SnakePlanner`: breadth-first search to the food, taken only when the tail stays reachable
  after eating; else follow the tail.

They live in their own package (not in `agents.tabular.planners`, which solves models by value
iteration) because they are hand-written heuristics for two particular envs, used as the
"planner" reference of the comparison reports (`agents.compare.report`).
"""

from agents.planners.agent import PLANNER_ENVS, PlannerAgent, planner_kind

__all__ = ["PLANNER_ENVS", "PlannerAgent", "planner_kind"]
