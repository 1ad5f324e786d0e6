"""Baselines to compare our agents with: Stable-Baselines3's DQN/PPO/A2C and sb3-contrib's
MaskablePPO behind the `Agent` interface (`sb3.py`), a uniform random policy (`random_agent.py`),
and the per-env hyperparameters of every algorithm in the comparison (`hyperparams/*.yml`, read by
`per_env.py`)."""
