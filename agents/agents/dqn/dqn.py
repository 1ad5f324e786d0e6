"""Deep Q-Networks (Mnih et al. 2015) and the usual extensions, in one readable file.

    from agents.dqn import DQN
    agent = DQN(gym.make("CartPole-v1"), {"double_dqn": True}, seed=0)
    agent.train(env, 50_000, log_dir="runs/dqn", checkpoint_path="runs/dqn/checkpoint.pt", checkpoint_every=10_000)
    action = agent.act(obs)                     # greedy; act(obs, greedy=False) uses eval_epsilon
    agent.save("dqn.pt"); agent = DQN.load("dqn.pt")
    agent = DQN.resume("runs/dqn/checkpoint.pt", env)   # finishes an interrupted `train` call

Command line: `python -m agents train dqn --env CartPole-v1 --seed 0 --steps 50000 --device cpu`
(`--help` lists every hyperparameter below as a flag).

## The algorithm (what `train` does, top to bottom)
1. Act epsilon-greedily (purely at random before `learning_starts`), step the env, and store the
   transition in the replay buffer (`replay.py`; single env or vector env: `collect.py`).
2. Every `target_update_interval` env steps, move the target network towards the online one:
   a copy when `tau == 1` (Mnih et al.), Polyak averaging target <- tau online + (1 - tau) target otherwise.
3. Every `train_freq` env steps (once `learning_starts` steps are collected), take `gradient_steps`
   gradient steps, each on `batch_size` transitions sampled from the buffer:
   target  y = R + gamma^m (1 - terminated) max_a Q_target(s', a)      (m = n-step length, 1 by default)
   Double DQN (van Hasselt et al. 2016) picks a' with the online network and evaluates it with the
   target network: y = R + gamma^m (1 - terminated) Q_target(s', argmax_a Q(s', a));
   loss    Huber (the Nature paper's clipped error) or MSE of Q(s, a) - y, averaged over the batch
   (weighted by importance weights with prioritized replay), gradient norm clipped to `max_grad_norm`.
Truncated episodes (time limits) bootstrap from their real final observation; only termination stops it.
4. With `policy_averaging` = d > 0, after each gradient step an averaged copy of the online weights
   moves towards them: avg <- avg + (1 - d') (online - avg), d' = min(d, (1 + k) / (10 + k)) after k
   steps (a short memory at first, so the average does not hold on to the initial weights). The greedy
   policy (`act`, evaluations, saved agents) uses the average; exploration while training uses the online
   network. It is Polyak averaging of iterates (as stochastic weight averaging), applied to the policy.

## Defaults
The defaults are tuned to solve CartPole-v1 in 50,000 env steps on every seed (the measured figures
are in benchmarks/RESULTS.md, section "DQN"). They start from
rl-baselines3-zoo's tuned CartPole-v1 settings for SB3's DQN (hyperparams/dqn.yml: buffer 100k,
learning_starts 1000, gamma 0.99, target update every 10 env steps, 128 gradient steps every 256 env
steps, epsilon 1 -> 0.04 over 8,000 steps, Adam, Huber loss, gradient norm 10) and add what made every
seed stable: Double DQN, 3-step returns, batches of 256, two hidden layers of 128, and a learning
rate decaying linearly from 1e-3 to 0 over the 50,000 steps (zoo: 2.3e-3 constant, batch 64, 256x256,
which left 1 seed of 5 at 125). Schedules count env steps: for longer runs stretch them, e.g.
`--learning-rate linear:1e-3:0:<steps>` (a schedule that ends before the run does raises a warning).

For Atari, `python -m agents.dqn.atari --game BreakoutNoFrameskip-v4 --steps 10000000 --device cuda`
builds the env with the Nature-paper preprocessing and trains with CleanRL's Atari settings
(`agents.dqn.atari.ATARI_SETTINGS`; expected figures and the Nature paper's RMSprop flags are in its
docstring).

## Speed
One training phase samples all its minibatches from the buffer in one numpy call and converts them to
tensors once; acting runs the network only when at least one env exploits, and on one image through a
cell CNN it runs in numpy (`numpy_acting.py`: a batch-1 torch pass costs ~3x as much, nearly all
overhead). While `train` runs, torch uses one CPU thread for MLPs (`num_threads`; more threads only add
overhead at this size, and cost 40x on a busy 2-core machine) and flushes denormal floats to zero (Adam's
decaying moments otherwise make CPU math 10-100x slower); both process-wide settings are restored when
`train` returns.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import operator
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from agents.base import Agent, Callback
from agents.common.cell_cnn import FLATTEN_ORDERS, reorder_feature_columns
from agents.common.checkpoint import CheckpointError, check_finite_tensors, load_torch, save_torch
from agents.common.command_line import MAX_STEPS, UserError
from agents.common.envs import MAX_N_ENVS
from agents.common.interrupt import DeferredInterrupt
from agents.common.logging import TrainLogger
from agents.common.schedules import parse_schedule
from agents.common.spaces import SpacesOnlyEnv, space_from_dict, space_to_dict, spaces_of
from agents.dqn.collect import Collector, EpisodeState, is_vector_env
from agents.dqn.networks import (
    CELL_CNN_FLATTEN,
    NETWORK_KINDS,
    cell_feature_readers,
    check_observation_space,
    make_q_network,
    space_description,
)
from agents.dqn.numpy_acting import NumpyCellQNetwork
from agents.dqn.replay import Batch, PrioritizedReplayBuffer, ReplayBuffer

OPTIMIZERS = ("adam", "rmsprop")
LOSSES = ("huber", "mse")
DEVICES = ("auto", "cpu", "cuda")
AUTOCASTS = ("none", "bf16")


# Upper bounds of the sizes, checked before anything is allocated (a typo such as 10**11 is a clear error,
# not a MemoryError after minutes).
LIMITS = {"batch_size": 2**16, "buffer_size": 10**9, "n_step": 1000}
MAX_HIDDEN_SIZE = 2**14  # units of one hidden layer (a 16384 x 16384 layer holds 268M weights, 1 GiB)
MAX_THREADS = 256  # torch CPU threads (far more than a machine has segfaulted torch)


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass
class DQNConfig:
    """Every hyperparameter of `DQN`; each is a `--flag` of `python -m agents train dqn`."""

    # the Q-network
    network: str = field(
        default="auto",
        metadata=_help(
            f"Q-network: one of {NETWORK_KINDS}; auto = cell CNN for uint8 images when cell_pixels "
            f"is set, else Nature CNN "
            "for uint8 images, else MLP; small-cnn = the 2013 DQN's cheaper CNN for CPU budgets"
        ),
    )
    hidden_sizes: tuple[int, ...] = field(
        default=(128, 128),
        metadata=_help("hidden layer sizes of the MLP (after the convolutions for network=cell-cnn)"),
    )
    cell_pixels: int | None = field(
        default=None,
        metadata=_help(
            "side in pixels of one cell of a cell-drawn image (gridworld-v0: 12); set: auto picks the cell CNN"
        ),
    )
    cnn_channels: tuple[int, ...] = field(
        default=(16, 32),
        metadata=_help(
            "channels of the cell CNN: the cell-reading convolution, then one 3x3 convolution per further entry"
        ),
    )
    dueling: bool = field(default=False, metadata=_help("dueling head: Q = V + A - mean(A) (Wang et al. 2016)"))
    # the TD target and the loss
    gamma: float = field(default=0.99, metadata=_help("discount factor in [0, 1]"))
    n_step: int = field(default=3, metadata=_help("n-step returns: rewards summed before bootstrapping"))
    double_dqn: bool = field(default=True, metadata=_help("Double DQN targets (van Hasselt et al. 2016)"))
    loss: str = field(
        default="huber", metadata=_help(f"TD loss: one of {LOSSES} (huber = the Nature paper's clipped error)")
    )
    # the optimizer
    optimizer: str = field(default="adam", metadata=_help(f"one of {OPTIMIZERS}"))
    learning_rate: str = field(
        default="linear:1e-3:0:50000",
        metadata=_help(
            "optimizer step size over env steps: a number, linear:<start>:<end>:<steps>[:<hold steps>] or "
            "exp:<start>:<end>:<decay>"
        ),
    )
    optimizer_eps: float = field(
        default=1e-8, metadata=_help("epsilon of Adam / RMSprop (the Nature paper's RMSprop: 0.01)")
    )
    rmsprop_alpha: float = field(default=0.95, metadata=_help("RMSprop squared-gradient decay (Nature: 0.95)"))
    rmsprop_momentum: float = field(default=0.0, metadata=_help("RMSprop momentum"))
    rmsprop_centered: bool = field(
        default=False, metadata=_help("centered RMSprop (as DeepMind's, which divides by the gradient's std)")
    )
    max_grad_norm: float | None = field(
        default=10.0, metadata=_help("clip the gradient norm to this; none = no clipping")
    )
    batch_size: int = field(default=256, metadata=_help("transitions per gradient step"))
    # the replay buffer and when to learn
    buffer_size: int = field(default=100_000, metadata=_help("transitions kept in the replay buffer"))
    learning_starts: int = field(default=1000, metadata=_help("env steps of purely random actions before learning"))
    train_freq: int = field(default=256, metadata=_help("env steps between training phases"))
    n_envs: int = field(
        default=1,
        metadata=_help(
            "env copies the command line and compare train on (a SyncVectorEnv of n_envs); train() itself "
            "takes any env or vector env"
        ),
    )
    gradient_steps: int = field(default=128, metadata=_help("gradient steps per training phase"))
    frame_stack: int | None = field(
        default=None,
        metadata=_help(
            "observations are stacks of this many frames, stored once each; none = detect a "
            "FrameStackObservation wrapper"
        ),
    )
    prioritized: bool = field(default=False, metadata=_help("prioritized replay (Schaul et al. 2016, proportional)"))
    priority_alpha: float = field(default=0.6, metadata=_help("prioritization exponent (0 = uniform)"))
    priority_beta: str = field(
        default="linear:0.4:1.0:50000", metadata=_help("importance-weight exponent schedule over env steps")
    )
    priority_eps: float = field(default=1e-6, metadata=_help("added to |TD error| so every transition can be drawn"))
    # the target network
    target_update_interval: int = field(default=10, metadata=_help("env steps between target network updates"))
    tau: float = field(default=1.0, metadata=_help("target update: 1 = copy, < 1 = Polyak averaging coefficient"))
    # the policy the agent plays
    policy_averaging: float = field(
        default=0.0,
        metadata=_help(
            "0 = act(greedy) uses the online network; in (0, 1): it uses an exponential moving average of the "
            "online weights, updated after each gradient step with this decay (0.9999: ~10k steps; a shorter "
            "memory early on), which smooths a greedy policy that wanders between evaluations"
        ),
    )
    # exploration
    exploration: str = field(
        default="linear:1.0:0.04:8000",
        metadata=_help(
            "epsilon over env steps: a number, linear:<start>:<end>:<steps>[:<hold steps>] or exp:<start>:<end>:<decay>"
        ),
    )
    eval_epsilon: float = field(
        default=0.05, metadata=_help("epsilon of act(obs, greedy=False) (Nature evaluation: 0.05)")
    )
    # bookkeeping
    log_interval: int = field(default=1000, metadata=_help("env steps between TensorBoard scalars"))
    device: str = field(default="auto", metadata=_help(f"one of {DEVICES}; auto = cuda if available"))
    autocast: str = field(
        default="none",
        metadata=_help(
            f"one of {AUTOCASTS}: bf16 runs the network's forward passes in bfloat16 autocast (faster Nature CNN "
            "updates on CPUs with AMX/AVX-512 bf16, far slower on AVX2-only CPUs); the loss, targets and weights "
            "stay float32"
        ),
    )
    num_threads: int = field(
        default=0,
        metadata=_help(
            "torch CPU threads while training; 0 = one for MLPs (fastest for small networks), torch's default for CNNs"
        ),
    )

    def __post_init__(self) -> None:
        for flag in dataclasses.fields(self):
            if isinstance(flag.default, bool) and not isinstance(getattr(self, flag.name), (bool, np.bool_)):
                raise ValueError(f"{flag.name} must be true or false, got {getattr(self, flag.name)!r:.80}")
        sizes = self.hidden_sizes
        if not isinstance(sizes, (list, tuple)) or any(isinstance(size, bool) for size in sizes):
            raise ValueError(f"hidden_sizes must be a list of layer sizes (integers), got {sizes!r:.80}")
        try:
            self.hidden_sizes = tuple(operator.index(size) for size in sizes)
        except TypeError:
            raise ValueError(f"hidden_sizes must be a list of layer sizes (integers), got {sizes!r:.80}") from None
        self.cnn_channels = tuple(self.cnn_channels)
        channels = self.cnn_channels
        if not channels or any(isinstance(c, bool) or not isinstance(c, int) or c < 1 for c in channels):
            raise ValueError(f"cnn_channels must be one or more positive integers, got {self.cnn_channels!r}")
        if self.cell_pixels is not None and (
            isinstance(self.cell_pixels, bool) or not isinstance(self.cell_pixels, int) or self.cell_pixels < 1
        ):
            raise ValueError(f"cell_pixels must be a positive integer or None, got {self.cell_pixels!r}")
        choices = {
            "network": NETWORK_KINDS,
            "loss": LOSSES,
            "optimizer": OPTIMIZERS,
            "device": DEVICES,
            "autocast": AUTOCASTS,
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if not isinstance(self.num_threads, int) or not 0 <= self.num_threads <= MAX_THREADS:
            raise ValueError(
                f"num_threads must be an integer from 0 (automatic) to {MAX_THREADS}, got {self.num_threads!r}"
            )
        positive = (
            "n_step",
            "batch_size",
            "buffer_size",
            "train_freq",
            "n_envs",
            "gradient_steps",
            "target_update_interval",
            "log_interval",
        )
        for name in positive:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        for name, limit in LIMITS.items():
            if getattr(self, name) > limit:
                raise ValueError(
                    f"{name} must be at most {limit:,} (agents.dqn.dqn.LIMITS), got {getattr(self, name)!r}"
                )
        if self.n_envs > MAX_N_ENVS:
            raise ValueError(f"n_envs must be at most {MAX_N_ENVS} (env copies stepped one by one), got {self.n_envs}")
        if not all(1 <= size <= MAX_HIDDEN_SIZE for size in self.hidden_sizes):  # ints: converted above
            raise ValueError(f"hidden_sizes must be integers from 1 to {MAX_HIDDEN_SIZE:,}, got {self.hidden_sizes}")
        if not isinstance(self.learning_starts, int) or self.learning_starts < 0:
            raise ValueError(f"learning_starts must be a non-negative integer, got {self.learning_starts!r}")
        if self.frame_stack is not None and (not isinstance(self.frame_stack, int) or self.frame_stack < 1):
            raise ValueError(f"frame_stack must be a positive integer or None (detect), got {self.frame_stack!r}")
        for name in ("gamma", "eval_epsilon", "priority_alpha"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)!r}")
        if not self.optimizer_eps > 0:
            raise ValueError(f"optimizer_eps must be positive, got {self.optimizer_eps!r}")
        learning_rate = parse_schedule(self.learning_rate)
        if not (learning_rate(0) > 0 and learning_rate(10**12) >= 0):
            raise ValueError(f"learning_rate must be positive (a schedule may end at 0), got {self.learning_rate!r}")
        if not 0.0 < self.tau <= 1.0:
            raise ValueError(f"tau must be in (0, 1], got {self.tau!r}")
        if not 0.0 <= self.policy_averaging < 1.0:
            raise ValueError(
                f"policy_averaging must be in [0, 1) (0 = off, e.g. 0.9999 = an average over ~10k gradient "
                f"steps), got {self.policy_averaging!r}"
            )
        if not 0.0 <= self.rmsprop_alpha < 1.0 or self.rmsprop_momentum < 0:
            raise ValueError(
                f"rmsprop_alpha must be in [0, 1) and rmsprop_momentum >= 0, got "
                f"{self.rmsprop_alpha}, {self.rmsprop_momentum}"
            )
        if self.max_grad_norm is not None and not self.max_grad_norm > 0:
            raise ValueError(f"max_grad_norm must be positive or None (no clipping), got {self.max_grad_norm!r}")
        for name in ("exploration", "priority_beta"):  # probabilities (beta: an exponent in [0, 1])
            schedule = parse_schedule(getattr(self, name))
            if not all(0.0 <= schedule(step) <= 1.0 for step in (0, 10**12)):  # its start and its end
                raise ValueError(f"{name} must stay within [0, 1], got {getattr(self, name)!r}")


class TrainingDivergedError(UserError, RuntimeError):
    """The loss became NaN or infinite; training stopped and no checkpoint was written after it. The
    commands report it as a user error (exit code 2): the settings (a learning rate too large) caused it."""


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' but torch sees no CUDA device; use device='cpu' or 'auto'")
    return torch.device(name)


def detect_frame_stack(env: gym.Env | gym.vector.VectorEnv) -> int:
    """The stack size of a frame-stacking wrapper in `env` (or the first sub-env of a `SyncVectorEnv`):
    Gymnasium's `FrameStackObservation` or the Atari wrappers' `FrameStack`; 1 if there is none."""
    stackers: dict[type, str] = {gym.wrappers.FrameStackObservation: "stack_size"}
    if "agents.wrappers.atari" in sys.modules:  # not imported: no env can contain its FrameStack
        stackers[sys.modules["agents.wrappers.atari"].FrameStack] = "num_stack"
    candidates: list[Any] = [env]
    if is_vector_env(env) and hasattr(env, "envs"):
        candidates.append(env.envs[0])
    for current in candidates:
        while current is not None:
            for kind, attribute in stackers.items():
                if isinstance(current, kind):
                    return int(getattr(current, attribute))
            current = getattr(current, "env", None)
    return 1


@contextlib.contextmanager
def _cpu_settings(num_threads: int | None) -> Any:
    """Process-wide torch settings while training, restored afterwards:
    - denormal floats are treated as zero: Adam's moment estimates of parameters whose gradient is zero
      (dead ReLUs) decay into denormals, on which x86 float math is 10-100x slower (this halves the wall
      time of a CartPole run);
    - `num_threads` intra-op threads (None: unchanged). Small networks gain nothing from more threads and
      lose a lot when the cores are busy (40x on a loaded 2-core machine)."""
    supported = torch.set_flush_denormal(True)
    previous_threads = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        if supported:
            torch.set_flush_denormal(False)
        torch.set_num_threads(previous_threads)


def _crossings(before: int, after: int, every: int) -> int:
    """How many multiples of `every` lie in (before, after]."""
    return after // every - before // every


class DQN(Agent):
    """Deep Q-Network for discrete actions; options: Double DQN, dueling, n-step, prioritized replay.

    ## Description
    Learns Q(s, a) with a neural network from transitions replayed out of a buffer, and acts greedily
    with respect to it (epsilon-greedily while training). See the module docstring for the update rule.

    ## Spaces
    - Actions: `Discrete(n)` (any `start`). Anything else raises a ValueError naming the space.
    - Observations: `Box` (vectors, or uint8 images for the Nature CNN, channels first or last,
      optionally frame-stacked), `Discrete` (one-hot encoded) or `MultiBinary`. Dict/Tuple raise.
    - Environments: a `gymnasium.Env`, or a `gymnasium.vector.VectorEnv` (any autoreset mode).

    ## Arguments
    - `env`: the env (or one like it) the agent will act in; fixes the spaces and, for a vector env,
      the number of replay rings.
    - `config`: a `DQNConfig`, a dict of overrides, or None for the defaults (see `DQNConfig`).
    - `seed`: seeds the network initialisation, exploration, replay sampling and env resets.

    ## Checkpoints
    `save` writes one `.pt` file (read with `torch.load(weights_only=True)`): the online and target
    networks (and the averaged one with `policy_averaging`), the optimizer, counters,
    random-number-generator states, the ongoing episode, and optionally the replay buffer.
    `train(..., checkpoint_path=, checkpoint_every=)` writes one periodically, on Ctrl-C and at the end;
    `DQN.resume(path, env)` finishes the interrupted call, giving the same weights as an uninterrupted
    run with a single env (see `collect.py` for how the env's state is restored).
    A NaN or infinite loss raises `TrainingDivergedError` without overwriting the last checkpoint.

    ## Version History
    - v0: initial version.
    - 2026-12-02: the cell CNN flattens its features cell by cell (`CellCNN(flatten_order="hwc")`: no copy
      of the features per forward pass); checkpoints record the order (`cell_cnn_flatten`), and older ones
      are converted on load (weights and optimizer moments), so they give the same Q-values and resume.
    """

    algo = "dqn"
    Config = DQNConfig
    checkpoint_suffix = ".pt"

    def __init__(self, env: gym.Env | gym.vector.VectorEnv, config: Any = None, *, seed: int = 0) -> None:
        super().__init__(env, config, seed=seed)
        cfg = self.config
        if not isinstance(self.action_space, gym.spaces.Discrete):
            raise ValueError(
                f"DQN needs a Discrete action space, got {self.action_space!r}; for continuous actions use an "
                "actor-critic method (e.g. SAC or TD3), or discretize the actions"
            )
        check_observation_space(self.observation_space)
        self.n_actions = int(self.action_space.n)
        self.action_start = int(self.action_space.start)
        self.n_envs = env.num_envs if is_vector_env(env) else 1
        self.frame_stack = cfg.frame_stack if cfg.frame_stack is not None else detect_frame_stack(env)
        self.device = resolve_device(cfg.device)
        with torch.random.fork_rng(devices=[]):  # the networks start from `seed` without touching global RNG state
            torch.manual_seed(seed)
            self.q_network = make_q_network(
                self.observation_space,
                self.n_actions,
                network=cfg.network,
                hidden_sizes=cfg.hidden_sizes,
                dueling=cfg.dueling,
                cell_pixels=cfg.cell_pixels,
                cnn_channels=cfg.cnn_channels,
            ).to(self.device)
        self.target_network = copy.deepcopy(self.q_network).requires_grad_(False)
        self._online_parameters = list(self.q_network.parameters())  # listed once: the module walk costs per step
        # the network of the greedy policy: the online one, or an average of its weights (`policy_averaging`)
        self.policy_network = self.q_network
        if cfg.policy_averaging > 0:
            self.policy_network = copy.deepcopy(self.q_network).requires_grad_(False)
        self.optimizer = self._make_optimizer()
        self.replay = self._make_replay(self.n_envs)
        self.exploration = parse_schedule(cfg.exploration)
        self.learning_rate = parse_schedule(cfg.learning_rate)
        self.priority_beta = parse_schedule(cfg.priority_beta)
        self.rng = np.random.default_rng(seed)  # exploration and replay sampling while training
        self.act_rng = np.random.default_rng([seed, 1])  # act(obs, greedy=False): never disturbs training
        self.env_steps = 0  # env steps (stored transitions) so far
        self.gradient_steps_done = 0
        self.transitions_added = 0  # since the buffer was last empty (learning waits for learning_starts of them)
        self.run_end = 0  # env_steps at which the current (or last) train call stops
        self.episode_state = EpisodeState.new(self.n_envs)
        self._loss_sum = torch.zeros((), device=self.device)
        self._q_sum = torch.zeros((), device=self.device)
        self._updates_since_log = 0
        self._numpy_forward: dict[nn.Module, NumpyCellQNetwork | None] = {}  # per network, built on first use

    def _make_optimizer(self) -> torch.optim.Optimizer:
        cfg = self.config
        params = self._online_parameters
        # the fused kernels run one update over all parameters: far less Python overhead per step
        learning_rate = parse_schedule(cfg.learning_rate)(0)
        if cfg.optimizer == "adam":
            return torch.optim.Adam(params, lr=learning_rate, eps=cfg.optimizer_eps, fused=True)
        return torch.optim.RMSprop(
            params,
            lr=learning_rate,
            alpha=cfg.rmsprop_alpha,
            eps=cfg.optimizer_eps,
            momentum=cfg.rmsprop_momentum,
            centered=cfg.rmsprop_centered,
            foreach=True,
        )

    def _make_replay(self, n_envs: int) -> ReplayBuffer:
        cfg = self.config
        kind = PrioritizedReplayBuffer if cfg.prioritized else ReplayBuffer
        extra = {"alpha": cfg.priority_alpha, "eps": cfg.priority_eps} if cfg.prioritized else {}
        return kind(
            cfg.buffer_size,
            self.observation_space,
            self.n_actions,
            n_envs=n_envs,
            frame_stack=self.frame_stack,
            n_step=cfg.n_step,
            gamma=cfg.gamma,
            **extra,
        )

    # ------------------------------------------------------------------ acting
    def _greedy_actions(self, obs: np.ndarray, network: nn.Module) -> np.ndarray:
        """argmax_a Q(obs, a) of `network` for a batch of observations (0-based actions)."""
        if len(obs) == 1 and self.config.autocast != "bf16":
            if network not in self._numpy_forward:
                self._numpy_forward[network] = NumpyCellQNetwork.for_network(network)
            numpy_forward = self._numpy_forward[network]
            if numpy_forward is not None:  # one image through a cell CNN: numpy_acting.py says why
                return numpy_forward(obs).argmax(axis=1)
        with torch.inference_mode(), self._autocast():  # ~20 us less per call than no_grad on one core
            q_values = network(torch.as_tensor(obs, device=self.device))
        return q_values.argmax(dim=1).cpu().numpy()

    def _autocast(self) -> Any:
        """bfloat16 autocast around forward passes when `config.autocast == "bf16"`, else nothing (a disabled
        torch.autocast still costs ~10 us to enter, once per acting step and twice per update)."""
        if self.config.autocast != "bf16":
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    def _epsilon_greedy(
        self, obs: np.ndarray, epsilon: float, rng: np.random.Generator, network: nn.Module
    ) -> np.ndarray:
        """0-based epsilon-greedy actions of `network` for a batch; it runs only if some env exploits."""
        n = len(obs)
        explore = rng.random(n) < epsilon
        random_actions = rng.integers(0, self.n_actions, size=n)
        if explore.all():
            return random_actions
        return np.where(explore, random_actions, self._greedy_actions(obs, network))

    def _as_batch(self, obs: Any) -> tuple[np.ndarray, bool]:
        """(a batch of observations, whether `obs` was a single observation)."""
        obs = np.asarray(obs)
        shape = tuple(self.observation_space.shape or ())
        single = obs.shape == shape
        batch = obs[None] if single else obs
        if batch.shape[1:] != shape:
            raise ValueError(
                f"observation of shape {obs.shape} does not fit the observation space "
                f"{space_description(self.observation_space)}"
            )
        return batch, single

    def act(self, obs: Any, *, greedy: bool = True) -> Any:
        """The action for one observation (an int) or for a batch (an array). `greedy=False` takes a
        random action with probability `eval_epsilon` (the Nature paper's evaluation policy)."""
        batch, single = self._as_batch(obs)
        epsilon = 0.0 if greedy else self.config.eval_epsilon
        actions = self._epsilon_greedy(batch, epsilon, self.act_rng, self.policy_network) + self.action_start
        return int(actions[0]) if single else actions

    def q_values(self, obs: Any) -> np.ndarray:
        """Q(obs, a) for every action, for one observation or a batch (of the network `act` uses)."""
        batch, single = self._as_batch(obs)
        with torch.inference_mode():
            q = self.policy_network(torch.as_tensor(batch, device=self.device)).cpu().numpy()
        return q[0] if single else q

    # ------------------------------------------------------------------ learning
    def _update_target(self) -> None:
        with torch.no_grad():
            for target, online in zip(self.target_network.parameters(), self._online_parameters):
                if self.config.tau == 1.0:
                    target.copy_(online)
                else:
                    target.lerp_(online, self.config.tau)

    def _update_policy_average(self) -> None:
        """Move the averaged policy weights towards the online ones (step 4 of the module docstring)."""
        k = self.gradient_steps_done
        decay = min(self.config.policy_averaging, (1 + k) / (10 + k))
        with torch.no_grad():
            for average, online in zip(self.policy_network.parameters(), self._online_parameters):
                average.lerp_(online, 1.0 - decay)

    def _to_tensors(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(obs, actions, returns, next_obs, discounts) on the agent's device."""
        obs, actions, returns, next_obs, discounts = (
            torch.as_tensor(array, device=self.device)
            for array in (batch.obs, batch.actions, batch.returns, batch.next_obs, batch.discounts)
        )
        return obs, actions, returns, next_obs, discounts

    def _gradient_step(
        self,
        obs: torch.Tensor,
        actions: torch.Tensor,
        returns: torch.Tensor,
        next_obs: torch.Tensor,
        discounts: torch.Tensor,
        weights: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """One update of the online network on a minibatch; returns the TD errors Q(s, a) - y."""
        cfg = self.config
        with torch.no_grad(), self._autocast():
            next_q = self.target_network(next_obs)
            if cfg.double_dqn:
                next_actions = self.q_network(next_obs).argmax(dim=1, keepdim=True)
                next_values = next_q.gather(1, next_actions).squeeze(1)
            else:
                next_values = next_q.max(dim=1).values
        targets = returns + discounts * next_values.float()
        with self._autocast():
            q = self.q_network(obs).gather(1, actions.unsqueeze(1)).squeeze(1)
        q = q.float()
        loss_function = F.smooth_l1_loss if cfg.loss == "huber" else F.mse_loss
        if weights is None:
            loss = loss_function(q, targets)
        else:
            loss = (loss_function(q, targets, reduction="none") * weights).mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.max_grad_norm is not None:
            nn.utils.clip_grad_norm_(self._online_parameters, cfg.max_grad_norm)
        self.optimizer.step()
        if self.policy_network is not self.q_network:
            self._update_policy_average()
        q = q.detach()
        self._loss_sum += loss.detach()
        self._q_sum += q.mean()
        self._updates_since_log += 1
        self.gradient_steps_done += 1
        return q - targets

    def _learn(self, n_updates: int) -> None:
        """A training phase: `n_updates` gradient steps on minibatches from the replay buffer."""
        size = self.config.batch_size
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate(self.env_steps)
        if isinstance(self.replay, PrioritizedReplayBuffer):
            beta = self.priority_beta(self.env_steps)
            for _ in range(n_updates):  # priorities change after every step, so sample one batch at a time
                batch = self.replay.sample(size, self.rng, beta=beta)
                weights = torch.as_tensor(batch.weights, device=self.device)
                assert batch.indices is not None  # prioritized batches carry their rows
                td_errors = self._gradient_step(*self._to_tensors(batch), weights=weights)
                self.replay.update_priorities(batch.indices, td_errors.abs().cpu().numpy())
        else:  # uniform: the buffer does not change during the phase, so draw every minibatch at once
            obs, actions, returns, next_obs, discounts = self._to_tensors(
                self.replay.sample(n_updates * size, self.rng)
            )
            for start in range(0, n_updates * size, size):
                part = slice(start, start + size)
                self._gradient_step(obs[part], actions[part], returns[part], next_obs[part], discounts[part])
        self._check_finite()

    def _check_finite(self) -> None:
        if not torch.isfinite(self._loss_sum):
            raise TrainingDivergedError(
                f"the DQN loss became {self._loss_sum.item()} at env step {self.env_steps} (gradient step "
                f"{self.gradient_steps_done}); training stopped and no checkpoint was written after this point. "
                "Try a smaller learning_rate, gradient clipping (max_grad_norm) or the Huber loss."
            )

    def train(
        self,
        env: gym.Env | gym.vector.VectorEnv,
        total_steps: int,
        *,
        callback: Callback | None = None,
        log_dir: str | Path | None = None,
        progress: bool = True,
        checkpoint_path: str | Path | None = None,
        checkpoint_every: int = 0,
        checkpoint_replay: bool = False,
    ) -> DQN:
        """Collect `total_steps` more env steps, learning as configured; returns self.

        With `checkpoint_path`, a checkpoint (with the replay buffer if `checkpoint_replay`) is written
        every `checkpoint_every` env steps (0 = never), when Ctrl-C stops training, and at the end.
        Continues the run's counters and schedules: two calls of n steps equal one call of 2n steps.
        """
        if isinstance(total_steps, bool) or not isinstance(total_steps, (int, np.integer)) or total_steps < 1:
            raise ValueError(f"total_steps must be a positive integer, got {total_steps!r}")
        if checkpoint_every < 0:
            raise ValueError(
                f"checkpoint_every must be >= 0 (0 = only at the end and on Ctrl-C), got {checkpoint_every}"
            )
        self._check_env(env)
        cfg = self.config
        self.run_end = self.env_steps + int(total_steps)
        if self.learning_rate(self.run_end - 1) <= 0:
            warnings.warn(
                f"the learning_rate schedule {cfg.learning_rate!r} reaches 0 before this run ends at env step "
                f"{self.run_end}: the network stops learning there; stretch the schedule to the run's length",
                stacklevel=2,
            )
        checkpoint = None if checkpoint_path is None else (Path(checkpoint_path), checkpoint_every, checkpoint_replay)
        collector = Collector(
            env, self.replay, seed=self.seed, state=self.episode_state, action_start=self.action_start
        )
        obs = collector.start()
        env_id = getattr(getattr(env, "spec", None), "id", None) or type(env).__name__
        first_step, last_log, started = self.env_steps, self.env_steps, time.perf_counter()
        with (
            TrainLogger(int(total_steps), log_dir, progress=progress, desc=f"dqn {env_id}") as logger,
            DeferredInterrupt() as interrupt,
            _cpu_settings(self._training_threads()),
        ):
            while self.env_steps < self.run_end:
                # 1. act and store the transition
                random_phase = self.transitions_added < cfg.learning_starts
                epsilon = 1.0 if random_phase else self.exploration(self.env_steps)
                obs, steps, finished = collector.step(self._epsilon_greedy(obs, epsilon, self.rng, self.q_network))
                before = self.env_steps
                self.env_steps += steps
                self.transitions_added += steps
                for _, episode_return, length in finished:
                    self.episode_log.append((self.env_steps, episode_return, length))
                    logger.episode(self.env_steps, episode_return, length)
                # 2. update the target network
                if _crossings(before, self.env_steps, cfg.target_update_interval):
                    self._update_target()
                # 3. learn
                phases = _crossings(before, self.env_steps, cfg.train_freq)
                if phases and self.transitions_added > cfg.learning_starts:
                    self._learn(phases * cfg.gradient_steps)
                logger.step(steps)
                if self.env_steps - last_log >= cfg.log_interval:
                    self._log(logger, epsilon, (self.env_steps - first_step) / (time.perf_counter() - started))
                    last_log = self.env_steps
                if checkpoint and checkpoint[1] and _crossings(before, self.env_steps, checkpoint[1]):
                    self._write_checkpoint(checkpoint)
                if interrupt.requested:
                    if checkpoint:
                        self._write_checkpoint(checkpoint)
                    raise KeyboardInterrupt
                if callback is not None and callback(self, self.env_steps):
                    self.run_end = self.env_steps  # stopped on purpose: `resume` has nothing left to do
                    break
        if checkpoint:
            self._write_checkpoint(checkpoint)
        return self

    def _training_threads(self) -> int | None:
        if self.config.num_threads:
            return self.config.num_threads
        uses_convolutions = any(isinstance(module, nn.Conv2d) for module in self.q_network.modules())
        return None if uses_convolutions else 1

    def _log(self, logger: TrainLogger, epsilon: float, steps_per_second: float) -> None:
        if self._updates_since_log:
            logger.scalar("train/loss", self._loss_sum.item() / self._updates_since_log, self.env_steps)
            logger.scalar("train/q_values", self._q_sum.item() / self._updates_since_log, self.env_steps)
            self._loss_sum.zero_()
            self._q_sum.zero_()
            self._updates_since_log = 0
        logger.scalar("train/epsilon", epsilon, self.env_steps)
        logger.scalar("train/learning_rate", self.learning_rate(self.env_steps), self.env_steps)
        logger.scalar("time/steps_per_second", steps_per_second, self.env_steps)

    def _check_env(self, env: gym.Env | gym.vector.VectorEnv) -> None:
        observation_space, action_space = spaces_of(env)
        if observation_space != self.observation_space or action_space != self.action_space:
            raise ValueError(
                f"this agent was built for observations {self.observation_space} and actions {self.action_space}; "
                f"the env has {observation_space} and {action_space}"
            )
        n_envs = env.num_envs if is_vector_env(env) else 1
        if n_envs != self.replay.n_envs:
            if self.replay.writes.any():
                raise ValueError(
                    f"the replay buffer holds data from {self.replay.n_envs} env(s); this env has {n_envs}"
                )
            self.replay = self._make_replay(n_envs)
            self.episode_state = EpisodeState.new(n_envs)
            self.n_envs = n_envs

    # ------------------------------------------------------------------ checkpoints
    def _write_checkpoint(self, checkpoint: tuple[Path, int, bool]) -> None:
        path, every, with_replay = checkpoint
        self.save(path, include_replay=with_replay, checkpoint_every=every)

    def save(self, path: str | Path, *, include_replay: bool = False, checkpoint_every: int = 0) -> None:
        """Write everything needed to act, continue or resume training to one `.pt` file, atomically."""
        self._check_finite()
        meta = {
            "config": dataclasses.asdict(self.config),
            "seed": self.seed,
            "observation_space": space_to_dict(self.observation_space),
            "action_space": space_to_dict(self.action_space),
            "n_envs": self.n_envs,
            "frame_stack": self.frame_stack,
            "checkpoint_every": checkpoint_every,
            "checkpoint_replay": include_replay,
            "cell_cnn_flatten": CELL_CNN_FLATTEN,
        }
        episode_state = self.episode_state.state_dict()
        if episode_state["obs"] is not None:
            episode_state["obs"] = torch.from_numpy(episode_state["obs"])
        payload = {
            "q_network": self.q_network.state_dict(),
            "target_network": self.target_network.state_dict(),
            "policy_network": self.policy_network.state_dict() if self.policy_network is not self.q_network else None,
            "optimizer": self.optimizer.state_dict(),
            "counters": {
                "env_steps": self.env_steps,
                "gradient_steps": self.gradient_steps_done,
                "transitions_added": self.transitions_added,
                "run_end": self.run_end,
            },
            "rng": {"train": self.rng.bit_generator.state, "act": self.act_rng.bit_generator.state},
            "episode_state": episode_state,
            "episode_log": [list(entry) for entry in self.episode_log],
            "replay": {name: torch.from_numpy(array) for name, array in self.replay.state_dict().items()}
            if include_replay
            else None,
        }
        save_torch(path, self.algo, meta, payload)

    @classmethod
    def load(cls, path: str | Path, env: gym.Env | gym.vector.VectorEnv | None = None) -> DQN:
        """Read a file written by `save`; with `env`, check that its spaces are the ones trained on."""
        return cls._from_checkpoint(path, env)[0]

    @classmethod
    def _from_checkpoint(cls, path: str | Path, env: Any) -> tuple[DQN, dict[str, Any]]:
        meta, payload = load_torch(path, expected_algo=cls.algo)
        try:
            observation_space = space_from_dict(meta["observation_space"])
            action_space = space_from_dict(meta["action_space"])
            config = cls.Config(**meta["config"])
            seed, n_envs, frame_stack = meta["seed"], meta["n_envs"], meta["frame_stack"]
            for name, value, low in (("seed", seed, 0), ("n_envs", n_envs, 1), ("frame_stack", frame_stack, 1)):
                if isinstance(value, bool) or not isinstance(value, int) or value < low:
                    raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise CheckpointError(f"{path}: unreadable DQN checkpoint metadata ({error})") from error
        if env is None:
            env = SpacesOnlyEnv(observation_space, action_space)
        else:
            env_obs, env_act = spaces_of(env)
            if env_obs != observation_space or env_act != action_space:
                raise CheckpointError(
                    f"{path} was trained on observations {space_description(observation_space)} and actions "
                    f"{action_space}; this env has {space_description(env_obs)} and {env_act}"
                )
        if config.device == "cuda" and not torch.cuda.is_available():
            config = dataclasses.replace(config, device="cpu")
        try:
            agent = cls(env, config, seed=seed)
        except ValueError as error:  # a config that this env cannot take: not the file of a working agent
            raise CheckpointError(f"{path}: the saved DQN config does not fit its spaces ({error})") from error
        if (agent.n_envs, agent.frame_stack) != (n_envs, frame_stack):
            agent.n_envs, agent.frame_stack = n_envs, frame_stack
            try:
                agent.replay = agent._make_replay(agent.n_envs)
            except ValueError as error:  # e.g. a frame_stack that the observations are not a stack of
                raise CheckpointError(
                    f"{path}: the saved n_envs / frame_stack do not fit its observations ({error})"
                ) from error
        flatten_order = meta.get("cell_cnn_flatten", "chw")  # files written before it was recorded: "chw"
        if flatten_order not in FLATTEN_ORDERS:
            raise CheckpointError(
                f"{path}: cell_cnn_flatten must be one of {FLATTEN_ORDERS}, got {flatten_order!r:.100}"
            )
        if flatten_order != CELL_CNN_FLATTEN:
            agent._reorder_cell_features(payload, flatten_order)
        agent._load_payload(Path(path), payload)
        return agent, meta

    def _reorder_cell_features(self, payload: dict[str, Any], saved_order: str) -> None:
        """Converts the weights (and their optimizer moments) that read a cell CNN's features from a checkpoint
        that flattened them in `saved_order` (before 2026-12-02: "chw") to this network's order: the same
        Q-values. Entries of unexpected types or shapes are left for `_load_payload` to refuse."""
        readers = cell_feature_readers(self.q_network)
        if readers is None:
            return
        torso, names = readers

        def convert(tensor: Any) -> Any:
            if isinstance(tensor, torch.Tensor) and tensor.ndim == 2 and tensor.shape[1] == torso.features:
                return reorder_feature_columns(tensor, torso.grid, saved_order, CELL_CNN_FLATTEN)
            return tensor

        for network in ("q_network", "target_network", "policy_network"):
            weights = payload.get(network)
            if isinstance(weights, dict):
                for name in names:
                    if name in weights:
                        weights[name] = convert(weights[name])
        optimizer_state = payload.get("optimizer")
        state = optimizer_state.get("state") if isinstance(optimizer_state, dict) else None
        if isinstance(state, dict):
            index = {name: i for i, (name, _) in enumerate(self.q_network.named_parameters())}
            for name in names:
                moments = state.get(index[name])
                if isinstance(moments, dict):  # Adam's exp_avg, exp_avg_sq; RMSprop's square_avg, ...
                    for key, value in moments.items():
                        moments[key] = convert(value)

    def _load_payload(self, path: Path, payload: dict[str, Any]) -> None:
        networks = [("q_network", self.q_network), ("target_network", self.target_network)]
        if self.policy_network is not self.q_network:
            networks.append(("policy_network", self.policy_network))
        for name, network in networks:
            weights = payload.get(name)
            if not isinstance(weights, dict) or not all(isinstance(v, torch.Tensor) for v in weights.values()):
                raise CheckpointError(f"{path}: incomplete DQN checkpoint (no {name} state_dict of tensors)")
            expected = {key: tuple(value.shape) for key, value in network.state_dict().items()}
            found = {key: tuple(value.shape) for key, value in weights.items()}
            if expected != found:
                raise CheckpointError(
                    f"{path}: the {name} weights have shapes {found}, but this config builds {expected}"
                )
            check_finite_tensors(path, name, weights)
            network.load_state_dict(weights)
        check_finite_tensors(path, "optimizer", payload.get("optimizer"))
        try:
            self.optimizer.load_state_dict(payload["optimizer"])
            counters = payload["counters"]
            names = ("env_steps", "gradient_steps", "transitions_added", "run_end")
            if not all(
                isinstance(counters[name], (int, np.integer))
                and not isinstance(counters[name], bool)
                and 0 <= counters[name] <= MAX_STEPS
                for name in names
            ):  # a run_end of 1e30 would "resume" forever
                raise ValueError(f"its counters must be integers from 0 to {MAX_STEPS:,}, got {counters!r:.200}")
            self.env_steps, self.gradient_steps_done = counters["env_steps"], counters["gradient_steps"]
            self.transitions_added, self.run_end = counters["transitions_added"], counters["run_end"]
            self.rng.bit_generator.state = payload["rng"]["train"]
            self.act_rng.bit_generator.state = payload["rng"]["act"]
            state = dict(payload["episode_state"])
            if state["obs"] is not None:
                state["obs"] = state["obs"].numpy()
            self.episode_state = EpisodeState.from_state_dict(state)
            self.episode_log = [(int(s), float(r), int(n)) for s, r, n in payload["episode_log"]]
            if payload["replay"] is not None:
                self.replay.load_state_dict({name: tensor.numpy() for name, tensor in payload["replay"].items()})
            else:
                self.transitions_added = 0  # learning waits for learning_starts new transitions
        except (KeyError, TypeError, ValueError, AttributeError, IndexError, RuntimeError) as error:
            raise CheckpointError(f"{path}: incomplete or inconsistent DQN checkpoint ({error})") from error

    @classmethod
    def resume(cls, path: str | Path, env: gym.Env | gym.vector.VectorEnv, **train_kwargs: Any) -> DQN:
        """Load the checkpoint at `path` and finish the `train` call that wrote it; returns the agent.

        `train_kwargs` go to `train` (callback, log_dir, progress, ...); checkpoints keep going to `path`
        with the interrupted call's `checkpoint_every` and `checkpoint_replay` unless given.
        """
        agent, meta = cls._from_checkpoint(path, env)
        train_kwargs.setdefault("checkpoint_path", path)
        train_kwargs.setdefault("checkpoint_every", meta.get("checkpoint_every", 0))
        train_kwargs.setdefault("checkpoint_replay", meta.get("checkpoint_replay", False))
        remaining = agent.run_end - agent.env_steps
        if remaining > 0:
            agent.train(env, remaining, **train_kwargs)
        return agent
