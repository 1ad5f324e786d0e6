"""What a comparison runs: envs with their budgets, algorithms, seeds, expanded into jobs.

A plan comes from a preset (`presets/quick.yml`, `presets/full.yml`), a config file of the same
form, or the command line, which overrides either:

    name: my-comparison
    seeds: 5                      # seeds 0..4 (or a list: [0, 1, 7])
    algos: [dqn, sb3-dqn]         # for envs that do not list their own
    envs:
      CartPole-v1:                # label used in tables and folder names; the env id by default
        steps: 100000             # training budget, env steps, the same for every algorithm
        eval_every: 5000          # evaluate the greedy policy every this many env steps
        eval_episodes: 10         # on this many episodes
      snake-features:
        id: snake-v0
        env_kwargs: {obs_type: features}
        algos: [tabular-q, dqn, sb3-ppo]
    hyperparams: {}               # optional {algo: {env label or id: entry}}, see agents/hyperparams

`agents.compare.job.check_plan` (called before anything runs) builds each (env, algorithm) pair once, so an unknown
env id, an unknown algorithm, a bad hyperparameter or an algorithm that cannot handle the env's
spaces fails at once with a message naming the pair, not minutes later in a worker.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents import base
from agents.common.command_line import MAX_SEED, MAX_STEPS
from agents.common.yaml_files import read_yaml
from agents.hyperparams import EnvSettings, per_env_settings

PRESETS_DIR = Path(__file__).with_name("presets")
PRESETS = ("quick", "full", "pixels")
MAX_EVAL_EPISODES = 10_000
EVAL_SEED_BASE = 1_000_000
PLAN_KEYS = ("name", "description", "seeds", "algos", "eval_episodes", "envs", "hyperparams")
ENV_KEYS = ("id", "env_kwargs", "steps", "eval_every", "eval_episodes", "algos")


def eval_seed(seed: int) -> int:
    """Evaluation episode i of training seed s starts from reset(seed=eval_seed(s) + i): the same
    start states for every algorithm, different ones for different training seeds."""
    return EVAL_SEED_BASE + MAX_EVAL_EPISODES * seed


@dataclass(frozen=True)
class EnvSpec:
    label: str
    id: str
    env_kwargs: dict[str, Any]
    steps: int
    eval_every: int
    eval_episodes: int
    algos: tuple[str, ...]


@dataclass(frozen=True)
class Job:
    """One training run: an algorithm on an env with one seed. Plain values only (it travels to
    worker processes and Ray tasks, and is stored in run.json)."""

    env_label: str
    env_id: str
    env_kwargs: dict[str, Any]
    algo: str
    seed: int
    steps: int
    eval_every: int
    eval_episodes: int
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    wrappers: list[list[Any]] = field(default_factory=list)
    source: str = ""

    @property
    def name(self) -> str:
        return f"{slug(self.env_label)}__{self.algo}__s{self.seed}"

    @property
    def eval_seed(self) -> int:
        return eval_seed(self.seed)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Job:
        return cls(**data)


@dataclass(frozen=True)
class Plan:
    name: str
    description: str
    seeds: tuple[int, ...]
    envs: tuple[EnvSpec, ...]
    hyperparams: dict[str, Any]

    def jobs(self) -> list[Job]:
        """Every (env, algorithm, seed) job, envs and algorithms in the plan's order."""
        jobs = []
        for spec in self.envs:
            for algo in spec.algos:
                settings = self.settings(algo, spec)
                for seed in self.seeds:
                    jobs.append(
                        Job(
                            spec.label,
                            spec.id,
                            spec.env_kwargs,
                            algo,
                            seed,
                            spec.steps,
                            spec.eval_every,
                            spec.eval_episodes,
                            settings.hyperparameters,
                            [list(w) for w in settings.wrappers],
                            settings.source,
                        )
                    )
        return jobs

    def settings(self, algo: str, spec: EnvSpec) -> EnvSettings:
        overrides = self.hyperparams
        if spec.label in overrides.get(algo, {}):  # an entry for the label wins over one for the id
            overrides = {algo: {spec.id: overrides[algo][spec.label]}}
        return per_env_settings(algo, spec.id, overrides, label=spec.label)


def slug(text: str) -> str:
    """A folder-safe version of an env label ("ALE/Pong-v5" -> "ALE-Pong-v5")."""
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in text)


def preset_path(name: str) -> Path:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; presets: {', '.join(PRESETS)}")
    return PRESETS_DIR / f"{name}.yml"


def preset_env(label: str) -> tuple[str, EnvSpec]:
    """(preset name, env spec) of the env `label` in the presets, the first of full, pixels, quick that has it
    (full's budgets are the ones its tuned hyperparameters were chosen for); a ValueError lists the labels."""
    labels: list[str] = []
    for name in ("full", "pixels", "quick"):
        raw = load_plan_file(preset_path(name))
        table = raw.get("envs") or {}
        if label in table:
            return name, build_plan(raw, envs=[label]).envs[0]
        labels += [known for known in table if known not in labels]
    raise ValueError(f"no env {label!r} in the presets; their envs: {', '.join(sorted(labels))}")


def load_plan_file(path: str | Path) -> dict[str, Any]:
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise ValueError(
            f"{path}: a comparison config must be a mapping with keys {', '.join(PLAN_KEYS)}, got {type(raw).__name__}"
        )
    return raw


# upper bounds: a config value beyond these is a typo, and would otherwise plan an absurd amount of work
# (MAX_STEPS = 10**10 env steps, shared with `train --steps`)
MAX_SEEDS = 1_000


def _int_in(value: Any, what: str, low: int, high: int) -> int:
    """`value` if it is an integer in [low, high], else a ValueError naming `what`, the value and the range."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        allowed = f"a positive integer (at most {high:,})" if low == 1 else f"an integer from {low} to {high:,}"
        raise ValueError(f"{what} must be {allowed}, got {value!r}")
    return value


def _positive_int(value: Any, what: str, high: int = MAX_STEPS) -> int:
    return _int_in(value, what, 1, high)


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
        raise ValueError(f"{what} must be a mapping with string keys, got {value!r}")
    return value


def _names(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{what} must be a non-empty list of names, got {value!r}")
    return value


def _check_keys(raw: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(map(str, raw)) - set(allowed))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; allowed: {', '.join(allowed)}")


def _seeds(value: Any) -> tuple[int, ...]:
    if isinstance(value, list):
        if not value or len(value) > MAX_SEEDS:
            raise ValueError(f"seeds must be a count or a list of 1 to {MAX_SEEDS} seeds, got {value!r}")
        for seed in value:
            _int_in(seed, "each seed of the seeds list", 0, MAX_SEED)
        if len(set(value)) != len(value):
            raise ValueError(f"seeds must not repeat, got {value!r}")
        return tuple(value)
    return tuple(range(_positive_int(value, "seeds", MAX_SEEDS)))


def _hyperparams(value: Any, what: str) -> dict[str, Any]:
    """{algo: {env label or id: entry}}; the entries themselves are checked by agents.hyperparams."""
    table = _mapping(value, what)
    for algo, entries in table.items():
        if algo not in base.ALGORITHMS:  # a misspelt algorithm's settings would otherwise be ignored
            raise ValueError(
                f"{what}: unknown algorithm {algo!r}; known algorithms: {', '.join(base.algorithm_names())}"
            )
        _mapping(entries, f"{what}[{algo!r}]")
    return table


def _given(override: Any, raw: dict[str, Any], key: str, default: Any) -> Any:
    """The command-line override if given, else the config's value, else `default` (0 and [] count as given)."""
    if override is not None:
        return override
    value = raw.get(key)
    return default if value is None else value


def build_plan(
    raw: dict[str, Any],
    *,
    envs: list[str] | None = None,
    algos: list[str] | None = None,
    seeds: int | None = None,
    steps: int | None = None,
    eval_every: int | None = None,
    eval_episodes: int | None = None,
    hyperparams: dict[str, Any] | None = None,
) -> Plan:
    """Turn a config mapping (a preset or a user file; may be empty) and command-line overrides into
    a plan. `envs` restricts the config's envs or adds new ones (which then need `steps`).

    Every value is checked (type and range) and every key must be known: a ValueError names the key,
    the value and what is allowed. A key that is present counts even if it is 0, empty or false."""
    _mapping(raw, "comparison config")
    _check_keys(raw, PLAN_KEYS, "comparison config")
    env_table = _mapping(raw.get("envs") or {}, "comparison config: envs (env label -> settings)")
    labels = _names(envs, "--envs") if envs is not None else list(env_table)
    if not labels:
        raise ValueError("no envs to compare on: give --envs (and --algos, --steps) or a --preset/--config")
    default_algos = _given(algos, raw, "algos", None)
    default_episodes = _given(eval_episodes, raw, "eval_episodes", 10)
    specs = []
    for label in labels:
        entry = env_table.get(label)
        entry = {} if entry is None else _mapping(entry, f"env {label}")
        _check_keys(entry, ENV_KEYS, f"env {label}")
        env_algos = _given(algos, entry, "algos", default_algos)
        if env_algos is None:
            raise ValueError(f"no algorithms for env {label}: give --algos or list them in the config")
        env_algos = _names(env_algos, f"algos of {label}")
        env_steps = _given(steps, entry, "steps", None)
        if env_steps is None:
            raise ValueError(f"no training budget for env {label}: give --steps or set steps in the config")
        env_steps = _positive_int(env_steps, f"steps of {label}")
        every = _given(eval_every, entry, "eval_every", max(1, env_steps // 10))
        every = _positive_int(every, f"eval_every of {label}")
        if steps is not None and eval_every is None:
            every = min(every, env_steps)  # --steps shortened the config's budget: its eval_every shrinks with it
        every = _int_in(every, f"eval_every of {label} (at most its steps)", 1, env_steps)
        episodes = _positive_int(
            _given(eval_episodes, entry, "eval_episodes", default_episodes),
            f"eval_episodes of {label}",
            MAX_EVAL_EPISODES,
        )
        env_kwargs = _mapping(_given(None, entry, "env_kwargs", {}), f"env_kwargs of {label}")
        env_id = entry.get("id", label)
        if not isinstance(env_id, str) or not env_id:
            raise ValueError(f"id of {label} must be an env id (a string), got {env_id!r}")
        algos_once = tuple(dict.fromkeys(env_algos))
        specs.append(EnvSpec(label, env_id, dict(env_kwargs), env_steps, every, episodes, algos_once))
    merged = dict(_hyperparams(raw.get("hyperparams") or {}, "hyperparams of the comparison config"))
    for algo, table in _hyperparams(hyperparams or {}, "--hyperparams (a mapping {algo: {env: entry}})").items():
        merged[algo] = {**merged.get(algo, {}), **table}
    for key in ("name", "description"):
        if not isinstance(raw.get(key, ""), str):
            raise ValueError(f"{key} of the comparison config must be a string, got {raw[key]!r}")
    name = raw.get("name", "compare")
    if not name or name in (".", "..") or any(separator in name for separator in ("/", "\\", "\0")):
        raise ValueError(f"name of the comparison config names the run folder: no '/', '\\' or '..', got {name!r}")
    return Plan(
        name=raw.get("name", "compare"),
        description=raw.get("description", ""),
        seeds=_seeds(_given(seeds, raw, "seeds", 1)),
        envs=tuple(specs),
        hyperparams=merged,
    )
