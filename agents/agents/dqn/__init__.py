"""DQN and its extensions (Double DQN, dueling heads, n-step returns, prioritized replay) in PyTorch.

`dqn.py` is the algorithm, `networks.py` the Q-networks, `replay.py` the replay buffers and
`collect.py` the env stepping (single or vector env), `numpy_acting.py` the cell CNN's acting pass on one
image in numpy, and `atari.py` the full-length Atari command. Registered as `dqn` in `agents.base`; see README.md.
"""

from agents.dqn.dqn import DQN, DQNConfig, TrainingDivergedError

__all__ = ["DQN", "DQNConfig", "TrainingDivergedError"]
