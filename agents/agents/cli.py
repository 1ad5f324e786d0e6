"""Command line: `python -m agents {train,evaluate,resume,solve,compare,demo} ...` (`--help` on each).

python -m agents demo                            # the quick comparison (= compare --preset quick)
python -m agents compare --envs CartPole-v1 --algos dqn sb3-dqn sb3-ppo --seeds 5 --steps 100000
python -m agents train tabular-q --env mdp-v0 --seed 0 --steps 100000
python -m agents train tabular-q --help          # every hyperparameter of the algorithm, as a flag
python -m agents evaluate results/train/<run>/agent.npz --env mdp-v0 --episodes 100
python -m agents resume results/train/<run>/checkpoint.pt --env CartPole-v1   # after Ctrl-C (DQN)
python -m agents solve --env FrozenLake-v1 --gamma 0.99
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from agents import base
from agents.common.checkpoint import atomic_write_json, read_metadata
from agents.common.command_line import (
    MAX_STEPS,
    UserError,
    debug_requested,
    int_in,
    non_negative_int,
    positive_int,
    run_reporting_user_errors,
    seed_int,
)
from agents.common.config_flags import add_config_flags, config_overrides
from agents.common.envs import MAX_N_ENVS, SUITE_ENV_IDS, make_env
from agents.common.video import MAX_FRAMES, check_video_path, record_episodes

DEFAULT_RESULTS = Path("results")


# ------------------------------------------------------------------------- commands
def _json_arg(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not valid JSON ({error}): {text!r}") from error
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f'expected a JSON object such as \'{{"obs_type": "grid"}}\', got {text!r}')
    return value


def _gamma_arg(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1], got {text!r}") from None
    if not 0.0 <= value <= 1.0:  # also rejects nan
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1], got {value}")
    return value


def _run_folder(text: str) -> Path:
    """An existing comparison run folder (checked here, before anything runs)."""
    path = Path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(
            f"{text} is not a folder; expected a comparison run folder (results/<name>-<time>)"
        )
    return path


# observation wrappers the command line can apply after gym.make (--wrap NAME[:JSON kwargs])
OBSERVATION_WRAPPERS = {
    "discretize": "agents.tabular.discretize:Discretize",
    "tile-coding": "agents.tabular.tiles:TileCoding",
    "as-multi-discrete": "agents.tabular.discretize:AsMultiDiscrete",
}
WRAPPER_NAMES = {target: name for name, target in OBSERVATION_WRAPPERS.items()}  # "module:Class" -> its --wrap name


def _wrapper_arg(text: str) -> tuple[str, dict[str, Any]]:
    name, _, kwargs = text.partition(":")
    if name not in OBSERVATION_WRAPPERS:
        raise argparse.ArgumentTypeError(f"unknown wrapper {name!r}; known wrappers: {', '.join(OBSERVATION_WRAPPERS)}")
    return name, _json_arg(kwargs) if kwargs else {}


def _add_env_args(parser: argparse.ArgumentParser, default: str | None = None) -> None:
    """--env (required unless a `default` is described), --env-kwargs and --wrap."""
    parser.add_argument(
        "--env",
        required=default is None,
        help=f"env id: one of the suite's ({', '.join(SUITE_ENV_IDS)}) or any Gymnasium id"
        + (f" (default: {default})" if default else ""),
    )
    parser.add_argument(
        "--env-kwargs", type=_json_arg, default={}, help="JSON object of keyword arguments for gym.make"
    )
    parser.add_argument(
        "--wrap",
        type=_wrapper_arg,
        action="append",
        default=[],
        metavar="NAME[:JSON]",
        help=f"observation wrapper applied after gym.make, in order (repeatable): {', '.join(OBSERVATION_WRAPPERS)}; "
        "e.g. --wrap discretize or --wrap 'tile-coding:{\"n_tilings\": 8}'",
    )


def _make_env(args: argparse.Namespace, **extra: Any) -> Any:
    """The env named by --env/--env-kwargs (plus `extra` gym.make arguments), wrapped as --wrap says."""
    env = make_env(args.env, **args.env_kwargs, **extra)
    for name, kwargs in args.wrap:
        module_name, class_name = OBSERVATION_WRAPPERS[name].split(":")
        try:
            env = getattr(importlib.import_module(module_name), class_name)(env, **kwargs)
        except TypeError as error:
            raise UserError(f"--wrap {name}: {error}") from error
    return env


def _train_parser(algo: str) -> argparse.ArgumentParser:
    agent_class = base.get_agent_class(algo)
    parser = argparse.ArgumentParser(
        prog=f"python -m agents train {algo}",
        description=(agent_class.__doc__ or "").strip().split("\n")[0],
    )
    _add_env_args(parser, default="--tuned's")
    parser.add_argument(
        "--tuned",
        metavar="LABEL",
        help="train as `compare` does on the env LABEL of its presets (e.g. CartPole-v1, snake-v0, snake-rgb): "
        "its env id, env_kwargs and budget, and this algorithm's settings for it from agents/hyperparams/"
        f"{algo}.yml (hyperparameters, observation wrappers); flags given here win",
    )
    parser.add_argument("--seed", type=seed_int, default=0, help="seed of the agent and the training env (default: 0)")
    parser.add_argument(
        "--steps",
        type=train_steps,
        help=f"env steps to train for (1 to {MAX_STEPS:,}; with --tuned, the preset's budget by default)",
    )
    parser.add_argument(
        "--eval-episodes",
        type=positive_int,
        default=20,
        help="greedy evaluation episodes after training (default: 20)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="output folder (default: results/train/<algo>_<env>_s<seed>_<time>)"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    if _supports_checkpoints(agent_class):
        parser.add_argument(
            "--checkpoint-every",
            type=non_negative_int,
            default=0,
            help="also write <out>/checkpoint.pt every N env steps (it is always written on Ctrl-C and "
            "at the end; `python -m agents resume` continues it exactly as if never stopped)",
        )
        if "checkpoint_replay" in inspect.signature(agent_class.train).parameters:
            parser.add_argument(
                "--no-replay-in-checkpoint",
                action="store_true",
                help="leave the replay buffer out of checkpoint.pt (smaller files); a resumed run then "
                "starts from an empty buffer and differs from an uninterrupted one",
            )
    add_config_flags(parser, agent_class.Config)
    return parser


def _supports_checkpoints(agent_class: type[base.Agent]) -> bool:
    """Agents whose `train` writes resumable checkpoints (and that have a `resume` classmethod)."""
    return "checkpoint_path" in inspect.signature(agent_class.train).parameters and hasattr(agent_class, "resume")


def train_steps(text: str) -> int:
    """--steps of `train`: at most `MAX_STEPS`, as in comparison plans."""
    return int_in(text, 1, MAX_STEPS, f"an integer from 1 to {MAX_STEPS:,}")


def _new_run_dir(out: Path | None, name: str) -> Path:
    """A fresh output folder: never reuses (and so never overwrites) an earlier run's folder."""
    from agents.compare.rundir import create_run_dir

    if out is None:
        out = DEFAULT_RESULTS / "train" / f"{name}_{time.strftime('%Y%m%d-%H%M%S')}"
    return create_run_dir(out)


def _training_env(args: argparse.Namespace, n_envs: int) -> gym.Env | gym.vector.VectorEnv:
    """The env of --env, or a SyncVectorEnv of n_envs copies of it."""
    return _make_env(args) if n_envs == 1 else gym.vector.SyncVectorEnv([lambda: _make_env(args)] * n_envs)


def _flags_given(args: argparse.Namespace, names: Sequence[str]) -> list[str]:
    """The options among `names` (argparse dests) given on the command line, spelled as flags."""
    return ["--" + name.replace("_", "-") for name in names if getattr(args, name) is not None]


def _tuned_settings(algo: str, args: argparse.Namespace) -> dict[str, Any]:
    """For `train --tuned LABEL`: fill --env, --env-kwargs (the given keys win), --steps and --wrap (unless given)
    from the preset's env LABEL and return the hyperparameters of `algo` for it (agents/hyperparams)."""
    from agents.compare.plan import preset_env
    from agents.hyperparams import per_env_settings

    preset, spec = preset_env(args.tuned)
    if args.env is not None and args.env != spec.id:
        raise UserError(f"--tuned {args.tuned} trains on {spec.id} (--preset {preset}); drop --env {args.env}")
    args.env, args.env_kwargs = spec.id, {**spec.env_kwargs, **args.env_kwargs}
    args.steps = spec.steps if args.steps is None else args.steps
    settings = per_env_settings(algo, spec.id, label=spec.label)
    if settings.wrappers and not args.wrap:
        args.wrap = [(WRAPPER_NAMES[target], kwargs) for target, kwargs in settings.wrappers]
    budget = "" if args.steps == spec.steps else f"; its schedules are written for {spec.steps:,} steps"
    print(f"{algo} on {args.tuned} as in --preset {preset} ({args.steps:,} steps{budget}): {settings.source}")
    return settings.hyperparameters


def run_train(algo: str, argv: Sequence[str]) -> int:
    args = _train_parser(algo).parse_args(argv)
    tuned = _tuned_settings(algo, args) if args.tuned else {}
    if args.env is None or args.steps is None:
        raise UserError("train needs --env and --steps, or --tuned LABEL (which gives both)")
    agent_class = base.get_agent_class(algo)
    config = base.make_config(agent_class, {**tuned, **config_overrides(args, agent_class.Config)})
    env = _training_env(args, getattr(config, "n_envs", 1))  # n_envs: copies in a SyncVectorEnv (DQN, SB3)
    try:
        agent = base.make_agent(algo, env, config, seed=args.seed)
    except (TypeError, AssertionError, gym.error.Error) as error:  # SB3 asserts on a policy the env cannot take
        raise ValueError(f"{algo} on {args.env}: {type(error).__name__}: {error}") from error
    run_dir = _new_run_dir(args.out, f"{algo}_{args.env.replace('/', '-').replace(':', '-')}_s{args.seed}")
    atomic_write_json(
        run_dir / "config.json",
        {
            "algo": algo,
            "env": args.env,
            "env_kwargs": args.env_kwargs,
            "wrap": [[n, k] for n, k in args.wrap],
            "tuned": args.tuned,
            "seed": args.seed,
            "steps": args.steps,
            "hyperparameters": agent.hyperparameters(),
        },
    )
    train_kwargs: dict[str, Any] = {}
    if _supports_checkpoints(agent_class):
        resume_file = run_dir / f"checkpoint{agent_class.checkpoint_suffix}"
        train_kwargs = {"checkpoint_path": resume_file, "checkpoint_every": args.checkpoint_every}
        if hasattr(args, "no_replay_in_checkpoint"):
            train_kwargs["checkpoint_replay"] = not args.no_replay_in_checkpoint
            if args.no_replay_in_checkpoint:
                print(
                    "warning: --no-replay-in-checkpoint: checkpoints leave out the replay buffer, so a resumed run "
                    "starts from an empty buffer and will differ from an uninterrupted one",
                    file=sys.stderr,
                )
    start = time.perf_counter()
    try:
        agent.train(env, args.steps, log_dir=run_dir / "tensorboard", progress=not args.no_progress, **train_kwargs)
    except KeyboardInterrupt:
        if train_kwargs:
            _print_resume_hint(resume_file, args)
        else:
            _save_interrupted(agent, args, run_dir)
        raise
    _finish_run(agent, args, run_dir, time.perf_counter() - start, args.steps)
    return 0


def _env_flags(args: argparse.Namespace) -> str:
    """The --env, --env-kwargs and --wrap flags of `args`, as a shell command line would repeat them."""
    flags = f"--env {args.env}"
    flags += f" --env-kwargs '{json.dumps(args.env_kwargs)}'" if args.env_kwargs else ""
    return flags + "".join(f" --wrap '{name}:{json.dumps(kwargs)}'" for name, kwargs in args.wrap)


def _print_resume_hint(resume_file: Path, args: argparse.Namespace) -> None:
    if resume_file.exists():
        print(
            f"checkpoint written to {resume_file}; continue with: python -m agents resume {resume_file} "
            f"{_env_flags(args)}",
            file=sys.stderr,
        )
    else:
        print(f"interrupted before the first checkpoint; nothing saved at {resume_file}", file=sys.stderr)


def _save_interrupted(agent: base.Agent, args: argparse.Namespace, run_dir: Path) -> None:
    """Ctrl-C on an algorithm without resumable checkpoints: save the agent as it is (loadable, not resumable)."""
    path = run_dir / f"interrupted{type(agent).checkpoint_suffix}"
    agent.save(path)
    print(
        f"training interrupted; the agent as trained so far is saved to {path} (it loads for evaluation: "
        f"python -m agents evaluate {path} {_env_flags(args)}). {agent.algo} runs cannot be resumed exactly "
        "(see README, 'Interrupting and resuming'); train again to finish one.",
        file=sys.stderr,
    )


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
        plot_learning_curve(
            episodes[:, 0], episodes[:, 1], run_dir / "learning_curve.png", title=f"{agent.algo} on {args.env}"
        )
    if steps is None:
        print(f"finished training {agent.algo} on {args.env} in {seconds:.1f} s")
    else:
        print(
            f"trained {agent.algo} on {args.env} for {steps} steps in {seconds:.1f} s ({steps / seconds:,.0f} steps/s)"
        )
    print(f"greedy return over {args.eval_episodes} episodes: {result.mean:.3f} +- {result.std:.3f}")
    print(f"saved {checkpoint}; TensorBoard: tensorboard --logdir {run_dir / 'tensorboard'}")


RUN_ENV = "the run's, with its env_kwargs and wrappers, from the config.json beside the checkpoint"


def _env_of_run(args: argparse.Namespace) -> None:
    """evaluate and resume without --env: the env of the run the checkpoint belongs to, from the config.json beside
    it (`train`'s or a comparison job's): its env id, env_kwargs (given --env-kwargs keys win) and observation
    wrappers (unless --wrap is given)."""
    if args.env is not None:
        return
    path = args.checkpoint.parent / "config.json"
    try:
        recorded = json.loads(path.read_text())
        env, env_kwargs = recorded.get("env", recorded.get("env_id")), recorded["env_kwargs"]
        if "wrap" in recorded:  # train's: [[name, kwargs], ...]
            wraps = [(str(name), kwargs) for name, kwargs in recorded["wrap"]]
        else:  # a comparison job's: [["module:Class", kwargs], ...]
            wraps = [(WRAPPER_NAMES.get(target, target), kwargs) for target, kwargs in recorded["wrappers"]]
        if not isinstance(env, str) or not isinstance(env_kwargs, dict):
            raise ValueError("env must be an id and env_kwargs a mapping")
        unknown = [name for name, kwargs in wraps if name not in OBSERVATION_WRAPPERS or not isinstance(kwargs, dict)]
        if unknown:
            raise ValueError(f"unknown observation wrapper(s) {unknown}; known: {', '.join(OBSERVATION_WRAPPERS)}")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        detail = f"{type(error).__name__}: {error}" if not isinstance(error, OSError) else "it cannot be read"
        raise UserError(f"give --env: {path} does not say which env the run trained on ({detail})") from error
    args.env, args.env_kwargs = env, {**env_kwargs, **args.env_kwargs}
    args.wrap = args.wrap or wraps


def _check_same_env(config_path: Path, args: argparse.Namespace) -> None:
    """A UserError if the run's config.json (when there is one) names another env or other env_kwargs than
    the flags: a resumed run continues on the env it started on."""
    try:
        recorded = json.loads(config_path.read_text())
        env, env_kwargs = recorded["env"], recorded["env_kwargs"]
    except (OSError, ValueError, KeyError, TypeError):
        return  # a checkpoint moved out of its run folder: the agent's own space checks remain
    if (env, env_kwargs) != (args.env, args.env_kwargs):
        raise UserError(
            f"the run in {config_path.parent} trained on --env {env} --env-kwargs '{json.dumps(env_kwargs)}'; "
            f"resume it with the same (got --env {args.env} --env-kwargs '{json.dumps(args.env_kwargs)}')"
        )


def run_resume(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m agents resume",
        description="Finish an interrupted `train` run from its checkpoint, in the run's folder.",
    )
    parser.add_argument(
        "checkpoint", type=Path, help="the run's checkpoint.pt (written periodically, on Ctrl-C and at the end)"
    )
    _add_env_args(parser, default=RUN_ENV)
    parser.add_argument(
        "--eval-episodes",
        type=positive_int,
        default=20,
        help="greedy evaluation episodes after training (default: 20)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)
    _env_of_run(args)
    meta = read_metadata(args.checkpoint)
    agent_class = base.get_agent_class(meta["algo"])
    if not _supports_checkpoints(agent_class):
        raise UserError(
            f"{agent_class.algo} runs cannot be resumed (only dqn runs can; see README, 'Interrupting and "
            f"resuming'); evaluate the saved agent with `python -m agents evaluate {args.checkpoint}` or train again"
        )
    _check_same_env(args.checkpoint.parent / "config.json", args)
    n_envs = meta.get("n_envs", 1)  # the run trained on a SyncVectorEnv of this many copies (config n_envs)
    # a value out of range gets one env here; the checkpoint's own checks then name it
    env = _training_env(args, n_envs if isinstance(n_envs, int) and 1 <= n_envs <= MAX_N_ENVS else 1)
    run_dir = args.checkpoint.parent
    start = time.perf_counter()
    try:
        resume = agent_class.resume  # type: ignore[attr-defined]  # checked by _supports_checkpoints
        agent = resume(args.checkpoint, env, log_dir=run_dir / "tensorboard", progress=not args.no_progress)
    except KeyboardInterrupt:
        _print_resume_hint(args.checkpoint, args)
        raise
    _finish_run(agent, args, run_dir, time.perf_counter() - start, None)
    return 0


def run_evaluate(argv: Sequence[str]) -> int:
    from agents.common.evaluation import evaluate

    parser = argparse.ArgumentParser(
        prog="python -m agents evaluate", description="Evaluate a saved agent's greedy policy."
    )
    parser.add_argument("checkpoint", type=Path, help="a file written by `train` (.npz or .pt)")
    _add_env_args(parser, default=RUN_ENV)
    parser.add_argument("--episodes", type=positive_int, default=20, help="evaluation episodes (default: 20)")
    parser.add_argument(
        "--seed", type=seed_int, default=0, help="episode i starts from reset(seed=seed + i) (default: 0)"
    )
    parser.add_argument(
        "--video",
        type=Path,
        metavar="OUT.gif|OUT.mp4",
        help="also record the first --video-episodes evaluation episodes (from render_mode='rgb_array') to this file",
    )
    parser.add_argument(
        "--video-episodes", type=positive_int, default=1, help="episodes in the video, back to back (default: 1)"
    )
    parser.add_argument(
        "--video-max-frames",
        type=positive_int,
        default=MAX_FRAMES,
        help=f"the video stops after this many frames (default: {MAX_FRAMES})",
    )
    args = parser.parse_args(argv)
    _env_of_run(args)
    if args.video is not None:
        check_video_path(args.video)  # a bad suffix fails before anything is loaded or played
        if args.video_episodes > args.episodes:
            raise UserError(f"--video-episodes ({args.video_episodes}) must be at most --episodes ({args.episodes})")
    env = _make_env(args, **({"render_mode": "rgb_array"} if args.video is not None else {}))
    agent = base.load_agent(args.checkpoint, env)
    result = evaluate(agent, env, args.episodes, seed=args.seed)
    print(
        f"{agent.algo} on {args.env}: mean return {result.mean:.3f} +- {result.std:.3f} over {args.episodes} episodes"
    )
    if args.video is not None:
        # the same greedy episodes again (episode i from reset(seed=seed + i)), this time with their frames
        frames = record_episodes(
            agent, env, args.video_episodes, args.video, seed=args.seed, max_frames=args.video_max_frames
        )
        print(f"saved {args.video} ({frames} frames of {args.video_episodes} episode(s))")
    return 0


def run_solve(argv: Sequence[str]) -> int:
    from agents.tabular.planners import policy_iteration, value_iteration

    parser = argparse.ArgumentParser(
        prog="python -m agents solve",
        description="Solve an env with a known model (env.unwrapped.P) exactly and print V*, Q* and "
        "the optimal policy.",
    )
    _add_env_args(parser)
    parser.add_argument("--gamma", type=_gamma_arg, default=0.95, help="discount in [0, 1] (default: 0.95)")
    parser.add_argument("--method", choices=("value-iteration", "policy-iteration"), default="value-iteration")
    args = parser.parse_args(argv)
    env = _make_env(args)
    planner = value_iteration if args.method == "value-iteration" else policy_iteration
    try:
        solution = planner(env, args.gamma)
    except ValueError as error:
        raise UserError(str(error)) from error
    with np.printoptions(precision=3, suppress=True):
        print(f"{args.env}, gamma={args.gamma}, {args.method} ({solution.iterations} iterations)")
        print(f"V*     = {solution.V}")
        print(f"Q*     =\n{solution.Q}")
        print(f"policy = {solution.policy}")
    return 0


COMPARE_EXAMPLES = """examples:
  python -m agents compare --preset quick                 # what `make demo` runs (2 seeds, < 10 min on 2 cores)
  python -m agents compare --preset full --workers 2      # the full comparison of benchmarks/RESULTS.md
  python -m agents compare --envs CartPole-v1 mdp-v0 --algos sb3-dqn sb3-ppo --seeds 5 --steps 50000
  python -m agents compare --config my_comparison.yml --backend ray --address auto
  python -m agents compare --resume results/quick-20250101-120000   # re-run only unfinished jobs
  python -m agents compare --extend results/quick-20250101-120000 --algos my-agent   # add an algorithm

exit codes: 0 all jobs done; 1 some jobs failed (the report lists them); 2 bad arguments/config; 130 interrupted
"""


def _compare_parser(prog: str = "python -m agents compare") -> argparse.ArgumentParser:
    from agents.compare.plan import PRESETS
    from agents.compare.runner import BACKENDS

    parser = argparse.ArgumentParser(
        prog=prog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=COMPARE_EXAMPLES,
        description="Train every (env, algorithm, seed) job under one protocol, in parallel, and write a report "
        "(tables with bootstrap CIs and IQM, learning curves) under results/.",
    )
    what = parser.add_argument_group("what to compare (a preset or config file, refined by the other flags)")
    source = what.add_mutually_exclusive_group()
    source.add_argument("--preset", choices=PRESETS, help="a built-in comparison (agents/compare/presets/<name>.yml)")
    source.add_argument(
        "--quick", action="store_const", dest="preset", const="quick", help="the same as --preset quick"
    )
    source.add_argument("--config", type=Path, help="a YAML file of the same form as the presets")
    what.add_argument(
        "--envs", nargs="+", metavar="ID", help=f"env ids or config labels (suite: {', '.join(SUITE_ENV_IDS)})"
    )
    what.add_argument("--algos", nargs="+", metavar="ALGO", help=f"algorithms: {', '.join(base.algorithm_names())}")
    what.add_argument("--seeds", type=positive_int, help="number of seeds (0..N-1)")
    what.add_argument("--steps", type=positive_int, help="training env steps per job, for every env")
    what.add_argument("--eval-every", type=positive_int, help="env steps between evaluations (default: steps / 10)")
    what.add_argument("--eval-episodes", type=positive_int, help="greedy episodes per evaluation (default: 10)")
    what.add_argument(
        "--hyperparams",
        type=Path,
        metavar="FILE",
        help="YAML {algo: {env: {hyperparameters: {...}}}}: each entry replaces, as a whole, that env's entry of "
        "agents/hyperparams/<algo>.yml (keys it leaves out take the algorithm's defaults, not the file's values)",
    )
    how = parser.add_argument_group("how to run")
    how.add_argument("--backend", choices=BACKENDS, default="local", help="local processes (default) or a Ray cluster")
    how.add_argument("--address", help="Ray cluster address (default: start a local Ray instance)")
    how.add_argument("--workers", type=positive_int, help="jobs at a time (default: the number of CPUs)")
    how.add_argument("--threads", type=positive_int, default=1, help="torch threads per job (default: 1)")
    how.add_argument("--out", type=Path, help="run folder (default: results/<name>-<time>; never overwritten)")
    how.add_argument(
        "--resume", type=_run_folder, metavar="RUN_DIR", help="re-run the unfinished jobs of an earlier run"
    )
    how.add_argument(
        "--extend",
        type=_run_folder,
        metavar="RUN_DIR",
        help="add --algos (on all its envs, or --envs) to an "
        "earlier run, with its seeds, budgets and evaluation protocol",
    )
    how.add_argument("--report", type=_run_folder, metavar="RUN_DIR", help="only rewrite the report of an earlier run")
    how.add_argument("--dry-run", action="store_true", help="check the plan and list its jobs without running them")
    how.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def _check_writable(out: Path) -> None:
    existing = out
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"cannot write to output folder {out}: {existing} is not a writable folder")


def run_compare(argv: Sequence[str], prog: str = "python -m agents compare", default_preset: str | None = None) -> int:
    """`compare` with the flags `argv`; a new run without --preset or --config runs `default_preset` (demo's
    quick). The command recorded in run.json and the report, to be run again, is the one typed: `prog` `argv`."""
    from agents.common.yaml_files import read_yaml
    from agents.compare import plan as planning
    from agents.compare.job import check_plan
    from agents.compare.report import write_report
    from agents.compare.rundir import default_run_dir
    from agents.compare.runner import extend_comparison, resume_comparison, run_comparison

    args = _compare_parser(prog).parse_args(argv)
    if args.report is not None:
        print(f"report: {write_report(args.report)}")
        return 0
    run_options = {
        "backend": args.backend,
        "workers": args.workers,
        "address": args.address,
        "threads": args.threads,
        "progress": not args.no_progress,
    }
    if args.extend is not None:
        given = _flags_given(
            args, ("preset", "config", "seeds", "steps", "eval_every", "eval_episodes", "hyperparams", "out", "resume")
        )
        if given or not args.algos:
            raise UserError(
                "--extend takes --algos (and optionally --envs); the rest comes from the run"
                + (f": drop {', '.join(given)}" if given else "")
            )
        return extend_comparison(
            args.extend, args.algos, args.envs, command=["python", "-m", "agents", "compare", *argv], **run_options
        )
    if args.resume is not None:
        given = _flags_given(
            args,
            (
                "preset",
                "config",
                "envs",
                "algos",
                "seeds",
                "steps",
                "eval_every",
                "eval_episodes",
                "hyperparams",
                "out",
            ),
        )
        if given:
            raise UserError(f"--resume re-runs the jobs stored in the run folder; drop {', '.join(given)}")
        return resume_comparison(args.resume, **run_options)
    if args.out is not None:
        _check_writable(args.out)
    preset = args.preset or (None if args.config else default_preset)
    source = planning.preset_path(preset) if preset else args.config
    raw = planning.load_plan_file(source) if source else {}
    plan = planning.build_plan(
        raw,
        envs=args.envs,
        algos=args.algos,
        seeds=args.seeds,
        steps=args.steps,
        eval_every=args.eval_every,
        eval_episodes=args.eval_episodes,
        hyperparams=read_yaml(args.hyperparams) if args.hyperparams else None,
    )
    jobs = check_plan(plan)
    if args.dry_run:
        for job in jobs:
            print(
                f"{job.name}: {job.steps:,} steps, eval every {job.eval_every:,} x {job.eval_episodes}, "
                f"hyperparameters "
                f"{json.dumps(job.hyperparameters)}{', wrappers ' + json.dumps(job.wrappers) if job.wrappers else ''}"
            )
        print(f"{len(jobs)} jobs")
        return 0
    out = args.out or default_run_dir(plan.name)
    _check_writable(out)
    _, code = run_comparison(plan, jobs, out, command=[*prog.split(), *argv], **run_options)
    return code


def run_demo(argv: Sequence[str]) -> int:
    """The README's main job: the quick comparison (`compare --preset quick`; takes compare's flags)."""
    if "--preset" in argv or "--config" in argv:
        raise UserError("demo runs the quick preset; use `python -m agents compare` for other presets or configs")
    return run_compare(argv, prog="python -m agents demo", default_preset="quick")


COMMANDS = {
    "train": "train an algorithm on an env: python -m agents train ALGO --env ID --steps N [hyperparameters]",
    "evaluate": "evaluate a saved agent: python -m agents evaluate CHECKPOINT --env ID",
    "resume": "finish an interrupted training run: python -m agents resume CHECKPOINT --env ID",
    "solve": "solve an env with a known model by value/policy iteration",
    "compare": "compare algorithms across envs and seeds: python -m agents compare --preset quick",
    "demo": "the README's main job: the quick comparison (compare --preset quick)",
}


def _top_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m agents",
        description="Train, evaluate and compare RL agents on the suite's envs.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="commands:\n"
        + "\n".join(f"  {name:10s} {text}" for name, text in COMMANDS.items())
        + f"\n\nalgorithms: {', '.join(base.algorithm_names()) or '(none registered)'}",
    )
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback of every error (also: RLSUITE_DEBUG=1)"
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
            train.add_argument(
                "algo", choices=base.algorithm_names(), help="the algorithm; `train ALGO --help` lists its flags"
            )
            train.parse_args(rest[:1])
        if rest[0] not in base.ALGORITHMS:
            raise UserError(f"unknown algorithm {rest[0]!r}; known algorithms: {', '.join(base.algorithm_names())}")
        return run_train(rest[0], rest[1:])
    return {
        "evaluate": run_evaluate,
        "resume": run_resume,
        "solve": run_solve,
        "compare": run_compare,
        "demo": run_demo,
    }[command](rest)


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command. User errors (bad flags, files, ids, hyperparameters) print one `error:` line and
    return 2; with `--debug` (or RLSUITE_DEBUG=1) they raise with their traceback instead. Anything
    else is a bug of ours and always shows its traceback."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = debug_requested(argv)
    if argv[:1] == ["--debug"]:
        argv = argv[1:]
    return run_reporting_user_errors(lambda: dispatch(argv), debug=debug)
