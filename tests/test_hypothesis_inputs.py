"""Property-based tests: generated malformed inputs get our documented errors, never anything else.

- the command line: any argument list exits 0 or 2, and 2 comes with exactly one `error:` line and no
  traceback;
- comparison configs and hyperparameter files: `build_plan`/`check_plan` raise ValueError or succeed;
  through the CLI, exit 2 with one `error:` line;
- checkpoint files (.npz and .pt), truncated, bit-flipped or with wrong metadata: loading raises
  CheckpointError (naming the file) or gives a working agent.

Every example runs under a time limit (`TIME_LIMIT_S`, a hang guard, not a speed test). The `ci`
profile (default) runs 25 examples per test; `HYPOTHESIS_PROFILE=nightly` runs 1000 (tests/hypothesis_profiles.py).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from agents.base import load_agent, make_agent
from agents.cli import main
from agents.common.checkpoint import CheckpointError, load_npz, load_torch, save_npz, save_torch
from agents.common.envs import make_env
from agents.compare.job import check_plan
from agents.compare.plan import build_plan

TIME_LIMIT_S = 120


@contextlib.contextmanager
def time_limit(seconds: int = TIME_LIMIT_S) -> Iterator[None]:
    """Fail (instead of hanging the suite) if the block runs longer than `seconds`."""

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(f"an input took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Valid checkpoints of several algorithms, a folder, a text file and a missing path."""
    root = tmp_path_factory.mktemp("inputs")
    paths = {"folder": root / "a-folder", "text": root / "notes.txt", "missing": root / "missing.npz"}
    paths["folder"].mkdir()
    paths["text"].write_text("hello\n")
    mdp, cartpole = make_env("mdp-v0"), make_env("CartPole-v1")
    for name, algo, env, config in [
        ("tabular.npz", "tabular-q", mdp, None),
        ("double-q.npz", "double-q", mdp, None),
        ("random.npz", "random", mdp, None),
        ("dqn.pt", "dqn", cartpole, {"hidden_sizes": [8], "learning_starts": 20, "batch_size": 8}),
        ("sb3-ppo.pt", "sb3-ppo", cartpole, {"n_steps": 32, "batch_size": 16, "net_arch": [8]}),
    ]:
        agent = make_agent(algo, env, config, seed=0)
        if algo != "sb3-ppo":  # (SB3 training is slow to start; its untrained policy is a valid checkpoint)
            agent.train(env, 64, progress=False)
        agent.save(root / name)
        paths[name] = root / name
    return paths


def run_cli(argv: list[str], cwd: Path) -> tuple[int, str]:
    """The CLI in-process, in `cwd`: (exit code, stderr)."""
    err = io.StringIO()
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()), time_limit():
            try:
                code = main(argv)
            except SystemExit as stop:  # argparse
                code = stop.code if isinstance(stop.code, int) else 2
    finally:
        os.chdir(previous)
    return code, err.getvalue()


def assert_clean_exit(code: int, err: str, argv: list[str]) -> None:
    assert code in (0, 2), (argv, code, err)
    assert "Traceback" not in err, (argv, err)
    if code == 2:
        assert len([line for line in err.splitlines() if "error:" in line]) == 1, (argv, err)


# ---------------------------------------------------------------------------- the command line
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
numbers = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["0", "-1", "1", "2", "3", "1e3", "0x10", "", " ", "nan", "-inf", "1.0"]),
    texts,
)
small_counts = st.one_of(st.integers(-3, 40).map(str), numbers)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=False), texts),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)
env_kwarg_keys = st.sampled_from(
    [
        "obs_type",
        "invalid_action",
        "render_mode",
        "max_episode_steps",
        "is_slippery",
        "map_name",
        "width",
        "foo",
        "partial",
        "size",
    ]
)
env_kwargs = st.one_of(
    st.dictionaries(env_kwarg_keys, json_values, max_size=2).map(json.dumps),
    json_values.map(json.dumps),
    texts,
)
env_ids = st.sampled_from(["mdp-v0", "FrozenLake-v1", "CartPole-v1", "Snek-v0", "gym_mdp:nothing", "", "mdp-v0 "])


def env_flags() -> st.SearchStrategy[list[str]]:
    wraps = st.lists(
        st.one_of(
            st.sampled_from(["discretize", "tile-coding", "as-multi-discrete", "nope"]),
            st.tuples(st.sampled_from(["discretize", "tile-coding"]), env_kwargs).map(":".join),
        ),
        max_size=1,
    )
    return st.tuples(env_ids, st.lists(env_kwargs, max_size=1), wraps).map(
        lambda t: (
            ["--env", t[0]]
            + [a for kw in t[1] for a in ("--env-kwargs", kw)]
            + [a for w in t[2] for a in ("--wrap", w)]
        )
    )


def cli_argvs(files: dict[str, Path]) -> st.SearchStrategy[list[str]]:
    checkpoints = st.sampled_from([str(p) for p in files.values()])
    evaluate = st.tuples(
        checkpoints,
        env_flags(),
        st.lists(st.tuples(st.sampled_from(["--episodes", "--seed"]), small_counts), max_size=2),
    ).map(lambda t: ["evaluate", t[0], *t[1], *[a for pair in t[2] for a in pair]])
    solve = st.tuples(
        env_flags(),
        st.lists(st.tuples(st.sampled_from(["--gamma"]), numbers), max_size=1),
        st.lists(st.sampled_from(["--method", "value-iteration", "policy-iteration", "x"]), max_size=2),
    ).map(lambda t: ["solve", *t[0], *[a for pair in t[1] for a in pair], *t[2]])
    train_flags = st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "--seed",
                    "--eval-episodes",
                    "--checkpoint-every",
                    "--gamma",
                    "--learning-rate",
                    "--epsilon",
                    "--max-states",
                    "--hidden-sizes",
                ]
            ),
            small_counts,
        ),
        max_size=3,
    )
    train = st.tuples(
        st.sampled_from(["tabular-q", "sarsa", "random", "dqn", "sb3-nope", "--steps"]),
        env_flags(),
        st.one_of(st.integers(1, 40).map(str), small_counts),
        train_flags,
    ).map(
        lambda t: [
            "train",
            t[0],
            *t[1],
            "--steps",
            t[2],
            "--eval-episodes",
            "1",
            "--no-progress",
            *[a for pair in t[3] for a in pair],
        ]
    )
    resume = st.tuples(checkpoints, env_flags()).map(
        lambda t: ["resume", t[0], *t[1], "--eval-episodes", "1", "--no-progress"]
    )
    compare = st.tuples(
        st.lists(
            st.sampled_from(
                [
                    "--envs",
                    "mdp-v0",
                    "CartPole-v1",
                    "Snek-v0",
                    "--algos",
                    "random",
                    "tabular-q",
                    "nope",
                    "--config",
                    str(files["folder"]),
                    str(files["text"]),
                    "--seeds",
                    "--steps",
                    "--eval-every",
                    "--eval-episodes",
                    "--hyperparams",
                    "--resume",
                    "--extend",
                    "--report",
                    "--preset",
                    "quick",
                    "--workers",
                    "--threads",
                ]
            ),
            max_size=8,
        ),
        st.lists(small_counts, max_size=2),
    ).map(lambda t: ["compare", *t[0], *t[1], "--dry-run"])
    garbage = st.lists(st.one_of(texts, st.sampled_from(["--debug", "-h", "train", "evaluate", "--env"])), max_size=4)
    return st.one_of(evaluate, solve, train, resume, compare, garbage)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_any_argument_list_exits_0_or_2_with_one_error_line(
    files: dict[str, Path], tmp_path: Path, data: st.DataObject
) -> None:
    argv = data.draw(cli_argvs(files))
    if argv[:1] == ["--debug"] or "-h" in argv or "--help" in argv:
        return  # --debug shows tracebacks on purpose; --help exits 0 with usage
    code, err = run_cli(argv, tmp_path)
    assert_clean_exit(code, err, argv)


# ---------------------------------------------------------------------------- comparison configs
PLAN_KEYS = ["name", "description", "seeds", "algos", "eval_episodes", "envs", "hyperparams", "junk"]
ENV_KEYS = ["id", "env_kwargs", "steps", "eval_every", "eval_episodes", "algos", "junk"]
plan_values = st.one_of(
    json_values,
    st.integers(-5, 5),
    st.just([]),
    st.just({}),
    st.lists(st.sampled_from(["random", "tabular-q", "x"]), max_size=3),
)
env_entries = st.one_of(st.none(), json_values, st.dictionaries(st.sampled_from(ENV_KEYS), plan_values, max_size=4))
hyperparam_tables = st.one_of(
    json_values,
    st.dictionaries(
        st.sampled_from(["random", "tabular-q", "dqn", "nope"]),
        st.one_of(json_values, st.dictionaries(st.sampled_from(["mdp-v0", "CartPole-v1"]), json_values, max_size=2)),
        max_size=2,
    ),
)


def mutated_plans() -> st.SearchStrategy[dict[str, Any]]:
    """A valid plan with some keys replaced by generated values."""
    valid = {
        "name": "t",
        "seeds": 2,
        "eval_episodes": 2,
        "envs": {"mdp-v0": {"steps": 200, "eval_every": 50, "algos": ["random", "tabular-q"]}},
    }
    top = st.dictionaries(st.sampled_from(PLAN_KEYS), plan_values, max_size=2)
    env = st.dictionaries(st.sampled_from(ENV_KEYS), plan_values, max_size=2)
    return st.tuples(top, env, st.one_of(st.none(), hyperparam_tables)).map(
        lambda t: {
            **valid,
            **t[0],
            "envs": {"mdp-v0": {**valid["envs"]["mdp-v0"], **t[1]}},
            **({} if t[2] is None else {"hyperparams": t[2]}),
        }
    )


@given(
    raw=st.one_of(mutated_plans(), st.dictionaries(st.sampled_from(PLAN_KEYS), plan_values, max_size=4)),
    hyperparams=st.one_of(st.none(), hyperparam_tables),
)
@example(raw={"envs": {"mdp-v0": {"steps": 100, "eval_every": 0, "algos": ["random"]}}}, hyperparams=None)
@example(raw={"envs": {"mdp-v0": {"steps": 100, "algos": ["random"]}}}, hyperparams=["dqn"])
def test_plans_are_built_or_rejected_with_a_value_error(raw: dict[str, Any], hyperparams: Any) -> None:
    with time_limit():
        try:
            plan = build_plan(raw, hyperparams=hyperparams)
        except ValueError:
            return
        assert all(1 <= spec.eval_every <= spec.steps for spec in plan.envs)
        with contextlib.suppress(ValueError):
            check_plan(plan)


yaml_texts = st.one_of(
    st.builds(lambda obj: yaml.safe_dump(obj), st.one_of(mutated_plans(), json_values)),
    st.text(max_size=60),
    st.sampled_from(["{", "- [", "a: b: c", "!!python/object:os.system {}", "\t", "envs: [", "seeds: &a [*a]"]),
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    plan_text=yaml_texts,
    hyperparams_text=st.one_of(st.none(), st.builds(yaml.safe_dump, hyperparam_tables), st.text(max_size=30)),
)
def test_config_and_hyperparams_files_through_the_cli(
    tmp_path: Path, plan_text: str, hyperparams_text: str | None
) -> None:
    config = tmp_path / "plan.yml"
    config.write_text(plan_text)
    argv = ["compare", "--config", str(config), "--dry-run"]
    if hyperparams_text is not None:
        (tmp_path / "h.yml").write_text(hyperparams_text)
        argv += ["--hyperparams", str(tmp_path / "h.yml")]
    code, err = run_cli(argv, tmp_path)
    assert_clean_exit(code, err, argv)


# ---------------------------------------------------------------------------- checkpoint files
CHECKPOINTS = ["tabular.npz", "double-q.npz", "random.npz", "dqn.pt", "sb3-ppo.pt"]
ENVS = {
    "tabular.npz": "mdp-v0",
    "double-q.npz": "mdp-v0",
    "random.npz": "mdp-v0",
    "dqn.pt": "CartPole-v1",
    "sb3-ppo.pt": "CartPole-v1",
}


def load_and_act(path: Path, env_id: str) -> None:
    """Load `path`; if it loads, the agent must act in the env (one greedy step)."""
    env = make_env(env_id)
    agent = load_agent(path, env)
    obs, _ = env.reset(seed=0)
    assert env.action_space.contains(np.asarray(agent.act(obs)).astype(env.action_space.dtype).item())


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(name=st.sampled_from(CHECKPOINTS), data=st.data())
def test_truncated_or_bit_flipped_checkpoints(
    files: dict[str, Path], tmp_path: Path, name: str, data: st.DataObject
) -> None:
    blob = bytearray(files[name].read_bytes())
    how = data.draw(st.sampled_from(["truncate", "flip", "overwrite"]))
    if how == "truncate":
        blob = blob[: data.draw(st.integers(0, len(blob) - 1))]
    elif how == "flip":
        for position in data.draw(st.lists(st.integers(0, len(blob) * 8 - 1), min_size=1, max_size=8)):
            blob[position // 8] ^= 1 << (position % 8)
    else:
        start = data.draw(st.integers(0, len(blob) - 1))
        junk = data.draw(st.binary(min_size=1, max_size=64))
        blob[start : start + len(junk)] = junk
    path = tmp_path / name
    path.write_bytes(bytes(blob))
    with time_limit():
        try:
            load_and_act(path, ENVS[name])
        except CheckpointError as error:
            assert str(path) in str(error)


def _mutate(value: Any, data: st.DataObject) -> Any:
    """`value` (a JSON-like tree) with one node replaced, removed or added."""
    if isinstance(value, dict) and value and data.draw(st.booleans()):
        key = data.draw(st.sampled_from(sorted(value, key=str)))
        action = data.draw(st.sampled_from(["replace", "remove", "descend"]))
        if action == "remove":
            return {k: v for k, v in value.items() if k != key}
        if action == "replace":
            return {**value, key: data.draw(json_values)}
        return {**value, key: _mutate(value[key], data)}
    if isinstance(value, list) and value and data.draw(st.booleans()):
        index = data.draw(st.integers(0, len(value) - 1))
        return [*value[:index], _mutate(value[index], data), *value[index + 1 :]]
    return data.draw(json_values)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(name=st.sampled_from(CHECKPOINTS), data=st.data())
def test_checkpoints_with_wrong_metadata(
    files: dict[str, Path], tmp_path: Path, name: str, data: st.DataObject
) -> None:
    path = tmp_path / name
    if name.endswith(".npz"):
        meta, arrays = load_npz(files[name])
        algo = meta.pop("algo")
        meta = {k: v for k, v in meta.items() if k not in ("format", "version")}
        meta = _mutate(meta, data)
        save_npz(path, algo, meta if isinstance(meta, dict) else {"meta": meta}, arrays)
    else:
        meta, payload = load_torch(files[name])
        algo = meta.pop("algo")
        meta = {k: v for k, v in meta.items() if k not in ("format", "version")}
        meta = _mutate(meta, data)
        # the payload's plain parts (spaces, counters) are metadata too
        for key in ("observation_space", "action_space", "counters", "episode_log"):
            if key in payload and data.draw(st.booleans()):
                payload[key] = _mutate(payload[key], data)
        save_torch(path, algo, meta if isinstance(meta, dict) else {"meta": meta}, payload)
    with time_limit():
        try:
            load_and_act(path, ENVS[name])
        except CheckpointError as error:
            assert str(path) in str(error)
