"""DQN Q-networks: picked from the observation space, preprocessing inside, dueling head."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from agents.common.cell_cnn import CellCNN
from agents.dqn.networks import NatureCNN, SmallCNN, make_q_network

IMAGE = gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)
IMAGE_LAST = gym.spaces.Box(0, 255, (84, 84, 4), np.uint8)


def test_vector_observations_get_an_mlp() -> None:
    net = make_q_network(gym.spaces.Box(-1, 1, (4,), np.float32), 2, hidden_sizes=(32, 16))
    assert not any(isinstance(m, torch.nn.Conv2d) for m in net.modules())
    assert [m.out_features for m in net.modules() if isinstance(m, torch.nn.Linear)] == [32, 16, 2]
    assert net(torch.zeros(5, 4)).shape == (5, 2)


def test_images_get_the_nature_cnn_and_are_scaled_inside() -> None:
    net = make_q_network(IMAGE, 6)
    assert isinstance(net.encoder, NatureCNN)
    obs = torch.randint(0, 256, (3, 4, 84, 84), dtype=torch.uint8)
    assert net(obs).shape == (3, 6)
    expected = net.head(net.encoder(obs.float() / 255))
    torch.testing.assert_close(net(obs), expected)


def test_channels_last_images_give_the_same_q_values_as_channels_first() -> None:
    first = make_q_network(IMAGE, 4)
    last = make_q_network(IMAGE_LAST, 4)
    last.load_state_dict(first.state_dict())
    obs = torch.randint(0, 256, (2, 4, 84, 84), dtype=torch.uint8)
    torch.testing.assert_close(last(obs.permute(0, 2, 3, 1).contiguous()), first(obs))


def test_rgb_and_grayscale_images() -> None:
    rgb = make_q_network(gym.spaces.Box(0, 255, (84, 84, 3), np.uint8), 4)
    assert rgb.encoder.convolutions[0].in_channels == 3
    assert rgb(torch.zeros(1, 84, 84, 3, dtype=torch.uint8)).shape == (1, 4)
    gray = make_q_network(gym.spaces.Box(0, 255, (84, 84), np.uint8), 4)
    assert gray(torch.zeros(2, 84, 84, dtype=torch.uint8)).shape == (2, 4)


def test_small_images_fall_back_to_an_mlp_and_nature_cnn_refuses_them() -> None:
    small = gym.spaces.Box(0, 255, (10, 10, 3), np.uint8)
    net = make_q_network(small, 4, hidden_sizes=(8,))
    assert net(torch.full((1, 10, 10, 3), 255, dtype=torch.uint8)).shape == (1, 4)
    with pytest.raises(ValueError, match="at least 36x36"):
        make_q_network(small, 4, network="nature-cnn")


def test_discrete_observations_are_one_hot() -> None:
    net = make_q_network(gym.spaces.Discrete(5, start=1), 3, hidden_sizes=())
    weights = net.head.weight.detach()
    q = net(torch.tensor([1, 5]))
    torch.testing.assert_close(q, (weights[:, [0, 4]] + net.head.bias.detach()[:, None]).T)


def test_dueling_head_combines_value_and_centred_advantages() -> None:
    net = make_q_network(gym.spaces.Box(-1, 1, (3,), np.float32), 4, hidden_sizes=(8,), dueling=True)
    x = torch.randn(6, 3)
    features = net.encoder(x)
    advantages = net.head(features)
    q = net(x)
    torch.testing.assert_close(q.mean(dim=1, keepdim=True), net.value(features))
    torch.testing.assert_close(q - q.mean(dim=1, keepdim=True), advantages - advantages.mean(dim=1, keepdim=True))


@pytest.mark.parametrize(
    "space, name",
    [
        (gym.spaces.Dict({"a": gym.spaces.Discrete(2)}), "Dict"),
        (gym.spaces.Tuple((gym.spaces.Discrete(2),)), "Tuple"),
    ],
)
def test_unsupported_observation_spaces_are_named(space: gym.Space, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        make_q_network(space, 2)


def test_unknown_network_kind() -> None:
    with pytest.raises(ValueError, match="network must be one of"):
        make_q_network(IMAGE, 2, network="resnet")


def test_small_cnn_is_the_2013_dqn_torso_and_loads_like_the_nature_one() -> None:
    net = make_q_network(IMAGE, 6, network="small-cnn", dueling=True)
    assert isinstance(net.encoder, SmallCNN)
    convolutions = [m for m in net.encoder.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size[0], c.stride[0]) for c in convolutions] == [(16, 8, 4), (32, 4, 2)]
    assert net.encoder.linear[0].in_features == 32 * 9 * 9 and net.value.in_features == 256
    obs = torch.randint(0, 256, (3, 4, 84, 84), dtype=torch.uint8)
    assert net(obs).shape == (3, 6)
    twin = make_q_network(IMAGE_LAST, 6, network="small-cnn", dueling=True)
    twin.load_state_dict(net.state_dict())
    torch.testing.assert_close(twin(obs.permute(0, 2, 3, 1).contiguous()), net(obs))
    with pytest.raises(ValueError, match="small-cnn"):
        make_q_network(gym.spaces.Box(0, 255, (10, 10, 3), np.uint8), 4, network="small-cnn")


@pytest.mark.parametrize(
    ("torso", "shape", "keys"),
    [
        (NatureCNN(4, 84, 84), (3, 4, 84, 84), ["convolutions.0", "convolutions.2", "convolutions.4", "linear.0"]),
        (SmallCNN(4, 84, 84), (3, 4, 84, 84), ["convolutions.0", "convolutions.2", "linear.0"]),
        (CellCNN(3, 40, 40, 4, (16, 32)), (3, 3, 40, 40), ["convolutions.0", "convolutions.2"]),
        (CellCNN(3, 84, 84, 12, (16,)), (3, 3, 84, 84), ["convolutions.0"]),
    ],
)
def test_torsos_are_relu_convolutions_and_keep_their_checkpoint_keys(torso, shape, keys) -> None:
    """The torsos on channels-last memory (as DQN runs them) compute ReLU after every convolution, then flatten
    (and the linear layer): values and weight gradients as a plain channels-first reference computes them, under
    the parameter names that saved checkpoints use."""
    assert sorted(torso.state_dict()) == sorted(f"{key}.{kind}" for key in keys for kind in ("weight", "bias"))
    torso = torso.to(memory_format=torch.channels_last)
    images = torch.rand(shape)
    convolutions = [m for m in torso.modules() if isinstance(m, torch.nn.Conv2d)]
    linear = [m for m in torso.modules() if isinstance(m, torch.nn.Linear)]

    def reference() -> torch.Tensor:
        x = images
        for conv in convolutions:
            x = torch.relu(F.conv2d(x, conv.weight, conv.bias, conv.stride, conv.padding))
        x = x.flatten(1)
        return torch.relu(linear[0](x)) if linear else x

    expected = reference()
    expected.square().sum().backward()
    expected_grads = [p.grad.clone() for p in torso.parameters()]
    torso.zero_grad()
    got = torso(images.contiguous(memory_format=torch.channels_last))
    got.square().sum().backward()
    torch.testing.assert_close(got, expected)
    for grad, reference_grad in zip([p.grad for p in torso.parameters()], expected_grads):
        torch.testing.assert_close(grad, reference_grad)
