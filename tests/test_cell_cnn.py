"""The cell CNN: one output per image cell, clear errors, and the same network in our DQN and in SB3."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

import gym_gridworld  # noqa: F401
import gym_snake  # noqa: F401
from agents import make_agent
from agents.common.cell_cnn import CellCNN
from agents.dqn.networks import make_q_network


def test_first_convolution_reads_each_cell_once() -> None:
    torso = CellCNN(3, 84, 84, 12, (16, 32))
    first = torso.convolutions[0]
    assert first.kernel_size == (12, 12) and first.stride == (12, 12)
    assert torso(torch.zeros(2, 3, 84, 84)).shape == (2, 32 * 7 * 7) == (2, torso.features)
    # a change inside one cell moves only that cell's first-layer output
    image = torch.zeros(1, 3, 84, 84)
    changed = image.clone()
    changed[0, :, 12:24, 36:48] = 1.0  # cell (1, 3)
    diff = (first(changed) - first(image)).abs().sum(dim=1)[0]
    assert diff[1, 3] > 0 and diff.sum() == diff[1, 3]


def test_auto_picks_the_cell_cnn_when_cell_pixels_is_set_and_errors_name_the_problem() -> None:
    space = gym.make("gridworld-v0").observation_space
    net = make_q_network(space, 4, cell_pixels=12, hidden_sizes=(128,))
    assert any(isinstance(m, CellCNN) for m in net.modules())
    obs = np.stack([gym.make("gridworld-v0").reset(seed=s)[0] for s in range(3)])
    assert net(torch.as_tensor(obs)).shape == (3, 4)
    with pytest.raises(ValueError, match="cell_pixels=10 does not divide the 84x84 image"):
        make_q_network(space, 4, cell_pixels=10)
    with pytest.raises(ValueError, match="needs cell_pixels"):
        make_q_network(space, 4, network="cell-cnn")
    with pytest.raises(ValueError, match="cnn_channels"):
        make_agent("dqn", gym.make("gridworld-v0"), {"cell_pixels": 12, "cnn_channels": []})


@pytest.mark.parametrize(
    ("env_kwargs", "cell"),
    [
        ({"id": "gridworld-v0"}, 12),
        ({"id": "snake-v0", "obs_type": "rgb"}, 4),
    ],
)
def test_sb3_dqn_gets_the_same_network_as_ours(env_kwargs, cell) -> None:
    kwargs = dict(env_kwargs)
    env = gym.make(kwargs.pop("id"), **kwargs)
    ours = make_agent("dqn", env, {"cell_pixels": cell, "hidden_sizes": [64], "device": "cpu"}, seed=0)
    theirs = make_agent("sb3-dqn", env, {"cell_pixels": cell, "net_arch": [64], "device": "cpu"}, seed=0)
    ours_shapes = sorted(tuple(p.shape) for p in ours.q_network.parameters())
    theirs_shapes = sorted(tuple(p.shape) for p in theirs.model.policy.q_net.parameters())
    assert ours_shapes == theirs_shapes
    ppo = make_agent("sb3-ppo", env, {"cell_pixels": cell, "net_arch": [64]}, seed=0)
    assert type(ppo.model.policy.features_extractor).__name__ == "SB3CellCNN"
