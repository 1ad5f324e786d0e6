"""Q-networks for DQN, chosen from the observation space.

    >>> import gymnasium as gym
    >>> env = gym.make("CartPole-v1")
    >>> net = make_q_network(env.observation_space, n_actions=2, hidden_sizes=(256, 256))
    >>> obs_batch = np.stack([env.reset(seed=i)[0] for i in range(8)])
    >>> net(torch.as_tensor(obs_batch)).shape           # (batch, n_actions)
    torch.Size([8, 2])
    >>> type(make_q_network(gym.spaces.Box(0, 255, (4, 84, 84), np.uint8), n_actions=6).encoder).__name__
    'NatureCNN'

A Q-network is an *encoder* (observations -> features) followed by a *head* (features -> one value
per action). What the network accepts is exactly what the env returns, batched:

| observation space                                  | encoder                                     |
|----------------------------------------------------|---------------------------------------------|
| `Box` image: uint8, (H, W), (C, H, W) or (H, W, C), | Nature CNN (Mnih et al. 2015): 32x8x8/4,    |
| both sides >= 36 pixels                            | 64x4x4/2, 64x3x3/1, then 512 units          |
| the same, with `network="small-cnn"`               | the 2013 DQN's CNN: 16x8x8/4, 32x4x4/2, 256 |
| the same, with `cell_pixels` given                 | cell CNN (`agents.common.cell_cnn`), then   |
|                                                    | the MLP of `hidden_sizes`                   |
| any other `Box` (vectors, small grids, floats)     | MLP over the flattened observation          |
| `Discrete(n)`                                      | one-hot of length n, then the MLP           |
| `MultiBinary`                                      | flattened 0/1 values, then the MLP          |

The cell CNN is for images of flat-coloured square cells (gridworld-v0: 12-pixel cells of an 84x84
image; snake-v0 "rgb": `cell_size`-pixel cells, 4 by default): a first convolution with the cell as
kernel and stride reads each cell once, 3x3 convolutions (`cnn_channels`) follow. `network="auto"`
takes it whenever `cell_pixels` is set (the per-env hyperparameter files set it for those envs) and
the Nature CNN otherwise: the cell size is a property of how the env draws, which the observation
space does not say. On these images it costs about a tenth of the Nature CNN's update time.
Its features are flattened cell by cell (`flatten_order="hwc"`, a free view of the channels-last
memory the convolutions run on); checkpoints written before 2026-12-02 flattened channel by channel and
are converted on load (`DQN.load`), so they compute the same Q-values.

Preprocessing lives inside the network, so the replay buffer keeps the env's compact dtypes:
uint8 observations are scaled to [0, 1] on the fly, and channels-last images (H, W, C), the layout of
most image envs, are permuted once at the input to the (C, H, W) shape convolutions want; the
convolutions run on channels-last memory, which is 1.6x faster than the default layout on CPU.
The smaller side decides the layout, as in Stable-Baselines3: (4, 84, 84) is channels-first,
(84, 84, 4) and (84, 84, 3) are channels-last.

The head is one linear layer, or with `dueling=True` the dueling architecture of Wang et al. (2016):
a state value V(s) and advantages A(s, a) from the same features, combined as
Q(s, a) = V(s) + A(s, a) - mean_a A(s, a).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from agents.common.cell_cnn import CellCNN, flattened_relu

NETWORK_KINDS = ("auto", "mlp", "nature-cnn", "small-cnn", "cell-cnn")
CELL_CNN_FLATTEN = "hwc"  # the cell CNN's flatten order here: a free view of the channels-last memory (CellCNN)
IMAGE_NETWORKS = ("nature-cnn", "small-cnn", "cell-cnn")
NATURE_CNN_MIN_SIDE = 36  # the three Nature convolutions need at least 36x36 pixels


def space_description(space: gym.Space) -> str:
    """A short, readable name of a space for error messages."""
    return f"{type(space).__name__}{tuple(space.shape) if space.shape is not None else ''} dtype={space.dtype}"


def check_observation_space(space: gym.Space) -> None:
    """Raise a ValueError naming the space if DQN cannot take it as input."""
    if isinstance(space, (gym.spaces.Box, gym.spaces.Discrete, gym.spaces.MultiBinary)):
        if isinstance(space, gym.spaces.Box) and not np.issubdtype(space.dtype, np.number):
            raise ValueError(f"DQN needs a numeric Box observation space, got {space}")
        return
    raise ValueError(
        f"DQN does not support the observation space {space!r} ({type(space).__name__}); supported: Box, "
        "Discrete and MultiBinary. Flatten Dict/Tuple observations first, e.g. with "
        "gymnasium.wrappers.FlattenObservation."
    )


def image_layout(space: gym.Space) -> str | None:
    """'channels_first', 'channels_last' or 'grayscale' for a uint8 image space; None otherwise."""
    if not isinstance(space, gym.spaces.Box) or space.dtype != np.uint8:
        return None
    shape = space.shape
    if len(shape) == 2:
        height, width = shape
        layout = "grayscale"
    elif len(shape) == 3:
        layout = "channels_first" if int(np.argmin(shape)) == 0 else "channels_last"
        height, width = (shape[1], shape[2]) if layout == "channels_first" else (shape[0], shape[1])
    else:
        return None
    return layout if min(height, width) >= NATURE_CNN_MIN_SIDE else None


class ObservationToInput(nn.Module):
    """Batched observations as the env returns them -> float32 tensors the encoder takes.

    One-hot for Discrete spaces, scaling by 1/255 for uint8, and for images the (N, C, H, W) layout.
    """

    def __init__(self, space: gym.Space, image: str | None) -> None:
        super().__init__()
        self.one_hot = int(space.n) if isinstance(space, gym.spaces.Discrete) else 0
        self.discrete_start = int(space.start) if isinstance(space, gym.spaces.Discrete) else 0
        self.scale = 1.0 / 255.0 if space.dtype == np.uint8 else 1.0
        self.image = image

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        if self.one_hot:
            return nn.functional.one_hot(obs.long().reshape(-1) - self.discrete_start, self.one_hot).float()
        if self.image == "channels_last":
            obs = obs.permute(0, 3, 1, 2)  # the single layout conversion: (N, H, W, C) -> (N, C, H, W)
        elif self.image == "grayscale":
            obs = obs.unsqueeze(1)
        if self.image:  # CPU and GPU convolutions are fastest on channels-last memory (1.6x here); the
            # layout is changed on the input's own bytes (uint8: a quarter of a float copy), then kept by float()
            obs = obs.contiguous(memory_format=torch.channels_last)
        x = obs.float()
        if self.scale != 1.0:
            x = x.mul_(self.scale) if x is not obs else x * self.scale  # in place on float()'s fresh copy
        return x if self.image else x.flatten(1)


def mlp(in_features: int, hidden_sizes: Sequence[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for size in hidden_sizes:
        layers += [nn.Linear(in_features, size), nn.ReLU()]
        in_features = size
    return nn.Sequential(*layers)


class AtariCNN(nn.Module):
    """Convolutions with ReLUs, flattened, then one ReLU linear layer of `features` units.

    `convolutions` lists (out_channels, kernel, stride) per layer; the DQN papers' torsos are its subclasses.
    """

    def __init__(
        self, in_channels: int, height: int, width: int, convolutions: Sequence[tuple[int, int, int]], features: int
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_channels
        for out_channels, kernel, stride in convolutions:
            layers += [nn.Conv2d(channels, out_channels, kernel_size=kernel, stride=stride), nn.ReLU()]
            channels = out_channels
        self.convolutions = nn.Sequential(*layers[:-1], *flattened_relu())  # (cell_cnn: why the order)
        with torch.no_grad():
            flat = self.convolutions(torch.zeros(1, in_channels, height, width)).shape[1]
        self.linear = nn.Sequential(nn.Linear(flat, features), nn.ReLU())
        self.features = features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.convolutions(x))


class NatureCNN(AtariCNN):
    """The torso of the Nature DQN (Mnih et al. 2015): 32x8x8/4, 64x4x4/2, 64x3x3/1, then 512 units."""

    def __init__(self, in_channels: int, height: int, width: int) -> None:
        super().__init__(in_channels, height, width, ((32, 8, 4), (64, 4, 2), (64, 3, 1)), features=512)


class SmallCNN(AtariCNN):
    """The torso of the first DQN (Mnih et al. 2013): 16x8x8/4, 32x4x4/2, then 256 units.

    About 2.3x cheaper to train than the Nature CNN on 84x84x4 frames (19 against 43 ms a batch-32 update
    on one AVX2 core), so a CPU budget affords that many more updates; it learned Pong in the 2013 paper.
    """

    def __init__(self, in_channels: int, height: int, width: int) -> None:
        super().__init__(in_channels, height, width, ((16, 8, 4), (32, 4, 2)), features=256)


class QNetwork(nn.Module):
    """observation batch -> Q-values (batch, n_actions); see the module docstring."""

    def __init__(self, preprocess: nn.Module, encoder: nn.Module, features: int, n_actions: int, dueling: bool) -> None:
        super().__init__()
        self.preprocess = preprocess
        self.encoder = encoder
        self.dueling = dueling
        self.head = nn.Linear(features, n_actions)  # the advantages when dueling
        self.value = nn.Linear(features, 1) if dueling else None

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        features = self.encoder(self.preprocess(obs))
        if self.value is None:
            return self.head(features)
        advantages = self.head(features)
        return self.value(features) + advantages - advantages.mean(dim=1, keepdim=True)


def cell_feature_readers(network: QNetwork) -> tuple[CellCNN, list[str]] | None:
    """For a cell-CNN Q-network, its torso and the names of the weights that read the torso's flattened
    features (the first hidden layer's, or the head's without hidden layers); None for other networks."""
    encoder = network.encoder
    if not (isinstance(encoder, nn.Sequential) and isinstance(encoder[0], CellCNN)):
        return None
    hidden = encoder[1]
    assert isinstance(hidden, nn.Sequential)  # make_q_network's mlp
    if len(hidden):
        return encoder[0], ["encoder.1.0.weight"]
    return encoder[0], ["head.weight"] + (["value.weight"] if network.value is not None else [])


def make_q_network(
    observation_space: gym.Space,
    n_actions: int,
    *,
    network: str = "auto",
    hidden_sizes: Sequence[int] = (256, 256),
    dueling: bool = False,
    cell_pixels: int | None = None,
    cnn_channels: Sequence[int] = (16, 32),
) -> QNetwork:
    """The Q-network for `observation_space` (see the module docstring for the choice)."""
    check_observation_space(observation_space)
    if network not in NETWORK_KINDS:
        raise ValueError(f"network must be one of {NETWORK_KINDS}, got {network!r}")
    if network == "auto" and cell_pixels is not None:
        network = "cell-cnn"
    if network == "cell-cnn" and cell_pixels is None:
        raise ValueError("network='cell-cnn' needs cell_pixels, the side of one cell of the image in pixels")
    layout = image_layout(observation_space)
    if network in IMAGE_NETWORKS and layout is None:
        raise ValueError(
            f"network={network!r} needs uint8 image observations of at least {NATURE_CNN_MIN_SIDE}x"
            f"{NATURE_CNN_MIN_SIDE} pixels, shaped (H, W), (C, H, W) or (H, W, C); got "
            f"{space_description(observation_space)}"
        )
    use_cnn = layout is not None and network != "mlp"
    preprocess = ObservationToInput(observation_space, layout if use_cnn else None)
    if use_cnn:
        shape = observation_space.shape
        assert shape is not None  # an image Box (image_layout checked it)
        if layout == "grayscale":
            channels, height, width = 1, *shape
        elif layout == "channels_first":
            channels, height, width = shape
        else:
            height, width, channels = shape
        if network == "cell-cnn":
            assert cell_pixels is not None  # checked above
            torso = CellCNN(channels, height, width, cell_pixels, cnn_channels, flatten_order=CELL_CNN_FLATTEN)
            head = mlp(torso.features, hidden_sizes)
            encoder: nn.Module = nn.Sequential(torso, head)
            # Module.to takes memory_format at runtime; torch's overloads of it leave it out
            encoder = encoder.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
            features = int(hidden_sizes[-1]) if hidden_sizes else torso.features
        else:
            cnn = SmallCNN(channels, height, width) if network == "small-cnn" else NatureCNN(channels, height, width)
            features = cnn.features
            encoder = cnn.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # as above
    else:
        if isinstance(observation_space, gym.spaces.Discrete):
            in_features = int(observation_space.n)
        else:
            assert observation_space.shape is not None  # a Box or MultiBinary (check_observation_space)
            in_features = int(math.prod(observation_space.shape))
        if not hidden_sizes:
            encoder, features = nn.Identity(), in_features
        else:
            encoder, features = mlp(in_features, hidden_sizes), int(hidden_sizes[-1])
    return QNetwork(preprocess, encoder, features, n_actions, dueling)
