"""Gymnasium spaces as plain values, for checkpoints: `space_to_dict` and its inverse `space_from_dict`.

The description holds only dicts, lists, numbers and strings, so it is valid JSON (the `meta` entry
of `.npz` checkpoints) and loads with `torch.load(..., weights_only=True)` (`.pt` checkpoints): no
checkpoint pickles a space. Box bounds that are the same everywhere are stored once, so an 84x84x4
image space stays a few bytes. `space_from_dict(space_to_dict(s)) == s` for every supported space.

    >>> import json
    >>> image = spaces.Box(0, 255, (84, 84, 4), np.uint8)
    >>> space_to_dict(image)["low"], len(json.dumps(space_to_dict(image))) < 200
    (0, True)
    >>> space_from_dict(space_to_dict(image)) == image
    True
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

SUPPORTED = "Discrete, Box, MultiDiscrete, MultiBinary, Tuple and Dict"


def _bound(values: np.ndarray) -> Any:
    """One number when every entry is equal, else the nested list."""
    return values.flat[0].item() if values.size and np.all(values == values.flat[0]) else values.tolist()


def space_to_dict(space: spaces.Space) -> dict[str, Any]:
    """A plain description of `space`; ValueError for spaces other than those in `SUPPORTED`."""
    if isinstance(space, spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.MultiDiscrete):
        return {"type": "MultiDiscrete", "nvec": space.nvec.tolist(), "start": space.start.tolist()}
    if isinstance(space, spaces.MultiBinary):
        return {"type": "MultiBinary", "n": np.asarray(space.n).tolist()}
    if isinstance(space, spaces.Box):
        return {
            "type": "Box",
            "shape": list(space.shape),
            "dtype": np.dtype(space.dtype).name,
            "low": _bound(space.low),
            "high": _bound(space.high),
        }
    if isinstance(space, spaces.Tuple):
        return {"type": "Tuple", "spaces": [space_to_dict(sub) for sub in space.spaces]}
    if isinstance(space, spaces.Dict):
        return {"type": "Dict", "spaces": {key: space_to_dict(sub) for key, sub in space.spaces.items()}}
    raise ValueError(f"cannot describe the space {space}: supported are {SUPPORTED}")


def space_from_dict(data: dict[str, Any]) -> spaces.Space:
    """The space `space_to_dict` described; ValueError for an unknown type."""
    kind = data["type"]
    if kind == "Discrete":
        return spaces.Discrete(int(data["n"]), start=int(data["start"]))
    if kind == "MultiDiscrete":
        return spaces.MultiDiscrete(
            np.array(data["nvec"], dtype=np.int64), start=np.array(data["start"], dtype=np.int64)
        )
    if kind == "MultiBinary":
        return spaces.MultiBinary(data["n"])
    if kind == "Box":
        dtype, shape = np.dtype(data["dtype"]), tuple(data["shape"])
        low = np.broadcast_to(np.asarray(data["low"], dtype=dtype), shape)
        high = np.broadcast_to(np.asarray(data["high"], dtype=dtype), shape)
        return spaces.Box(low, high, shape, dtype)
    if kind == "Tuple":
        return spaces.Tuple([space_from_dict(sub) for sub in data["spaces"]])
    if kind == "Dict":
        return spaces.Dict({key: space_from_dict(sub) for key, sub in data["spaces"].items()})
    raise ValueError(f"unknown space type {kind!r}: supported are {SUPPORTED}")


def spaces_of(env: Any) -> tuple[spaces.Space, spaces.Space]:
    """(observation space, action space) of one env: a vector env's `single_*` spaces, else the env's own."""
    return (
        getattr(env, "single_observation_space", env.observation_space),
        getattr(env, "single_action_space", env.action_space),
    )


class SpacesOnlyEnv(gym.Env):
    """Stands in for an env when an agent is built from spaces alone (`Agent.from_spaces`, checkpoint loading)."""

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, observation_space: spaces.Space, action_space: spaces.Space) -> None:
        self.observation_space = observation_space
        self.action_space = action_space

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> Any:
        raise RuntimeError("this agent has no env yet: call train(env, steps) with a real env")

    def step(self, action: Any) -> Any:
        raise RuntimeError("this agent has no env yet: call train(env, steps) with a real env")
