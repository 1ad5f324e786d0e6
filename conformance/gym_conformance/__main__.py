"""`python -m gym_conformance my_pkg:MyEnv-v0 [--env-kwargs JSON]`: one line per check (passed,
failed with the reason, not applicable with why); exit status 1 when a check failed, 2 for a usage
error (bad JSON, an id that cannot be made)."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys

import gymnasium as gym

from gym_conformance.checks import N_STEPS
from gym_conformance.report import check_conformance


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m gym_conformance", description=__doc__.split("\n\n")[0])
    parser.add_argument("env_id", help="a registered id; 'module:Env-v0' imports the module first")
    parser.add_argument("--env-kwargs", default="{}", help="JSON object of gym.make keyword arguments")
    parser.add_argument("--env-import", action="append", default=[], help="module to import first (repeatable)")
    parser.add_argument("--deterministic", action="store_true", help="the env has no randomness")
    parser.add_argument("--steps", type=int, default=N_STEPS, help=f"random steps per rollout (default {N_STEPS})")
    args = parser.parse_args(argv)
    try:
        args.env_kwargs = json.loads(args.env_kwargs)
    except json.JSONDecodeError as error:
        parser.error(f"--env-kwargs is not valid JSON: {error}")
    if not isinstance(args.env_kwargs, dict):
        parser.error(f"--env-kwargs must be a JSON object, got {args.env_kwargs!r}")
    if args.steps < 1:
        parser.error(f"--steps must be at least 1, got {args.steps}")
    try:
        for module in args.env_import:
            importlib.import_module(module)
        gym.make(args.env_id, **args.env_kwargs).close()
    except (gym.error.Error, ImportError, TypeError, ValueError) as error:
        parser.error(f"cannot make {args.env_id!r} with {args.env_kwargs}: {type(error).__name__}: {error}")
    return args


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # render_mode="human" checks open no window
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    args = parse_args(argv)
    report = check_conformance(args.env_id, args.env_kwargs, stochastic=not args.deterministic, n_steps=args.steps)
    print(report, flush=True)
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
