"""Command line: `python -m agents {train,evaluate,resume,solve,demo} ...` (`--help` on each).

    python -m agents train tabular-q --env mdp-v0 --seed 0 --steps 100000
    python -m agents train tabular-q --help          # every hyperparameter of the algorithm, as a flag
    python -m agents evaluate results/train/<run>/agent.npz --env mdp-v0 --episodes 100
    python -m agents resume results/train/<run>/checkpoint.pt --env CartPole-v1   # after Ctrl-C (DQN)
    python -m agents solve --env FrozenLake-v1 --gamma 0.99
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import inspect
import json
import sys
import time
import typing
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from agents import base
from agents.common.checkpoint import CheckpointError, atomic_write_json, read_algorithm_name
from agents.common.envs import SUITE_ENV_IDS, make_env

DEFAULT_RESULTS = Path("results")


class CliError(Exception):
    """A user error: printed without a traceback, exit code 2."""


# ------------------------------------------------------------------------- config -> flags
def add_config_flags(parser: argparse.ArgumentParser, config_class: type) -> None:
    """One `--flag` per field of a hyperparameter dataclass, typed, with its default and help."""
    group = parser.add_argument_group(f"{config_class.__qualname__} hyperparameters")
    hints = typing.get_type_hints(config_class)
    for field in dataclasses.fields(config_class):
        flag = "--" + field.name.replace("_", "-")
        kind = hints[field.name]
        default = field.default if field.default is not dataclasses.MISSING else field.default_factory()  # type: ignore[misc]
        help_text = f"{field.metadata.get('help', '')} (default: {default!r})"
        options: dict[str, Any] = {"dest": field.name, "default": argparse.SUPPRESS, "help": help_text}
        args = typing.get_args(kind)
        if kind is bool:
            group.add_argument(flag, action=argparse.BooleanOptionalAction, **options)
        elif typing.get_origin(kind) is tuple:
            group.add_argument(flag, nargs="+", type=args[0], **options)
        else:
            scalar = next((a for a in args if a is not type(None)), kind) if args else kind
            group.add_argument(flag, type=_none_or(scalar) if type(None) in args else scalar, **options)


def _none_or(kind: type) -> Any:
    def parse(text: str) -> Any:
        return None if text.lower() == "none" else kind(text)

    parse.__name__ = kind.__name__
    return parse


def config_overrides(args: argparse.Namespace, config_class: type) -> dict[str, Any]:
    """The hyperparameters given on the command line (absent flags keep the dataclass default)."""
    values = vars(args)
    return {f.name: (tuple(values[f.name]) if isinstance(values[f.name], list) else values[f.name])
            for f in dataclasses.fields(config_class) if f.name in values}


# ------------------------------------------------------------------------- commands
def _json_arg(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not valid JSON ({error}): {text!r}") from error
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object such as '{{\"obs_type\": \"grid\"}}', got {text!r}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


# observation wrappers the command line can apply after gym.make (--wrap NAME[:JSON kwargs])
OBSERVATION_WRAPPERS = {
    "discretize": "agents.tabular.discretize:Discretize",
    "tile-coding": "agents.tabular.tiles:TileCoding",
    "as-multi-discrete": "agents.tabular.discretize:AsMultiDiscrete",
}


def _wrapper_arg(text: str) -> tuple[str, dict[str, Any]]:
    name, _, kwargs = text.partition(":")
    if name not in OBSERVATION_WRAPPERS:
        raise argparse.ArgumentTypeError(f"unknown wrapper {name!r}; known wrappers: {', '.join(OBSERVATION_WRAPPERS)}")
    return name, _json_arg(kwargs) if kwargs else {}


def _add_env_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", required=True, help=f"env id: one of the suite's ({', '.join(SUITE_ENV_IDS)}) or any Gymnasium id")
    parser.add_argument("--env-kwargs", type=_json_arg, default={}, help="JSON object of keyword arguments for gym.make")
    parser.add_argument(
        "--wrap", type=_wrapper_arg, action="append", default=[], metavar="NAME[:JSON]",
        help=f"observation wrapper applied after gym.make, in order (repeatable): {', '.join(OBSERVATION_WRAPPERS)}; "
        "e.g. --wrap discretize or --wrap 'tile-coding:{\"n_tilings\": 8}'",
    )


def _make_env(args: argparse.Namespace) -> Any:
    """The env named by --env/--env-kwargs, wrapped as --wrap says."""
    env = make_env(args.env, **args.env_kwargs)
    for name, kwargs in args.wrap:
        module_name, class_name = OBSERVATION_WRAPPERS[name].split(":")
        try:
            env = getattr(importlib.import_module(module_name), class_name)(env, **kwargs)
        except TypeError as error:
            raise CliError(f"--wrap {name}: {error}") from error
    return env


def _train_parser(algo: str) -> argparse.ArgumentParser:
    agent_class = base.get_agent_class(algo)
    parser = argparse.ArgumentParser(
        prog=f"python -m agents train {algo}",
        description=(agent_class.__doc__ or "").strip().split("\n")[0],
    )
    _add_env_args(parser)
    parser.add_argument("--seed", type=int, default=0, help="seed of the agent and the training env (default: 0)")
    parser.add_argument("--steps", type=_positive_int, required=True, help="env steps to train for")
    parser.add_argument("--eval-episodes", type=_positive_int, default=20, help="greedy evaluation episodes after training (default: 20)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: results/train/<algo>_<env>_s<seed>_<time>)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    if _supports_checkpoints(agent_class):
        parser.add_argument("--checkpoint-every", type=int, default=0, help="also write <out>/checkpoint.pt every N env steps "
                            "(it is always written on Ctrl-C and at the end; `python -m agents resume` continues it)")
    add_config_flags(parser, agent_class.Config)
    return parser


def _supports_checkpoints(agent_class: type) -> bool:
    """Agents whose `train` writes resumable checkpoints (and that have a `resume` classmethod)."""
    return "checkpoint_path" in inspect.signature(agent_class.train).parameters and hasattr(agent_class, "resume")


def _new_run_dir(out: Path | None, name: str) -> Path:
    """A fresh output folder: never reuses (and so never overwrites) an earlier run's folder."""
    if out is None:
        out = DEFAULT_RESULTS / "train" / f"{name}_{time.strftime('%Y%m%d-%H%M%S')}"
    candidate, n = out, 1
    while candidate.exists() and any(candidate.iterdir()):
        candidate = out.with_name(f"{out.name}-{n}")
        n += 1
    try:
        candidate.mkdir(parents=True, exist_ok=True)
        probe = candidate / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise CliError(f"cannot write to output folder {candidate}: {error.strerror or error}") from error
    return candidate


def run_train(algo: str, argv: Sequence[str]) -> int:
    args = _train_parser(algo).parse_args(argv)
    agent_class = base.get_agent_class(algo)
    env = _make_env(args)
    agent = base.make_agent(algo, env, config_overrides(args, agent_class.Config), seed=args.seed)
    run_dir = _new_run_dir(args.out, f"{algo}_{args.env.replace('/', '-').replace(':', '-')}_s{args.seed}")
    atomic_write_json(run_dir / "config.json", {
        "algo": algo, "env": args.env, "env_kwargs": args.env_kwargs, "wrap": [[n, k] for n, k in args.wrap],
        "seed": args.seed, "steps": args.steps,
        "hyperparameters": agent.hyperparameters(),
    })
    train_kwargs: dict[str, Any] = {}
    if _supports_checkpoints(agent_class):
        resume_file = run_dir / f"checkpoint{agent_class.checkpoint_suffix}"
        train_kwargs = {"checkpoint_path": resume_file, "checkpoint_every": args.checkpoint_every}
    start = time.perf_counter()
    try:
        agent.train(env, args.steps, log_dir=run_dir / "tensorboard", progress=not args.no_progress, **train_kwargs)
    except KeyboardInterrupt:
        if train_kwargs:
            env_args = f" --env-kwargs '{json.dumps(args.env_kwargs)}'" if args.env_kwargs else ""
            env_args += "".join(f" --wrap '{name}:{json.dumps(kwargs)}'" for name, kwargs in args.wrap)
            print(f"checkpoint written to {resume_file}; continue with: python -m agents resume {resume_file} "
                  f"--env {args.env}{env_args}", file=sys.stderr)
        raise
    _finish_run(agent, args, run_dir, time.perf_counter() - start, args.steps)
    return 0


def _finish_run(agent: base.Agent, args: argparse.Namespace, run_dir: Path, seconds: float, steps: int | None) -> None:
    """Save the trained agent, evaluate it, and write the episode log and learning curve into `run_dir`."""
    from agents.common.evaluation import evaluate
    from agents.common.plots import plot_learning_curve

    checkpoint = run_dir / f"agent{type(agent).checkpoint_suffix}"
    agent.save(checkpoint)
    eval_env = _make_env(args)
    result = evaluate(agent, eval_env, args.eval_episodes, seed=10_000 + agent.seed)
    episodes = np.array(agent.episode_log, dtype=float).reshape(-1, 3)
    np.savetxt(run_dir / "episodes.csv", episodes, delimiter=",", header="step,return,length", comments="", fmt="%g")
    if len(episodes):
        plot_learning_curve(episodes[:, 0], episodes[:, 1], run_dir / "learning_curve.png", title=f"{agent.algo} on {args.env}")
    if steps is None:
        print(f"finished training {agent.algo} on {args.env} in {seconds:.1f} s")
    else:
        print(f"trained {agent.algo} on {args.env} for {steps} steps in {seconds:.1f} s ({steps / seconds:,.0f} steps/s)")
    print(f"greedy return over {args.eval_episodes} episodes: {result.mean:.3f} +- {result.std:.3f}")
    print(f"saved {checkpoint}; TensorBoard: tensorboard --logdir {run_dir / 'tensorboard'}")


def run_resume(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m agents resume",
        description="Finish an interrupted `train` run from its checkpoint, in the run's folder.",
    )
    parser.add_argument("checkpoint", type=Path, help="the run's checkpoint.pt (written periodically, on Ctrl-C and at the end)")
    _add_env_args(parser)
    parser.add_argument("--eval-episodes", type=_positive_int, default=20, help="greedy evaluation episodes after training (default: 20)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)
    agent_class = base.get_agent_class(read_algorithm_name(args.checkpoint))
    if not _supports_checkpoints(agent_class):
        raise CliError(f"{agent_class.algo} runs cannot be resumed; train them again")
    env = _make_env(args)
    run_dir = args.checkpoint.parent
    start = time.perf_counter()
    agent = agent_class.resume(args.checkpoint, env, log_dir=run_dir / "tensorboard", progress=not args.no_progress)
    _finish_run(agent, args, run_dir, time.perf_counter() - start, None)
    return 0


def run_evaluate(argv: Sequence[str]) -> int:
    from agents.common.evaluation import evaluate

    parser = argparse.ArgumentParser(prog="python -m agents evaluate", description="Evaluate a saved agent's greedy policy.")
    parser.add_argument("checkpoint", type=Path, help="a file written by `train` (.npz or .pt)")
    _add_env_args(parser)
    parser.add_argument("--episodes", type=_positive_int, default=20, help="evaluation episodes (default: 20)")
    parser.add_argument("--seed", type=int, default=0, help="episode i starts from reset(seed=seed + i) (default: 0)")
    args = parser.parse_args(argv)
    env = _make_env(args)
    agent = base.load_agent(args.checkpoint, env)
    result = evaluate(agent, env, args.episodes, seed=args.seed)
    print(f"{agent.algo} on {args.env}: mean return {result.mean:.3f} +- {result.std:.3f} over {args.episodes} episodes")
    return 0


def run_solve(argv: Sequence[str]) -> int:
    from agents.tabular.planners import policy_iteration, value_iteration

    parser = argparse.ArgumentParser(
        prog="python -m agents solve",
        description="Solve an env with a known model (env.unwrapped.P) exactly and print V*, Q* and the optimal policy.",
    )
    _add_env_args(parser)
    parser.add_argument("--gamma", type=float, default=0.95, help="discount (default: 0.95)")
    parser.add_argument("--method", choices=("value-iteration", "policy-iteration"), default="value-iteration")
    args = parser.parse_args(argv)
    env = _make_env(args)
    planner = value_iteration if args.method == "value-iteration" else policy_iteration
    try:
        solution = planner(env, args.gamma)
    except ValueError as error:
        raise CliError(str(error)) from error
    with np.printoptions(precision=3, suppress=True):
        print(f"{args.env}, gamma={args.gamma}, {args.method} ({solution.iterations} iterations)")
        print(f"V*     = {solution.V}")
        print(f"Q*     =\n{solution.Q}")
        print(f"policy = {solution.policy}")
    return 0


def run_demo(argv: Sequence[str]) -> int:
    """The README's main job. Until the comparison runner lands: solve mdp-v0 for two discounts."""
    argparse.ArgumentParser(prog="python -m agents demo", description=run_demo.__doc__).parse_args(argv)
    for gamma in (0.90, 0.95):
        run_solve(["--env", "mdp-v0", "--gamma", str(gamma)])
    return 0


COMMANDS = {
    "train": "train an algorithm on an env: python -m agents train ALGO --env ID --steps N [hyperparameters]",
    "evaluate": "evaluate a saved agent: python -m agents evaluate CHECKPOINT --env ID",
    "resume": "finish an interrupted training run: python -m agents resume CHECKPOINT --env ID",
    "solve": "solve an env with a known model by value/policy iteration",
    "demo": "the README's main job",
}


def _top_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m agents",
        description="Train, evaluate and compare RL agents on the suite's envs.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="commands:\n" + "\n".join(f"  {name:10s} {text}" for name, text in COMMANDS.items())
        + f"\n\nalgorithms: {', '.join(base.algorithm_names()) or '(none registered)'}",
    )
    parser.add_argument("command", choices=sorted(COMMANDS), help="see below; each takes --help")
    return parser


def dispatch(argv: Sequence[str]) -> int:
    parser = _top_parser()
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        parser.parse_args(argv[:1])
    command, rest = argv[0], list(argv[1:])
    if command == "train":
        if not rest or rest[0].startswith("-"):
            train = argparse.ArgumentParser(prog="python -m agents train", description=COMMANDS["train"])
            train.add_argument("algo", choices=base.algorithm_names(), help="the algorithm; `train ALGO --help` lists its flags")
            train.parse_args(rest[:1])
        if rest[0] not in base.ALGORITHMS:
            raise CliError(f"unknown algorithm {rest[0]!r}; known algorithms: {', '.join(base.algorithm_names())}")
        return run_train(rest[0], rest[1:])
    return {"evaluate": run_evaluate, "resume": run_resume, "solve": run_solve, "demo": run_demo}[command](rest)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return dispatch(argv)
    except (CliError, CheckpointError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except ValueError as error:  # bad input found by the envs or agents (ids, hyperparameters, spaces)
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
