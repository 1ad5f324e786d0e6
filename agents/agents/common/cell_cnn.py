"""A small CNN for images drawn as flat-coloured square cells (gridworld-v0, snake-v0 "rgb"), shared by our
DQN (`agents.dqn.networks`, `network="cell-cnn"`) and the SB3 baselines (a features extractor), so
both compare the same network.

    torso = CellCNN(in_channels=3, height=84, width=84, cell_pixels=12, channels=(16, 32))
    features = torso(images)          # float (N, C, H, W) in [0, 1] -> (N, torso.features)

    >>> import torch
    >>> torso = CellCNN(3, 40, 40, cell_pixels=4, channels=(16, 32), flatten_order="hwc")
    >>> images = torch.rand(8, 3, 40, 40).contiguous(memory_format=torch.channels_last)
    >>> torso(images).shape                              # 32 channels x 10 x 10 cells
    torch.Size([8, 3200])

Layers: a convolution whose kernel and stride are the cell (`cell_pixels`), so each output position
reads exactly one cell (an 84x84 gridworld image becomes its 7x7 cells, a 40x40 snake image its
10x10 cells), then 3x3 convolutions (padding 1) over the cells, ReLU after each, flattened.

Flattening order (`flatten_order`): "chw" (PyTorch's `Flatten`: channel-major, SB3's layout) or "hwc" (cell-major).
The two are the same network up to a fixed permutation of the next linear layer's input columns (which
initialises each weight independently, so they also start from the same distribution). Each is a free view
of one memory layout: "chw" of the default (N, C, H, W) memory, "hwc" of channels-last memory. Our DQN runs
its convolutions on channels-last memory and so flattens "hwc": with "chw" it paid for a copy of the
features in every forward pass and a layout change of their gradient in every backward pass (a few percent
of a batch-32 update on one core; benchmarks/RESULTS.md, "Eleventh session's runs"). SB3's policies run on
the default layout, so the SB3 features extractor keeps "chw".

Why: the Nature CNN's 8x8 stride-4 windows straddle cells and spend most of their work on pixels that
repeat one colour; reading each cell once costs about a tenth of the multiply-adds on these images
(measured update times in benchmarks/RESULTS.md, "Pixel comparison") and keeps the grid's geometry.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn


def check_cell_shape(height: int, width: int, cell_pixels: int, channels: Sequence[int]) -> None:
    """A ValueError naming the problem when the image is not made of whole `cell_pixels` cells."""
    if isinstance(cell_pixels, bool) or not isinstance(cell_pixels, int) or cell_pixels < 1:
        raise ValueError(f"cell_pixels must be a positive integer, got {cell_pixels!r}")
    if height % cell_pixels or width % cell_pixels:
        raise ValueError(
            f"cell_pixels={cell_pixels} does not divide the {height}x{width} image into whole cells; "
            f"use a divisor of both sides (e.g. 12 for gridworld-v0's 84x84, snake-v0's cell_size for its images)"
        )
    if not channels or any(isinstance(c, bool) or not isinstance(c, int) or c < 1 for c in channels):
        raise ValueError(f"cnn_channels must be one or more positive integers, got {tuple(channels)!r}")


def flattened_relu() -> list[nn.Module]:
    """The last ReLU of a convolutional torso, after flattening: the same values as ReLU then Flatten, but on
    channels-last memory ReLU's backward otherwise meets a gradient in the other layout (Flatten's) and takes
    PyTorch's slow mixed-layout path (~280 us instead of ~15 us for 32x32x10x10 on one core; a whole cell-CNN
    forward and backward pass 7-9% faster). Parameterless, so checkpoints' keys do not change."""
    return [nn.Flatten(), nn.ReLU()]


class FlattenCellMajor(nn.Module):
    """(N, C, H, W) -> (N, H * W * C), each cell's channels together: a view of channels-last memory."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, 2, 3, 1).flatten(1)


FLATTEN_ORDERS = ("chw", "hwc")


def reorder_feature_columns(weight: torch.Tensor, grid: tuple[int, int, int], source: str, target: str) -> torch.Tensor:
    """The columns of a linear layer's `weight` that reads features flattened in the `source` order,
    reordered for the `target` order: the same function of the image (`grid` = CellCNN.grid, the (C, H, W) of
    the last map). How old DQN checkpoints are converted, and how weights move between ours and SB3's."""
    if source not in FLATTEN_ORDERS or target not in FLATTEN_ORDERS:
        raise ValueError(f"flatten orders must be in {FLATTEN_ORDERS}, got {source!r} and {target!r}")
    rows, (channels, height, width) = weight.shape[0], grid
    if source == target:
        return weight.clone()
    if source == "chw":
        return weight.reshape(rows, channels, height, width).permute(0, 2, 3, 1).reshape(rows, -1).clone()
    return weight.reshape(rows, height, width, channels).permute(0, 3, 1, 2).reshape(rows, -1).clone()


class CellCNN(nn.Module):
    """Cell-reading convolution, then 3x3 convolutions over the cells; see the module docstring."""

    def __init__(
        self,
        in_channels: int,
        height: int,
        width: int,
        cell_pixels: int,
        channels: Sequence[int] = (16, 32),
        flatten_order: str = "chw",
    ) -> None:
        super().__init__()
        channels = tuple(channels)
        check_cell_shape(height, width, cell_pixels, channels)
        if flatten_order not in FLATTEN_ORDERS:
            raise ValueError(f"flatten_order must be one of {FLATTEN_ORDERS}, got {flatten_order!r}")
        layers: list[nn.Module] = [nn.Conv2d(in_channels, channels[0], cell_pixels, stride=cell_pixels)]
        for before, after in zip(channels, channels[1:]):
            layers += [nn.ReLU(), nn.Conv2d(before, after, 3, padding=1)]
        flatten = flattened_relu() if flatten_order == "chw" else [FlattenCellMajor(), nn.ReLU()]
        self.convolutions = nn.Sequential(*layers, *flatten)
        self.flatten_order = flatten_order
        self.grid = (channels[-1], height // cell_pixels, width // cell_pixels)  # (C, H, W) of the last map
        self.features = math.prod(self.grid)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.convolutions(x)
