"""The pytest plugin (entry point `pytest11`): `pytest --env-id my_pkg:MyEnv-v0` runs every
conformance check on that env as one test each, in any project where gym-conformance is installed.

With `--env-id` only the conformance tests run (the project's own collected tests are deselected);
without it the plugin adds nothing but its options.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from gym_conformance.checks import ALL_CHECKS, EnvCase
from gym_conformance.report import FAILED, NOT_APPLICABLE, as_case, check_name, run_check

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr  # what pytest.Item.repr_failure returns (not exported by pytest)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "Gymnasium env conformance checks (gym-conformance)")
    group.addoption(
        "--env-id",
        action="append",
        default=[],
        help="run the conformance checks on this env id (repeatable); 'module:Env-v0' imports the module first",
    )
    group.addoption("--env-kwargs", default="{}", help="JSON object of gym.make keyword arguments for --env-id")
    group.addoption(
        "--env-import", action="append", default=[], help="module to import before making --env-id (repeatable)"
    )
    group.addoption(
        "--env-deterministic",
        action="store_true",
        help="the --env-id env has no randomness: skip the check that different seeds give different trajectories",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("env_id"):  # render_mode="human" checks open no window, play no sound
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")


def cases_from_options(config: pytest.Config) -> list[EnvCase]:
    """The EnvCases the command line asks for (empty without --env-id); a usage error otherwise."""
    env_ids = config.getoption("env_id")
    if not env_ids:
        return []
    try:
        kwargs = json.loads(config.getoption("env_kwargs"))
    except json.JSONDecodeError as error:
        raise pytest.UsageError(f"--env-kwargs is not valid JSON: {error}") from error
    if not isinstance(kwargs, dict):
        raise pytest.UsageError(f"--env-kwargs must be a JSON object, got {kwargs!r}")
    for module in config.getoption("env_import"):
        importlib.import_module(module)
    stochastic = not config.getoption("env_deterministic")
    return [as_case(env_id, kwargs, stochastic=stochastic) for env_id in env_ids]


class ConformanceFailure(Exception):
    """A failed check, reported by its reason alone (no traceback into the checker)."""


class ConformanceItem(pytest.Item):
    """One check on one env case."""

    def __init__(self, *, case: EnvCase, check: Callable[[EnvCase], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.check = check

    def runtest(self) -> None:
        result = run_check(self.check, self.case)
        if result.status == NOT_APPLICABLE:
            pytest.skip(f"not applicable: {result.reason}")
        if result.status == FAILED:
            raise ConformanceFailure(result.reason)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | TerminalRepr:
        if isinstance(excinfo.value, ConformanceFailure):
            return f"{self.case.name}: {check_name(self.check)} failed:\n{excinfo.value}"
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, f"conformance: {self.name}"


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    cases = cases_from_options(config)
    if not cases:
        return
    if items:
        config.hook.pytest_deselected(items=list(items))
    names = [(case, check, f"{check_name(check)}[{case.name}]") for case in cases for check in ALL_CHECKS]
    items[:] = [
        ConformanceItem.from_parent(session, name=name, nodeid=f"conformance::{name}", case=case, check=check)
        for case, check, name in names
    ]
