"""Shared test setup: headless pygame, and the conformance suite's command-line options."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # pygame windows work without a screen
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
# pytest-xdist runs one worker per core: one thread each keeps torch/numpy from oversubscribing
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import hypothesis_profiles  # noqa: E402,F401 - registers and loads the hypothesis profile (HYPOTHESIS_PROFILE)


def pytest_addoption(parser) -> None:
    group = parser.getgroup("conformance", "env conformance suite (tests/conformance)")
    group.addoption(
        "--env-id",
        action="append",
        default=[],
        help="run the conformance checks on this env id instead of the suite's own (repeatable); "
        "'module:Env-v0' imports the module first",
    )
    group.addoption("--env-kwargs", default="{}", help="JSON object of gym.make keyword arguments for --env-id")
    group.addoption("--env-import", action="append", default=[], help="module to import before making --env-id (repeatable)")
    group.addoption(
        "--env-deterministic",
        action="store_true",
        help="the --env-id env has no randomness: skip the check that different seeds give different trajectories",
    )
