"""The cell CNN: one output per image cell, clear errors, and the same network in our DQN and in SB3."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

import gym_gridworld  # noqa: F401
import gym_snake  # noqa: F401
from agents import make_agent
from agents.common.cell_cnn import CellCNN, reorder_feature_columns
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


@pytest.mark.parametrize(
    ("env_kwargs", "cell"), [({"id": "gridworld-v0"}, 12), ({"id": "snake-v0", "obs_type": "rgb"}, 4)]
)
def test_ours_and_sb3s_cell_cnn_compute_the_same_q_values_up_to_the_flatten_order(env_kwargs, cell) -> None:
    """Our DQN flattens cell by cell ("hwc"), SB3's extractor channel by channel ("chw"): with ours' weights
    copied into SB3's policy, the first hidden layer's columns reordered, both give the same Q-values."""
    kwargs = dict(env_kwargs)
    env = gym.make(kwargs.pop("id"), **kwargs)
    ours = make_agent("dqn", env, {"cell_pixels": cell, "hidden_sizes": [64], "device": "cpu"}, seed=0)
    theirs = make_agent("sb3-dqn", env, {"cell_pixels": cell, "net_arch": [64], "device": "cpu"}, seed=1)
    torso = ours.q_network.encoder[0]
    assert torso.flatten_order == "hwc" and theirs.model.policy.q_net.features_extractor.torso.flatten_order == "chw"
    with torch.no_grad():
        for mine, sb3 in zip(ours.q_network.parameters(), theirs.model.policy.q_net.parameters(), strict=True):
            is_reader = mine.shape[-1] == torso.features
            sb3.copy_(reorder_feature_columns(mine, torso.grid, "hwc", "chw") if is_reader else mine)
        obs = np.stack([env.reset(seed=s)[0] for s in range(4)])
        q_ours = ours.q_network(torch.as_tensor(obs))
        q_sb3 = theirs.model.policy.q_net(torch.as_tensor(obs).permute(0, 3, 1, 2).float())  # SB3 scales by 1/255
    assert q_ours.abs().max() > 0
    torch.testing.assert_close(q_ours, q_sb3, rtol=1e-5, atol=1e-6)
    assert [ours.act(o) for o in obs] == [int(a) for a in q_sb3.argmax(dim=1)]


def test_the_cell_major_flatten_is_a_free_view_of_channels_last_memory() -> None:
    torso = CellCNN(3, 40, 40, 4, (16, 32), flatten_order="hwc").to(memory_format=torch.channels_last)
    images = torch.rand(5, 3, 40, 40).contiguous(memory_format=torch.channels_last)
    last_map = torso.convolutions[:3](images)  # the last convolution's output, before flattening
    assert last_map.is_contiguous(memory_format=torch.channels_last)
    flat = torso.convolutions[3](last_map)
    assert flat.data_ptr() == last_map.data_ptr()  # no copy
    # cell (row 2, column 7) holds features [(2 * 10 + 7) * 32, ... + 32): that cell's 32 channels
    torch.testing.assert_close(flat[:, (2 * 10 + 7) * 32 : (2 * 10 + 8) * 32], last_map[:, :, 2, 7])
    with pytest.raises(ValueError, match=r"flatten_order must be one of \('chw', 'hwc'\), got 'whc'"):
        CellCNN(3, 40, 40, 4, flatten_order="whc")
    weight = torch.rand(7, torso.features)  # reordering columns: a permutation, undone by the reverse one
    there = reorder_feature_columns(weight, torso.grid, "chw", "hwc")
    back = reorder_feature_columns(there, torso.grid, "hwc", "chw")
    assert not torch.equal(there, weight) and torch.equal(back, weight)
    with pytest.raises(ValueError, match="flatten orders must be in"):
        reorder_feature_columns(weight, torso.grid, "chw", "whc")
