"""Baselines to compare our agents with: Stable-Baselines3's DQN/PPO/A2C and sb3-contrib's
MaskablePPO behind the `Agent` interface (`sb3.py`) and a uniform random policy (`random_agent.py`).
Their per-env hyperparameters live with every other algorithm's in `agents.hyperparams`."""
