"""Hand-written tabular and DQN agents, Atari preprocessing and Stable-Baselines3 baselines.

    from agents import make_agent, load_agent
    agent = make_agent("tabular-q", env, {"gamma": 0.95}, seed=0).train(env, 100_000)

Command line: `python -m agents --help`.
"""

from agents.base import Agent, algorithm_names, load_agent, make_agent

__all__ = ["Agent", "make_agent", "load_agent", "algorithm_names"]
__version__ = "0.1.0"
