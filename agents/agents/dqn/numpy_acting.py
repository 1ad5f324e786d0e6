"""The Q-values of a cell-CNN Q-network for one observation, computed in numpy: DQN's acting step.

    >>> import gymnasium as gym
    >>> from agents.dqn.networks import make_q_network
    >>> space = gym.spaces.Box(0, 255, (40, 40, 3), np.uint8)
    >>> network = make_q_network(space, n_actions=4, hidden_sizes=(64,), cell_pixels=4)
    >>> q_values = NumpyCellQNetwork.for_network(network)
    >>> obs = space.sample()[None]                       # a batch of one observation
    >>> with torch.inference_mode():
    ...     expected = network(torch.as_tensor(obs)).numpy()
    >>> bool(np.allclose(q_values(obs), expected, atol=1e-5))
    True

Why: a training step acts on one observation, and a batch-1 pass of the torch network costs far more than
its arithmetic (~0.1 M multiply-adds for snake-v0's 40x40 images). Each torch operator pays the dispatcher,
and between two acting steps the env and the gradient step evict that code from the caches: in the training
loop the torch pass took a median 610-670 us per step on this project's 2-core AMD CPU (snake-rgb, about a
sixth of a learning step) and this one 220 us (benchmarks/RESULTS.md, "Twelfth session's runs"). Batches
keep the torch network: there the arithmetic dominates, and numpy's OpenBLAS would start threads on a
second core.

The computation, with the image's cells as rows, each layer one gather and one matrix product:
- the cell convolution (kernel = stride = cell): the pixels of each cell, gathered by an index built once
  for the observation's layout in the order of the kernel's memory (so the kernel is a view), times the
  kernel, scaled by 1/255 (what `ObservationToInput` does to the pixels first);
- each 3x3 convolution (padding 1): the map with a border of zeros, each cell's 3x3 neighbourhood gathered
  the same way (im2col), times the kernel;
- the features flattened cell by cell (the network's `flatten_order="hwc"`), then the MLP and the head
  (dueling or not).
The parameters are numpy views of the network's own tensors (shared memory), so a gradient step, a target
copy or `load_state_dict` is seen at once; a tensor that was replaced rather than updated (`module.to`,
`param.data = ...`) is noticed at the next call and the views are taken again. The values equal the torch
network's to float32 rounding (a test checks 1e-5 on random weights, every image layout, dueling heads,
deeper torsos).
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch import nn

from agents.common.cell_cnn import CellCNN
from agents.dqn.networks import ObservationToInput, QNetwork

# OpenBLAS (numpy's) computes a matrix product on one thread up to about this many multiply-adds on this
# project's machines (measured: 0.46 M on one thread, 0.77 M on two); past it, threads cost more than they save
# at these sizes, so a network whose products exceed it stays with torch.
ONE_THREAD_MULTIPLY_ADDS = 500_000


class NumpyCellQNetwork:
    """Q-values of `network` (a cell-CNN `QNetwork` on CPU, float32) for a batch of uint8 observations."""

    def __init__(
        self,
        torso: CellCNN,
        convolutions: list[nn.Conv2d],
        hidden: list[nn.Linear],
        heads: list[nn.Linear],
        layout: str,
    ) -> None:
        """Use `for_network`, which checks that the network fits (every layer with a bias, 3x3 convolutions)."""
        self.layers: list[tuple[torch.Tensor, torch.Tensor]] = []
        for layer in [*convolutions, *hidden, *heads]:
            weight, bias = layer.weight, layer.bias
            assert isinstance(weight, torch.Tensor) and isinstance(bias, torch.Tensor)  # for_network checked it
            self.layers.append((weight, bias))
        self.n_convolutions, self.n_hidden, self.dueling = len(convolutions), len(hidden), len(heads) == 2
        self.parameters = [tensor for pair in self.layers for tensor in pair]
        in_channels, self.cell = convolutions[0].in_channels, int(convolutions[0].kernel_size[0])
        _, self.rows, self.cols = torso.grid
        height, width = self.rows * self.cell, self.cols * self.cell
        self.layout = layout
        self.image_shape: tuple[int, ...] = {
            "channels_last": (height, width, in_channels),
            "channels_first": (in_channels, height, width),
            "grayscale": (height, width),
        }[layout]
        self._take_views()

    @classmethod
    def for_network(cls, network: nn.Module) -> NumpyCellQNetwork | None:
        """The numpy forward pass of `network`, or None when it does not apply: not a cell-CNN `QNetwork`
        flattened cell by cell, not float32 on the CPU, a layer without a bias, or a product too large for one
        BLAS thread."""
        if not isinstance(network, QNetwork) or not isinstance(network.preprocess, ObservationToInput):
            return None
        encoder, preprocess = network.encoder, network.preprocess
        if not (isinstance(encoder, nn.Sequential) and isinstance(encoder[0], CellCNN)):
            return None
        torso, hidden = encoder[0], [m for m in encoder[1].modules() if isinstance(m, nn.Linear)]
        if torso.flatten_order != "hwc" or preprocess.image not in LAYOUTS or preprocess.scale != 1.0 / 255.0:
            return None
        if any(p.device.type != "cpu" or p.dtype != torch.float32 for p in network.parameters()):
            return None
        convolutions = [m for m in torso.convolutions if isinstance(m, nn.Conv2d)]
        heads = [network.head] + ([network.value] if network.value is not None else [])
        if any(conv.kernel_size != (3, 3) or conv.padding != (1, 1) for conv in convolutions[1:]):
            return None
        if any(layer.bias is None for layer in [*convolutions, *hidden, *heads]):
            return None
        _, rows, cols = torso.grid
        products = [rows * cols * conv.weight[0].numel() * conv.out_channels for conv in convolutions]
        products += [layer.in_features * layer.out_features for layer in hidden]
        if max(products) > ONE_THREAD_MULTIPLY_ADDS:
            return None
        return cls(torso, convolutions, hidden, heads, str(preprocess.image))

    def _take_views(self) -> None:
        """(matrix, bias) numpy views of every layer, and for each convolution the gather index that matches
        its kernel's memory order: (channel, dy, dx) for the default layout, (dy, dx, channel) for channels-last
        (DQN's), so the kernel is a view either way."""
        self.arrays: list[tuple[np.ndarray, np.ndarray]] = []
        self.indices: list[np.ndarray] = []
        copied = False
        for number, (weight, bias) in enumerate(self.layers):
            tensor = weight.detach()
            channels_last = tensor.dim() == 4 and not tensor.is_contiguous()
            channels_last = channels_last and tensor.is_contiguous(memory_format=torch.channels_last)
            if channels_last:
                tensor = tensor.permute(0, 2, 3, 1)
            copied = copied or not tensor.is_contiguous()
            self.arrays.append((tensor.reshape(len(tensor), -1).numpy().T, bias.detach().numpy()))
            if number == 0:
                self.indices.append(_cell_pixel_index(self.image_shape, self.layout, self.cell, channels_last))
            elif number < self.n_convolutions:
                self.indices.append(_neighbour_index(self.rows, self.cols, int(weight.shape[1]), channels_last))
        # views of the parameters' memory stay valid while it is updated in place; a copy has to be retaken
        self.addresses = None if copied else [tensor.data_ptr() for tensor in self.parameters]

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        """(n, n_actions) float32 Q-values of uint8 observations shaped as the env returns them, batched."""
        if self.addresses is None or [tensor.data_ptr() for tensor in self.parameters] != self.addresses:
            self._take_views()
        n = len(obs)
        arrays = iter(self.arrays)
        kernel, bias = next(arrays)
        pixels = obs.reshape(n, -1)[:, self.indices[0]].astype(np.float32)  # (n, cells, C * cell * cell)
        x = pixels.reshape(n * self.rows * self.cols, -1) @ kernel
        x *= np.float32(1.0 / 255.0)
        x = _relu(x, bias)
        for index in self.indices[1:]:
            kernel, bias = next(arrays)
            channels = x.shape[1]
            padded = np.zeros((n, self.rows + 2, self.cols + 2, channels), np.float32)
            padded[:, 1:-1, 1:-1] = x.reshape(n, self.rows, self.cols, channels)
            neighbours = padded.reshape(n, -1)[:, index]  # (n, cells, channels * 9)
            x = _relu(neighbours.reshape(n * self.rows * self.cols, -1) @ kernel, bias)
        features = x.reshape(n, -1)  # cell by cell, as FlattenCellMajor
        for _ in range(self.n_hidden):
            kernel, bias = next(arrays)
            features = _relu(features @ kernel, bias)
        kernel, bias = next(arrays)
        q = features @ kernel + bias
        if not self.dueling:
            return q
        kernel, bias = next(arrays)
        return features @ kernel + bias + q - q.mean(axis=1, keepdims=True)


LAYOUTS = ("channels_last", "channels_first", "grayscale")  # ObservationToInput.image


def _relu(x: np.ndarray, bias: np.ndarray) -> np.ndarray:
    x += bias
    return np.maximum(x, 0, out=x)


@functools.lru_cache(maxsize=64)  # one per network shape; rebuilt only if a kernel's layout changes
def _cell_pixel_index(image_shape: tuple[int, ...], layout: str, cell: int, channels_last: bool) -> np.ndarray:
    """(cells, C * cell * cell) flat indices into one observation: row r lists the pixels of cell r (cells in
    row-major order) in a Conv2d kernel's order, (channel, row, column), or (row, column, channel) for a
    channels-last kernel."""
    flat: np.ndarray = np.arange(int(np.prod(image_shape))).reshape(image_shape)
    if layout == "channels_first":
        flat = flat.transpose(1, 2, 0)
    elif layout == "grayscale":
        flat = flat[..., None]
    height, width, channels = flat.shape
    cells = flat.reshape(height // cell, cell, width // cell, cell, channels).transpose(0, 2, 1, 3, 4)
    if not channels_last:
        cells = cells.transpose(0, 1, 4, 2, 3)
    return cells.reshape((height // cell) * (width // cell), -1)


@functools.lru_cache(maxsize=64)
def _neighbour_index(rows: int, cols: int, channels: int, channels_last: bool) -> np.ndarray:
    """(rows * cols, channels * 9) flat indices into a (rows + 2, cols + 2, channels) map (a zero border
    around the cells): row r lists cell r's 3x3 neighbourhood in a Conv2d kernel's order, (channel, dy, dx),
    or (dy, dx, channel) for a channels-last kernel."""
    padded = np.arange((rows + 2) * (cols + 2) * channels).reshape(rows + 2, cols + 2, channels)
    window = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(0, 1))  # (rows, cols, C, 3, 3)
    if channels_last:
        window = window.transpose(0, 1, 3, 4, 2)
    return window.reshape(rows * cols, channels * 9)
