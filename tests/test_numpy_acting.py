"""DQN's numpy acting pass (agents.dqn.numpy_acting): the same Q-values as the torch network, the current
weights at every call, and used by DQN exactly where it applies."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from agents.dqn import DQN
from agents.dqn.networks import make_q_network
from agents.dqn.numpy_acting import NumpyCellQNetwork


def cell_network(shape, cell, channels=(16, 32), hidden=(64,), dueling=False, seed=0):
    """A cell-CNN Q-network with weights far from their initial scale (so every layer matters)."""
    torch.manual_seed(seed)
    network = make_q_network(
        gym.spaces.Box(0, 255, shape, np.uint8),
        5,
        hidden_sizes=hidden,
        cell_pixels=cell,
        cnn_channels=channels,
        dueling=dueling,
    )
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.05)
    return network


def torch_q_values(network, obs):
    with torch.inference_mode():
        return network(torch.as_tensor(obs)).numpy()


@pytest.mark.parametrize(
    "shape, cell, channels, hidden, dueling",
    [
        ((40, 40, 3), 4, (16, 32), (64,), False),  # snake-v0 "rgb" in the pixel preset
        ((84, 84, 3), 12, (16, 32), (128,), True),  # gridworld-v0's full view, dueling head
        ((3, 40, 40), 4, (8, 16, 8), (32, 16), False),  # channels first, two 3x3 layers, two hidden layers
        ((40, 40), 4, (16,), (), True),  # grayscale, the cell convolution only, no hidden layer
        ((36, 48, 3), 12, (16, 32), (), False),  # not square: 3x4 cells
    ],
)
@pytest.mark.parametrize("batch", [1, 3])
def test_the_same_q_values_as_the_torch_network(shape, cell, channels, hidden, dueling, batch) -> None:
    network = cell_network(shape, cell, channels, hidden, dueling)
    numpy_forward = NumpyCellQNetwork.for_network(network)
    assert numpy_forward is not None
    obs = np.random.default_rng(1).integers(0, 256, (batch, *shape), dtype=np.uint8)
    expected = torch_q_values(network, obs)
    assert expected.std() > 0.05  # the layers are far from an all-zero map
    np.testing.assert_allclose(numpy_forward(obs), expected, atol=1e-5, rtol=0)


def test_gradient_steps_and_replaced_tensors_are_seen_at_the_next_call() -> None:
    network = cell_network((40, 40, 3), 4)
    numpy_forward = NumpyCellQNetwork.for_network(network)
    assert numpy_forward is not None
    obs = np.random.default_rng(2).integers(0, 256, (1, 40, 40, 3), dtype=np.uint8)
    before = numpy_forward(obs)
    optimizer = torch.optim.Adam(network.parameters(), lr=0.05)
    network(torch.as_tensor(obs)).sum().backward()
    optimizer.step()  # in place: the numpy views see it
    after = numpy_forward(obs)
    assert np.abs(after - before).max() > 1e-3
    np.testing.assert_allclose(after, torch_q_values(network, obs), atol=1e-5, rtol=0)
    # new tensors in another memory layout: the views are taken again, in the matching order
    network.to(memory_format=torch.contiguous_format)  # type: ignore[call-overload]
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.mul_(-1.5)
    np.testing.assert_allclose(numpy_forward(obs), torch_q_values(network, obs), atol=1e-5, rtol=1e-5)


def test_networks_it_does_not_cover_are_left_to_torch() -> None:
    image = gym.spaces.Box(0, 255, (84, 84, 4), np.uint8)
    assert NumpyCellQNetwork.for_network(make_q_network(image, 4)) is None  # the Nature CNN
    vector = gym.spaces.Box(-1, 1, (8,), np.float32)
    assert NumpyCellQNetwork.for_network(make_q_network(vector, 4)) is None  # an MLP
    # a 3x3 layer of 64 -> 128 channels over 10x10 cells (7.4 M multiply-adds) would start BLAS threads
    assert NumpyCellQNetwork.for_network(cell_network((40, 40, 3), 4, channels=(64, 128))) is None
    assert NumpyCellQNetwork.for_network(cell_network((40, 40, 3), 4).double()) is None


def snake_rgb_agent(seed: int = 0) -> tuple[DQN, gym.Env]:
    import gym_snake  # noqa: F401  (registers snake-v0)

    env = gym.make("snake-v0", obs_type="rgb")
    config = dict(
        network="cell-cnn",
        cell_pixels=4,
        hidden_sizes=(64,),
        learning_starts=200,
        buffer_size=2_000,
        batch_size=32,
        exploration="linear:1:0.05:400",
        device="cpu",
    )
    return DQN(env, config, seed=seed), env


def test_dqn_acts_on_one_image_in_numpy_and_picks_the_torch_networks_greedy_action() -> None:
    agent, env = snake_rgb_agent()
    agent.train(env, 600, progress=False)
    obs, _ = env.reset(seed=3)
    observations = [obs]
    while len(observations) < 20:
        obs, _, terminated, truncated, _ = env.step(agent.act(obs))
        if terminated or truncated:
            obs, _ = env.reset()
        observations.append(obs)
    actions = [agent.act(o) for o in observations]
    assert isinstance(agent._numpy_forward[agent.policy_network], NumpyCellQNetwork)  # used for one observation
    np.testing.assert_array_equal(actions, agent.q_values(np.stack(observations)).argmax(axis=1))
    np.testing.assert_array_equal(actions, agent.act(np.stack(observations)))  # a batch takes the torch path


def test_training_with_numpy_acting_is_reproducible() -> None:
    runs = []
    for _ in range(2):
        agent, env = snake_rgb_agent(seed=5)
        agent.train(env, 700, progress=False)
        runs.append(torch.cat([p.detach().flatten() for p in agent.q_network.parameters()]))
    torch.testing.assert_close(runs[0], runs[1], rtol=0, atol=0)
