"""Tabular methods: exact planners, TD learners, and wrappers that make observations tabular.

- `planners`: `value_iteration`, `policy_iteration` over `env.unwrapped.P` (toy_text model form).
- `learners`: `QLearning` ("tabular-q"), `Sarsa` ("sarsa"), `ExpectedSarsa` ("expected-sarsa"),
  `DoubleQLearning` ("double-q"), sharing one loop and one `.npz` file format.
- `Discretize` (bins per dimension), `TileCoding` (offset tilings) and `AsMultiDiscrete` (integer
  Box entries) turn `Box` observations into ones a table can index (`state_index` says how).
"""

from agents.tabular.discretize import AsMultiDiscrete, Discretize
from agents.tabular.learners import DoubleQLearning, ExpectedSarsa, QLearning, Sarsa, TabularAgent, TabularConfig
from agents.tabular.tiles import ActiveTiles, TileCoding

__all__ = [
    "ActiveTiles",
    "AsMultiDiscrete",
    "Discretize",
    "DoubleQLearning",
    "ExpectedSarsa",
    "QLearning",
    "Sarsa",
    "TabularAgent",
    "TabularConfig",
    "TileCoding",
]
