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
    def from_json(cls, data: dict[str, Any]) -> "Job":
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
                    jobs.append(Job(
                        spec.label, spec.id, spec.env_kwargs, algo, seed, spec.steps, spec.eval_every,
                        spec.eval_episodes, settings.hyperparameters, [list(w) for w in settings.wrappers], settings.source,
                    ))
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


def load_plan_file(path: str | Path) -> dict[str, Any]:
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: a comparison config must be a mapping with keys {PLAN_KEYS}")
    return raw


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return value


def _check_keys(raw: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; allowed: {', '.join(allowed)}")


def _seeds(value: Any) -> tuple[int, ...]:
    if isinstance(value, list):
        if not value or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in value):
            raise ValueError(f"seeds must be a count or a non-empty list of non-negative integers, got {value!r}")
        if len(set(value)) != len(value):
            raise ValueError(f"seeds must not repeat, got {value!r}")
        return tuple(value)
    return tuple(range(_positive_int(value, "seeds")))


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
    a plan. `envs` restricts the config's envs or adds new ones (which then need `steps`)."""
    _check_keys(raw, PLAN_KEYS, "comparison config")
    env_table = raw.get("envs") or {}
    if not isinstance(env_table, dict):
        raise ValueError("comparison config: envs must be a mapping of env label -> settings")
    labels = list(envs) if envs else list(env_table)
    if not labels:
        raise ValueError("no envs to compare on: give --envs (and --algos, --steps) or a --preset/--config")
    default_algos = algos or raw.get("algos")
    default_episodes = eval_episodes or raw.get("eval_episodes", 10)
    specs = []
    for label in labels:
        entry = env_table.get(label) or {}
        _check_keys(entry, ENV_KEYS, f"env {label}")
        env_algos = algos or entry.get("algos") or default_algos
        if not env_algos:
            raise ValueError(f"no algorithms for env {label}: give --algos or list them in the config")
        env_steps = steps or entry.get("steps")
        if env_steps is None:
            raise ValueError(f"no training budget for env {label}: give --steps or set steps in the config")
        env_steps = _positive_int(env_steps, f"steps of {label}")
        every = _positive_int(eval_every or entry.get("eval_every") or max(1, env_steps // 10), f"eval_every of {label}")
        episodes = _positive_int(eval_episodes or entry.get("eval_episodes", default_episodes), f"eval_episodes of {label}")
        if episodes > MAX_EVAL_EPISODES:
            raise ValueError(f"eval_episodes of {label} must be at most {MAX_EVAL_EPISODES}, got {episodes}")
        env_kwargs = entry.get("env_kwargs") or {}
        if not isinstance(env_kwargs, dict):
            raise ValueError(f"env_kwargs of {label} must be a mapping, got {env_kwargs!r}")
        specs.append(EnvSpec(label, str(entry.get("id", label)), dict(env_kwargs), env_steps, min(every, env_steps),
                             episodes, tuple(dict.fromkeys(env_algos))))
    merged = dict(raw.get("hyperparams") or {})
    for algo, table in (hyperparams or {}).items():
        merged[algo] = {**merged.get(algo, {}), **table}
    return Plan(
        name=str(raw.get("name", "compare")),
        description=str(raw.get("description", "")),
        seeds=_seeds(seeds if seeds is not None else raw.get("seeds", 1)),
        envs=tuple(specs),
        hyperparams=merged,
    )
