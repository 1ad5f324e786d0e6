"""Per-env settings of every algorithm (ours and the baselines), read from `<algo>.yml` in this folder.

Each file maps an env id (or a comparison's env label, which wins over the id: `gridworld-rgb` for
gridworld-v0 with pixel observations; or `default`, used for envs without an entry) to:

    CartPole-v1:
      source: where the values come from (rl-zoo3 file and commit, or "tuned here: ...")
      hyperparameters: {n_envs: 8, learning_rate: 0.001, ...}   # fields of the algorithm's Config
      wrappers:                                                 # optional, observation wrappers only
        - agents.tabular.discretize:Discretize: {bins: 10}

`wrappers` are applied, in order, to this algorithm's training and evaluation envs. Only
`gymnasium.ObservationWrapper`s are allowed: they change what the agent sees (a table needs
discrete observations) but never the rewards, episode ends or env steps that the comparison measures.
A user file given to the runner (`--hyperparams FILE`, `{algo: {env: entry}}`) replaces entries as a whole:
keys an override leaves out take the algorithm's defaults, not this folder's values (copy the entry, then
change it; each job's `config.json` records the values it ran with).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym

from agents.common.yaml_files import read_yaml

HYPERPARAMS_DIR = Path(__file__).parent
ENTRY_KEYS = ("source", "hyperparameters", "wrappers")


@dataclass(frozen=True)
class EnvSettings:
    """What one algorithm uses on one env: hyperparameter overrides, observation wrappers
    (`[("module:Class", kwargs), ...]`) and where the values come from."""

    hyperparameters: dict[str, Any] = field(default_factory=dict)
    wrappers: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    source: str = "the algorithm's defaults (no per-env entry)"

    def to_json(self) -> dict[str, Any]:
        return {
            "hyperparameters": self.hyperparameters,
            "wrappers": [list(w) for w in self.wrappers],
            "source": self.source,
        }


def algorithm_file(algo: str) -> Path:
    return HYPERPARAMS_DIR / f"{algo}.yml"


def _parse_wrappers(raw: Any, where: str) -> list[tuple[str, dict[str, Any]]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValueError(f"{where}: wrappers must be a list of 'module:Class' or {{'module:Class': {{kwargs}}}}")
    wrappers: list[tuple[str, dict[str, Any]]] = []
    for item in raw:
        if isinstance(item, str):
            wrappers.append((item, {}))
        elif isinstance(item, dict) and len(item) == 1 and isinstance(next(iter(item.values())), (dict, type(None))):
            ((target, kwargs),) = item.items()
            wrappers.append((target, dict(kwargs or {})))
        else:
            raise ValueError(
                f"{where}: bad wrapper entry {item!r}; expected 'module:Class' or {{'module:Class': {{kwargs}}}}"
            )
    return wrappers


def parse_entry(raw: Any, where: str) -> EnvSettings:
    """Check one `{source, hyperparameters, wrappers}` entry and turn it into EnvSettings."""
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: expected a mapping with keys {ENTRY_KEYS}, got {raw!r}")
    unknown = sorted(set(raw) - set(ENTRY_KEYS))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; allowed: {ENTRY_KEYS}")
    hyperparameters = raw.get("hyperparameters") or {}
    if not isinstance(hyperparameters, dict):
        raise ValueError(f"{where}: hyperparameters must be a mapping, got {hyperparameters!r}")
    return EnvSettings(dict(hyperparameters), _parse_wrappers(raw.get("wrappers"), where), str(raw.get("source", "")))


def per_env_settings(
    algo: str, env_id: str, overrides: dict[str, Any] | None = None, *, label: str | None = None
) -> EnvSettings:
    """The settings of `algo` on `env_id`: the user's override entry, else the algorithm file's entry
    for the env's label in a comparison (e.g. `gridworld-rgb`, for an env id with other `env_kwargs`),
    else its entry for the env id, else its `default` entry, else the algorithm's own defaults."""
    overrides = overrides or {}
    if env_id in overrides.get(algo, {}):
        return parse_entry(overrides[algo][env_id], f"--hyperparams entry {algo}/{env_id}")
    path = algorithm_file(algo)
    table = read_yaml(path) if path.exists() else None
    table = table or {}
    for key in (label, env_id, "default"):
        if key in table:
            return parse_entry(table[key], f"{path.name}, entry {key}")
    return EnvSettings()


def import_target(target: str) -> Any:
    """`module:Name` -> the object, with a clear error for a bad path."""
    module_name, _, name = target.partition(":")
    if not module_name or not name:
        raise ValueError(f"expected 'module:Class', got {target!r}")
    try:
        return getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"cannot import {target!r}: {error}") from error


def apply_wrappers(env: gym.Env, wrappers: list[tuple[str, dict[str, Any]]]) -> gym.Env:
    """Wrap `env` in each observation wrapper, in order."""
    for target, kwargs in wrappers:
        wrapper_class = import_target(target)
        if not (isinstance(wrapper_class, type) and issubclass(wrapper_class, gym.ObservationWrapper)):
            raise ValueError(
                f"{target} is not a gymnasium.ObservationWrapper: per-algorithm wrappers may change what an agent "
                "sees, never the rewards or episode ends the comparison measures"
            )
        env = wrapper_class(env, **kwargs)
    return env
