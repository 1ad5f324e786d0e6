"""Stable-Baselines3 baselines as `Agent`s: `sb3-dqn`, `sb3-ppo`, `sb3-a2c` and `sb3-maskable-ppo`.

Thin adapters: each one builds the SB3 (or sb3-contrib) model from a `Config` dataclass whose
fields are the SB3 constructor arguments of the same name, with SB3's own defaults (a test checks
them against SB3's signatures), plus these fields of ours:

- `policy`: `"auto"` picks `CnnPolicy` for uint8 images of at least 36x36 pixels (the smallest the
  Nature CNN accepts), `MultiInputPolicy` for `Dict` observations and `MlpPolicy` otherwise;
- `net_arch` / `activation`: the hidden layers (for PPO/A2C: of the actor and of the critic each);
- `cell_pixels` / `cnn_channels`: for images drawn as flat-coloured cells, the same cell CNN as our
  DQN's (`agents.common.cell_cnn`) as SB3's features extractor (`CnnPolicy` with
  `features_extractor_class`), followed by `net_arch`: the comparison then pits one network against itself;
- `lr_schedule` (and PPO's `clip_range_schedule`): `"constant"` or `"linear"` (decay to 0 over
  training, rl-zoo3's `lin_<value>`);
- `n_envs`: how many env copies the agent trains on. `train` takes a `gym.Env` (n_envs = 1) or a
  `gymnasium.vector.SyncVectorEnv` of `n_envs` copies; its sub-envs go into SB3's `DummyVecEnv`
  (each wrapped in SB3's `Monitor` for SB3's own episode statistics), so SB3 steps exactly the envs
  our agents would get.

Per-env hyperparameters (rl-zoo3's where it has the env) are in `baselines/hyperparams/<algo>.yml`;
the comparison runner applies them (`agents.hyperparams`).

Training budget: `train(env, total_steps)` stops after exactly `total_steps` env steps (rounded up
to a whole vector step): SB3's `learn` alone would finish PPO's last rollout and overshoot by up to
`n_steps * n_envs` steps, which would give it more experience than the algorithms it is compared to.

Training in several calls: a second `train` call continues, as our own agents' do: the env step count
(what `callback(agent, env_steps)` and the episode log see), `learning_starts`, the target-network period,
the replay buffer and DQN's epsilon when given as `exploration_steps` go on from where the last call
stopped (SB3's `learn(reset_num_timesteps=False)`). Schedules given as fractions of training
(`lr_schedule="linear"`, `exploration_fraction`, PPO's `clip_range_schedule`) are, as in SB3, fractions of
all env steps up to the end of the current call. Each call starts new episodes (SB3 marks the replay
buffer's last transition as an episode end). A loaded agent starts from step 0 (counters are not saved).

Masking: `sb3-maskable-ppo` trains with the env's `action_masks()` (sb3-contrib's protocol, which
`mdp-v0` implements) and acts with `act(obs, action_mask=info["action_mask"])`;
`agents.common.evaluation.evaluate` passes the mask to agents whose `uses_action_mask` is true.

Saving and loading: SB3's own `model.save()` writes a zip whose `data` entry `model.load()`
unpickles with cloudpickle, so loading such a file can run any code it carries. Our checkpoints
never unpickle: `save` writes the policy's `state_dict` (tensors), the hyperparameters (our Config,
plain values) and the observation/action spaces (plain values and tensors) with
`agents.common.checkpoint.save_torch`; `load` reads them with `torch.load(..., weights_only=True)`,
rebuilds the SB3 model from the config and the spaces and loads the `state_dict` into it. Not
saved: the optimizer state, the replay/rollout buffer and the step counters. A loaded agent acts
exactly as the saved one did and can train further, but continued training is not bit-identical to
an uninterrupted run.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import stable_baselines3
import torch
import torch.nn as nn
from gymnasium import spaces
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import configure
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.preprocessing import is_image_space
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from stable_baselines3.common.utils import LinearSchedule
from stable_baselines3.common.vec_env import DummyVecEnv

from agents.base import Agent, Callback, make_config
from agents.common.cell_cnn import CellCNN
from agents.common.checkpoint import CheckpointError, check_finite_tensors, load_torch, save_torch
from agents.common.envs import MAX_N_ENVS
from agents.common.interrupt import DeferredInterrupt
from agents.common.logging import TrainLogger
from agents.common.spaces import SpacesOnlyEnv, space_from_dict, space_to_dict, spaces_of

ACTIVATIONS = ("tanh", "relu", "elu", "leaky_relu")
SCHEDULES = ("constant", "linear")
POLICIES = ("auto", "MlpPolicy", "CnnPolicy", "MultiInputPolicy")
NATURE_CNN_MIN_SIDE = 36  # 8x8 stride 4, 4x4 stride 2, 3x3 stride 1 need at least 36 pixels

HELP = {
    "policy": f"SB3 policy, one of {POLICIES}; auto: CnnPolicy for uint8 images >= 36x36, "
    "MultiInputPolicy for Dict observations, MlpPolicy otherwise",
    "net_arch": "hidden layer sizes (for PPO/A2C: of the actor and of the critic each)",
    "activation": f"hidden layer activation, one of {ACTIVATIONS}",
    "cell_pixels": "side in pixels of one cell of a cell-drawn image (gridworld-v0: 12); set: CnnPolicy with "
    "the cell CNN (agents.common.cell_cnn) as features extractor",
    "cnn_channels": "channels of the cell CNN: the cell-reading convolution, then one 3x3 convolution per "
    "further entry",
    "learning_rate": "optimizer learning rate (the start value when lr_schedule is linear)",
    "lr_schedule": f"learning rate schedule, one of {SCHEDULES} (linear: decay to 0, rl-zoo3's lin_)",
    "gamma": "discount factor",
    "n_envs": "env copies trained on in parallel (a SyncVectorEnv of n_envs copies)",
    "max_grad_norm": "gradient norm clipping",
    "device": "torch device: auto, cpu or cuda",
    "buffer_size": "replay buffer capacity in transitions",
    "learning_starts": "env steps of random actions before learning starts",
    "batch_size": "minibatch size",
    "tau": "target network soft update coefficient (1.0: hard update)",
    "train_freq": "env steps between two training phases (all n_envs copies counted: a multiple of n_envs)",
    "gradient_steps": "gradient steps per training phase (-1: as many as env steps collected)",
    "n_steps": "steps per env per rollout (DQN: n-step return length)",
    "target_update_interval": "env steps between target network updates",
    "exploration_fraction": "fraction of training over which epsilon decays",
    "exploration_steps": "env steps over which epsilon decays; overrides exploration_fraction (rl-zoo3's fraction "
    "x its n_timesteps), so the schedule does not depend on the budget",
    "exploration_initial_eps": "initial epsilon",
    "exploration_final_eps": "final epsilon",
    "n_epochs": "passes over each rollout",
    "gae_lambda": "GAE lambda",
    "clip_range": "PPO clipping parameter (the start value when clip_range_schedule is linear)",
    "clip_range_schedule": f"clip range schedule, one of {SCHEDULES}",
    "normalize_advantage": "normalize advantages per minibatch",
    "ent_coef": "entropy bonus coefficient",
    "vf_coef": "value loss coefficient",
    "rms_prop_eps": "RMSprop epsilon",
    "use_rms_prop": "RMSprop (True) or Adam (False)",
}


def hp(default: Any, name: str) -> Any:
    """A Config field with its default and the help text shared by every adapter."""
    return field(default=default, metadata={"help": HELP[name]})


# Fields checked by `check_config`, by rule.
_POSITIVE_INTS = {"n_envs", "buffer_size", "batch_size", "train_freq", "n_steps", "target_update_interval", "n_epochs"}
_POSITIVE_OR_NONE = {"exploration_steps"}
_NON_NEGATIVE = {"learning_starts", "ent_coef", "vf_coef"}
_POSITIVE = {"learning_rate", "max_grad_norm", "clip_range", "rms_prop_eps"}
_UNIT_INTERVAL = {
    "gamma",
    "tau",
    "gae_lambda",
    "exploration_fraction",
    "exploration_initial_eps",
    "exploration_final_eps",
}
_CHOICES = {"policy": POLICIES, "activation": ACTIVATIONS, "lr_schedule": SCHEDULES, "clip_range_schedule": SCHEDULES}


# Upper bounds checked before SB3 allocates anything (a typo such as 10**11 is then an error, not a MemoryError).
SIZE_LIMITS = {"buffer_size": 10**9, "batch_size": 2**16, "n_steps": 2**24, "n_epochs": 10**4, "gradient_steps": 10**4}
MAX_LAYER_SIZE = 2**14  # units of one hidden layer of net_arch


def check_config(config: Any) -> None:
    """Raise a ValueError naming the field and what is allowed for the first invalid value."""
    for name, value in dataclasses.asdict(config).items():
        if name in _POSITIVE_INTS and not (isinstance(value, int) and value > 0):
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if name in SIZE_LIMITS and isinstance(value, int) and value > SIZE_LIMITS[name]:
            raise ValueError(f"{name} must be at most {SIZE_LIMITS[name]:,} (SIZE_LIMITS), got {value}")
        if name == "n_envs" and value > MAX_N_ENVS:
            raise ValueError(f"n_envs must be at most {MAX_N_ENVS} (env copies stepped one by one), got {value}")
        if name in _POSITIVE_OR_NONE and value is not None and not (isinstance(value, int) and value > 0):
            raise ValueError(f"{name} must be a positive integer or None, got {value!r}")
        if name in _NON_NEGATIVE and not value >= 0:
            raise ValueError(f"{name} must be >= 0, got {value!r}")
        if name in _POSITIVE and not value > 0:
            raise ValueError(f"{name} must be > 0, got {value!r}")
        if name in _UNIT_INTERVAL and not 0 <= value <= 1:
            raise ValueError(f"{name} must be in [0, 1], got {value!r}")
        if name in _CHOICES and value not in _CHOICES[name]:
            raise ValueError(f"{name} must be one of {_CHOICES[name]}, got {value!r}")
    if hasattr(config, "train_freq") and config.train_freq % config.n_envs:
        raise ValueError(
            f"train_freq counts env steps of all {config.n_envs} env copies together, so it must be a multiple of "
            f"n_envs (SB3 trains every train_freq / n_envs vector steps), got train_freq={config.train_freq}"
        )
    if hasattr(config, "gradient_steps") and (config.gradient_steps == 0 or config.gradient_steps < -1):
        raise ValueError(f"gradient_steps must be positive or -1, got {config.gradient_steps!r}")
    cell = config.cell_pixels
    if cell is not None and (isinstance(cell, bool) or not isinstance(cell, int) or cell < 1):
        raise ValueError(f"cell_pixels must be a positive integer or None, got {config.cell_pixels!r}")
    channels = config.cnn_channels
    if not channels or any(isinstance(c, bool) or not isinstance(c, int) or c < 1 for c in channels):
        raise ValueError(f"cnn_channels must be one or more positive integers, got {config.cnn_channels!r}")
    if not config.net_arch or any(
        isinstance(n, bool) or not isinstance(n, int) or not 0 < n <= MAX_LAYER_SIZE for n in config.net_arch
    ):
        raise ValueError(
            f"net_arch must be one or more layer sizes from 1 to {MAX_LAYER_SIZE:,}, got {config.net_arch!r}"
        )


@dataclass
class SB3Config:
    """The fields every adapter has (subclasses override the defaults that differ)."""

    policy: str = hp("auto", "policy")
    net_arch: tuple[int, ...] = hp((64, 64), "net_arch")
    activation: str = hp("tanh", "activation")
    cell_pixels: int | None = hp(None, "cell_pixels")
    cnn_channels: tuple[int, ...] = hp((16, 32), "cnn_channels")
    learning_rate: float = hp(3e-4, "learning_rate")
    lr_schedule: str = hp("constant", "lr_schedule")
    gamma: float = hp(0.99, "gamma")
    max_grad_norm: float = hp(0.5, "max_grad_norm")
    n_envs: int = hp(1, "n_envs")
    device: str = hp("auto", "device")

    def __post_init__(self) -> None:
        self.net_arch = tuple(self.net_arch)  # a list from JSON/YAML
        self.cnn_channels = tuple(self.cnn_channels)
        check_config(self)


@dataclass
class SB3DQNConfig(SB3Config):
    """Hyperparameters of `sb3-dqn` (SB3's DQN; defaults are SB3's)."""

    activation: str = hp("relu", "activation")
    learning_rate: float = hp(1e-4, "learning_rate")
    max_grad_norm: float = hp(10.0, "max_grad_norm")
    buffer_size: int = hp(1_000_000, "buffer_size")
    learning_starts: int = hp(100, "learning_starts")
    batch_size: int = hp(32, "batch_size")
    tau: float = hp(1.0, "tau")
    train_freq: int = hp(4, "train_freq")
    gradient_steps: int = hp(1, "gradient_steps")
    n_steps: int = hp(1, "n_steps")
    target_update_interval: int = hp(10_000, "target_update_interval")
    exploration_fraction: float = hp(0.1, "exploration_fraction")
    exploration_steps: int | None = hp(None, "exploration_steps")
    exploration_initial_eps: float = hp(1.0, "exploration_initial_eps")
    exploration_final_eps: float = hp(0.05, "exploration_final_eps")


@dataclass
class SB3PPOConfig(SB3Config):
    """Hyperparameters of `sb3-ppo` and `sb3-maskable-ppo` (defaults are SB3's)."""

    n_steps: int = hp(2048, "n_steps")
    batch_size: int = hp(64, "batch_size")
    n_epochs: int = hp(10, "n_epochs")
    gae_lambda: float = hp(0.95, "gae_lambda")
    clip_range: float = hp(0.2, "clip_range")
    clip_range_schedule: str = hp("constant", "clip_range_schedule")
    normalize_advantage: bool = hp(True, "normalize_advantage")
    ent_coef: float = hp(0.0, "ent_coef")
    vf_coef: float = hp(0.5, "vf_coef")


@dataclass
class SB3A2CConfig(SB3Config):
    """Hyperparameters of `sb3-a2c` (defaults are SB3's)."""

    learning_rate: float = hp(7e-4, "learning_rate")
    n_steps: int = hp(5, "n_steps")
    gae_lambda: float = hp(1.0, "gae_lambda")
    ent_coef: float = hp(0.0, "ent_coef")
    vf_coef: float = hp(0.5, "vf_coef")
    rms_prop_eps: float = hp(1e-5, "rms_prop_eps")
    use_rms_prop: bool = hp(True, "use_rms_prop")
    normalize_advantage: bool = hp(False, "normalize_advantage")


def sub_envs(env: gym.Env | gym.vector.VectorEnv) -> list[gym.Env]:
    """The single envs an SB3 DummyVecEnv will step: the env itself or a SyncVectorEnv's sub-envs."""
    if isinstance(env, gym.vector.SyncVectorEnv):
        return list(env.envs)
    if isinstance(env, gym.vector.VectorEnv):
        raise ValueError(
            f"SB3 baselines train on a gym.Env or a gymnasium.vector.SyncVectorEnv, got {type(env).__name__}; "
            "use gym.make_vec(id, n, vectorization_mode='sync')"
        )
    return [env]


def default_policy(observation_space: spaces.Space) -> str:
    if isinstance(observation_space, spaces.Dict):
        return "MultiInputPolicy"
    if is_image_space(observation_space) and sorted(observation_space.shape or ())[1] >= NATURE_CNN_MIN_SIDE:
        return "CnnPolicy"
    return "MlpPolicy"


def _schedule(value: float, kind: str) -> float | Callable[[float], float]:
    if kind == "constant":
        return value
    return LinearSchedule(start=value, end=0.0, end_fraction=1.0)


class SB3CellCNN(BaseFeaturesExtractor):
    """`agents.common.cell_cnn.CellCNN` as an SB3 features extractor (SB3 hands it channels-first images
    scaled to [0, 1], as it does to its NatureCNN)."""

    def __init__(self, observation_space: spaces.Box, cell_pixels: int, channels: list[int]) -> None:
        in_channels, height, width = observation_space.shape
        torso = CellCNN(in_channels, height, width, cell_pixels, channels)
        super().__init__(observation_space, torso.features)
        self.torso = torso

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        return self.torso(observations)


# ----------------------------------------------------------------------------- the adapter
class SB3Agent(Agent):
    """An SB3 algorithm behind the `Agent` interface (see the module docstring)."""

    checkpoint_suffix: ClassVar[str] = ".pt"
    sb3_class_path: ClassVar[str]  # "module:Class"
    supported_actions: ClassVar[tuple[type, ...]] = (
        spaces.Discrete,
        spaces.Box,
        spaces.MultiDiscrete,
        spaces.MultiBinary,
    )
    uses_action_mask: ClassVar[bool] = False

    def __init__(self, env: gym.Env | gym.vector.VectorEnv, config: Any = None, *, seed: int = 0) -> None:
        super().__init__(env, config, seed=seed)
        self._check_spaces()
        if not isinstance(env, SpacesOnlyEnv):
            self._check_env(sub_envs(env))
        self.model = self._build_model()

    # --------------------------------------------------------------- building
    @classmethod
    def sb3_class(cls) -> type:
        module, name = cls.sb3_class_path.split(":")
        return getattr(importlib.import_module(module), name)

    def _check_spaces(self) -> None:
        if not isinstance(self.action_space, self.supported_actions):
            names = ", ".join(t.__name__ for t in self.supported_actions)
            raise ValueError(f"{self.algo} needs a {names} action space, got {self.action_space}")
        supported_obs = (spaces.Discrete, spaces.Box, spaces.MultiDiscrete, spaces.MultiBinary, spaces.Dict)
        if not isinstance(self.observation_space, supported_obs):
            raise ValueError(f"{self.algo} cannot read observations from {self.observation_space}")

    def _check_env(self, envs: list[gym.Env]) -> None:
        """Checks of the env beyond its spaces (masking support); called before training."""

    def _sb3_kwargs(self) -> dict[str, Any]:
        config = self.config
        accepted = inspect.signature(self.sb3_class()).parameters
        kwargs = {name: value for name, value in dataclasses.asdict(config).items() if name in accepted}
        kwargs["learning_rate"] = _schedule(config.learning_rate, config.lr_schedule)
        if "clip_range" in kwargs:
            kwargs["clip_range"] = _schedule(config.clip_range, config.clip_range_schedule)
        activation = {"tanh": nn.Tanh, "relu": nn.ReLU, "elu": nn.ELU, "leaky_relu": nn.LeakyReLU}[config.activation]
        kwargs["policy_kwargs"] = {"net_arch": list(config.net_arch), "activation_fn": activation}
        kwargs["policy"] = default_policy(self.observation_space) if config.policy == "auto" else config.policy
        if config.cell_pixels is not None:
            if kwargs["policy"] != "CnnPolicy":
                raise ValueError(
                    f"cell_pixels needs image observations and the CnnPolicy, got {kwargs['policy']} for "
                    f"{self.observation_space}"
                )
            kwargs["policy_kwargs"].update(
                features_extractor_class=SB3CellCNN,
                features_extractor_kwargs={"cell_pixels": config.cell_pixels, "channels": list(config.cnn_channels)},
            )
        return kwargs

    def _build_model(self) -> Any:
        placeholder = DummyVecEnv(
            [lambda: SpacesOnlyEnv(self.observation_space, self.action_space)] * self.config.n_envs
        )
        return self.sb3_class()(env=placeholder, seed=self.seed, verbose=0, **self._sb3_kwargs())

    # --------------------------------------------------------------- Agent API
    def train(
        self,
        env: gym.Env | gym.vector.VectorEnv,
        total_steps: int,
        *,
        callback: Callback | None = None,
        log_dir: str | Path | None = None,
        progress: bool = True,
    ) -> SB3Agent:
        if not isinstance(total_steps, (int, np.integer)) or total_steps <= 0:
            raise ValueError(f"total_steps must be a positive integer, got {total_steps!r}")
        envs = sub_envs(env)
        if len(envs) != self.config.n_envs:
            raise ValueError(
                f"{self.algo} is configured with n_envs={self.config.n_envs} but train() got {len(envs)} env(s); "
                f"pass a SyncVectorEnv of {self.config.n_envs} copies (gym.make_vec(id, {self.config.n_envs}, "
                "vectorization_mode='sync')) or set n_envs"
            )
        self._check_env(envs)
        vec_env = DummyVecEnv([functools.partial(Monitor, e) for e in envs])
        vec_env.seed(self.seed)  # the first reset seeds sub-env i with seed + i, like gym.make_vec
        self.model.set_env(vec_env, force_reset=True)
        start = self.model.num_timesteps  # > 0 when an earlier call trained this model: continue from there
        end = start + int(total_steps)
        self._budget_dependent_schedules(end)
        self.model.set_logger(
            configure(str(log_dir) if log_dir is not None else None, ["tensorboard"] if log_dir else [])
        )
        with (
            TrainLogger(total_steps, log_dir, progress=progress, desc=f"{self.algo}") as logger,
            DeferredInterrupt() as interrupt,
        ):  # Ctrl-C stops SB3 between two env steps
            bridge = _CallbackBridge(self, logger, callback, end, interrupt)
            self.model.learn(int(total_steps), callback=bridge, reset_num_timesteps=start == 0, progress_bar=False)
        if interrupt.requested:
            raise KeyboardInterrupt  # SB3 stopped cleanly: the policy can be saved and loaded
        return self

    def _budget_dependent_schedules(self, end_step: int) -> None:
        """Schedules given in env steps, turned into SB3's fractions of training up to `end_step` (SB3 measures
        progress against all env steps to the end of the current `learn` call)."""

    def act(self, obs: Any, *, greedy: bool = True, action_mask: Any = None) -> Any:
        action, _ = self.model.predict(obs, deterministic=greedy, **self._predict_kwargs(action_mask))
        if isinstance(self.action_space, spaces.Discrete) and np.ndim(action) == 0:
            return int(action)
        return action

    def _predict_kwargs(self, action_mask: Any) -> dict[str, Any]:
        return {}

    def save(self, path: str | Path) -> None:
        meta = {
            "seed": self.seed,
            "hyperparameters": self.hyperparameters(),
            "sb3_version": stable_baselines3.__version__,
        }
        payload = {
            "policy": self.model.policy.state_dict(),
            "observation_space": space_to_dict(self.observation_space),
            "action_space": space_to_dict(self.action_space),
            "episode_log": [list(entry) for entry in self.episode_log],
        }
        save_torch(path, self.algo, meta, payload)

    @classmethod
    def load(cls, path: str | Path, env: gym.Env | None = None) -> SB3Agent:
        meta, payload = load_torch(path, expected_algo=cls.algo)
        try:
            observation_space = space_from_dict(payload["observation_space"])
            action_space = space_from_dict(payload["action_space"])
            config = make_config(cls, meta["hyperparameters"])
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise CheckpointError(f"{path}: incomplete {cls.algo} checkpoint ({error})") from error
        if env is not None:
            env_spaces = spaces_of(env)
            if env_spaces != (observation_space, action_space):
                raise CheckpointError(
                    f"{path} was trained on observation space {observation_space} and action space {action_space}; "
                    f"the env has {env_spaces[0]} and {env_spaces[1]}"
                )
        policy = payload.get("policy")
        if not isinstance(policy, dict) or not all(isinstance(value, torch.Tensor) for value in policy.values()):
            raise CheckpointError(f"{path}: incomplete {cls.algo} checkpoint (no policy state_dict of tensors)")
        check_finite_tensors(path, "policy", policy)
        seed = meta.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
            raise CheckpointError(f"{path}: seed must be an integer in [0, 2**32), got {seed!r}")
        try:
            agent = cls.from_spaces(observation_space, action_space, config, seed=seed)
        except (ValueError, TypeError, AssertionError) as error:  # SB3 asserts on some bad hyperparameters
            raise CheckpointError(f"{path}: the saved {cls.algo} config does not fit its spaces ({error})") from error
        try:
            agent.model.policy.load_state_dict(policy)
        except (KeyError, RuntimeError) as error:
            raise CheckpointError(
                f"{path}: the saved network does not fit {cls.algo} with these hyperparameters ({error})"
            ) from error
        try:  # files written before the episode log was saved have none
            agent.episode_log = [(int(s), float(r), int(n)) for s, r, n in payload.get("episode_log", [])]
        except (TypeError, ValueError) as error:
            raise CheckpointError(
                f"{path}: malformed episode_log, expected [step, return, length] rows ({error})"
            ) from error
        return agent


class _CallbackBridge(BaseCallback):
    """Records episodes, drives our progress bar/TensorBoard logger, calls the user's
    `callback(agent, env_steps)` and stops SB3 when its env step count reaches `end_step`."""

    def __init__(
        self, agent: SB3Agent, logger: Any, callback: Callback | None, end_step: int, interrupt: DeferredInterrupt
    ) -> None:
        super().__init__()
        self.agent, self.train_logger, self.user_callback, self.end_step = agent, logger, callback, end_step
        self.interrupt = interrupt

    def _on_step(self) -> bool:
        steps = self.model.num_timesteps
        for info in self.locals["infos"]:
            episode = info.get("episode")
            if episode is not None:
                self.train_logger.episode(steps, episode["r"], episode["l"])
                self.agent.episode_log.append((steps, float(episode["r"]), int(episode["l"])))
        self.train_logger.step(self.model.n_envs)
        stop = bool(self.user_callback(self.agent, steps)) if self.user_callback is not None else False
        return not stop and not self.interrupt.requested and steps < self.end_step


class SB3DQN(SB3Agent):
    """Stable-Baselines3's DQN (Mnih et al. 2015), `sb3-dqn`. Discrete actions only."""

    algo = "sb3-dqn"
    Config = SB3DQNConfig
    sb3_class_path = "stable_baselines3:DQN"
    supported_actions = (spaces.Discrete,)

    def _sb3_kwargs(self) -> dict[str, Any]:
        kwargs = super()._sb3_kwargs()
        kwargs["train_freq"] = self.config.train_freq // self.config.n_envs  # SB3 counts vector steps
        return kwargs

    def _budget_dependent_schedules(self, end_step: int) -> None:
        config = self.config
        if config.exploration_steps is not None:  # epsilon after n env steps depends on n alone, in every call
            fraction = config.exploration_steps / end_step  # above 1 when the decay outlasts this call
            self.model.exploration_schedule = LinearSchedule(
                config.exploration_initial_eps, config.exploration_final_eps, fraction
            )


class SB3PPO(SB3Agent):
    """Stable-Baselines3's PPO (Schulman et al. 2017), `sb3-ppo`."""

    algo = "sb3-ppo"
    Config = SB3PPOConfig
    sb3_class_path = "stable_baselines3:PPO"


class SB3A2C(SB3Agent):
    """Stable-Baselines3's A2C (Mnih et al. 2016), `sb3-a2c`."""

    algo = "sb3-a2c"
    Config = SB3A2CConfig
    sb3_class_path = "stable_baselines3:A2C"


class SB3MaskablePPO(SB3Agent):
    """sb3-contrib's MaskablePPO, `sb3-maskable-ppo`: PPO that never samples a masked action.

    Needs an env with an `action_masks()` method (sb3-contrib's protocol; `mdp-v0` has one).
    """

    algo = "sb3-maskable-ppo"
    Config = SB3PPOConfig
    sb3_class_path = "sb3_contrib:MaskablePPO"
    supported_actions = (spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)
    uses_action_mask = True

    def _check_env(self, envs: list[gym.Env]) -> None:
        for env in envs:
            try:
                env.get_wrapper_attr("action_masks")
            except AttributeError:
                name = env.spec.id if env.spec is not None else type(env.unwrapped).__name__
                raise ValueError(
                    f"{self.algo} needs an env with action masks (an action_masks() method, as mdp-v0 has); "
                    f"{name} has none: use sb3-ppo instead"
                ) from None

    def _predict_kwargs(self, action_mask: Any) -> dict[str, Any]:
        return {"action_masks": None if action_mask is None else np.asarray(action_mask, dtype=bool)}
