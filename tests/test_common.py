"""agents.common: atomic files, self-describing checkpoints, schedules, env lookup, evaluation."""

from __future__ import annotations

import json
import os
import stat

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces

from agents.common import checkpoint
from agents.common.envs import check_env_id, make_env
from agents.common.evaluation import evaluate
from agents.common.plots import moving_average
from agents.common.schedules import Constant, Exponential, Linear, parse_schedule
from agents.common.spaces import space_from_dict, space_to_dict


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path) -> None:
    target = tmp_path / "results.json"
    checkpoint.atomic_write_json(target, {"old": 1})
    with pytest.raises(RuntimeError), checkpoint.atomic_path(target) as tmp:
        tmp.write_text("half-written")
        raise RuntimeError("crash mid-write")
    assert json.loads(target.read_text()) == {"old": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]  # no temp file left behind


def test_atomic_writes_give_the_permissions_open_would_and_keep_a_replaced_files(tmp_path) -> None:
    """mkstemp makes 0600 files; results and checkpoints must be readable as any file the user writes."""
    old_umask = os.umask(0o027)
    try:
        checkpoint.atomic_write_json(tmp_path / "new.json", {"a": 1})
        assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o640
        private = tmp_path / "private.json"
        private.write_text("{}")
        private.chmod(0o600)
        checkpoint.atomic_write_json(private, {"a": 2})
        assert stat.S_IMODE(private.stat().st_mode) == 0o600 and json.loads(private.read_text()) == {"a": 2}
    finally:
        os.umask(old_umask)


def test_npz_checkpoint_round_trip_and_kind_check(tmp_path) -> None:
    path = tmp_path / "agent.npz"
    q = np.arange(6.0).reshape(2, 3)
    checkpoint.save_npz(path, "tabular-q", {"gamma": 0.9}, {"q": q})
    meta, arrays = checkpoint.load_npz(path, expected_algo="tabular-q")
    assert meta["gamma"] == 0.9 and meta["algo"] == "tabular-q"
    np.testing.assert_array_equal(arrays["q"], q)
    assert checkpoint.read_algorithm_name(path) == "tabular-q"
    with pytest.raises(checkpoint.CheckpointError, match="holds a 'tabular-q' agent, not 'sarsa'"):
        checkpoint.load_npz(path, expected_algo="sarsa")


def test_torch_checkpoint_round_trip(tmp_path) -> None:
    path = tmp_path / "agent.pt"
    checkpoint.save_torch(path, "dqn", {"hidden": [64]}, {"weights": {"w": torch.ones(2)}, "step": 5})
    meta, payload = checkpoint.load_torch(path, expected_algo="dqn")
    assert meta["hidden"] == [64] and payload["step"] == 5
    assert torch.equal(payload["weights"]["w"], torch.ones(2))


@pytest.mark.parametrize("suffix", [".npz", ".pt"])
def test_corrupt_or_foreign_files_are_rejected_by_name(tmp_path, suffix: str) -> None:
    corrupt = tmp_path / f"corrupt{suffix}"
    corrupt.write_bytes(b"this is not a checkpoint")
    with pytest.raises(checkpoint.CheckpointError, match="corrupt"):
        checkpoint.read_algorithm_name(corrupt)
    foreign = tmp_path / f"foreign{suffix}"
    if suffix == ".npz":
        np.savez(foreign, q=np.zeros(3))
    else:
        torch.save({"state_dict": {}}, foreign)
    with pytest.raises(checkpoint.CheckpointError, match="not an agent checkpoint written by this package"):
        checkpoint.read_algorithm_name(foreign)


def test_pickled_payloads_are_refused(tmp_path) -> None:
    path = tmp_path / "evil.pt"
    torch.save({"meta": {"format": checkpoint.FORMAT}, "obj": object()}, path)  # needs unpickling a class
    with pytest.raises(checkpoint.CheckpointError, match="not a readable .pt"):
        checkpoint.load_torch(path)


def test_schedules() -> None:
    assert parse_schedule(0.1) == Constant(0.1)
    linear = parse_schedule("linear:1.0:0.1:100")
    assert linear == Linear(1.0, 0.1, 100)
    assert linear(0) == 1.0 and linear(50) == pytest.approx(0.55) and linear(100) == 0.1 and linear(10**6) == 0.1
    held = parse_schedule("linear:0.5:0:100:1000")  # 0.5 until step 1,000, then to 0 by step 1,100
    assert held == Linear(0.5, 0.0, 100, 1000)
    assert [held(step) for step in (0, 1000, 1050, 1100, 10**6)] == [0.5, 0.5, 0.25, 0.0, 0.0]
    exponential = parse_schedule("exp:1.0:0.01:0.5")
    assert exponential == Exponential(1.0, 0.01, 0.5)
    assert exponential(1) == pytest.approx(0.505)
    for bad in (
        "linear:1:0",
        "exp:1:0:1.5",
        "cosine:1:0:10",
        "linear:1:0:-5",
        "linear:1:0:5:-1",
        "linear:1:0:5:1:2",
        "",
    ):
        with pytest.raises(ValueError, match="cannot parse schedule"):
            parse_schedule(bad)


def test_unknown_env_id_lists_the_suite_ids() -> None:
    with pytest.raises(ValueError, match="unknown env id 'Snek-v0'; the suite's ids are .*mdp-v0"):
        check_env_id("Snek-v0")
    assert make_env("mdp-v0").spec.id == "mdp-v0"


class _AlwaysFirstAllowed:
    def act(self, obs, *, greedy=True):
        return {0: 0, 1: 0, 2: 1}[obs]


def test_evaluate_is_reproducible_per_seed() -> None:
    env = gym.make("mdp-v0")
    first = evaluate(_AlwaysFirstAllowed(), env, 5, seed=3)
    second = evaluate(_AlwaysFirstAllowed(), env, 5, seed=3)
    np.testing.assert_array_equal(first.returns, second.returns)
    np.testing.assert_array_equal(first.lengths, [100] * 5)
    with pytest.raises(ValueError, match="n_episodes must be positive"):
        evaluate(_AlwaysFirstAllowed(), env, 0, seed=0)


def test_moving_average() -> None:
    np.testing.assert_allclose(moving_average(np.array([1, 2, 3, 4]), 2), [1, 1.5, 2.5, 3.5])


SPACES = [
    spaces.Discrete(7, start=3),
    spaces.MultiDiscrete([[2, 3], [4, 5]], start=[[0, 1], [2, 3]]),
    spaces.MultiBinary(4),
    spaces.MultiBinary([4, 3, 3]),
    spaces.Box(0, 255, (84, 84, 4), np.uint8),
    spaces.Box(
        np.array([-4.8, -np.inf, -0.42, -np.inf], np.float32), np.array([4.8, np.inf, 0.42, np.inf], np.float32)
    ),
    spaces.Tuple([spaces.Discrete(3), spaces.MultiDiscrete([2, 2])]),
    spaces.Dict({"image": spaces.Box(0, 1, (2, 2), np.float32), "mask": spaces.MultiBinary(3)}),
]


@pytest.mark.parametrize("space", SPACES, ids=lambda s: type(s).__name__)
def test_spaces_round_trip_through_json_and_weights_only_torch(space, tmp_path) -> None:
    description = space_to_dict(space)
    assert space_from_dict(json.loads(json.dumps(description))) == space
    torch.save({"space": description}, tmp_path / "space.pt")
    rebuilt = space_from_dict(torch.load(tmp_path / "space.pt", weights_only=True)["space"])
    assert rebuilt == space and type(rebuilt) is type(space)
    if isinstance(space, spaces.Box) and space.shape == (84, 84, 4):
        assert description["low"] == 0 and description["high"] == 255  # equal bounds stored once


def test_unsupported_spaces_are_named() -> None:
    with pytest.raises(ValueError, match="cannot describe the space Text.*supported are Discrete, Box"):
        space_to_dict(spaces.Text(5))
    with pytest.raises(ValueError, match="unknown space type 'Graph'"):
        space_from_dict({"type": "Graph"})
