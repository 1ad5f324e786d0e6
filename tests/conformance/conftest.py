"""Parametrises the conformance checks over the suite's cases, or over `--env-id` when given."""

from __future__ import annotations

import importlib
import json

import pytest
from conformance.checks import EnvCase


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" not in metafunc.fixturenames:
        return
    config = metafunc.config
    env_ids = config.getoption("env_id")
    if env_ids:
        for module in config.getoption("env_import"):
            importlib.import_module(module)
        kwargs = json.loads(config.getoption("env_kwargs"))
        stochastic = not config.getoption("env_deterministic")
        cases = [EnvCase(env_id, kwargs, stochastic=stochastic) for env_id in env_ids]
    else:
        from conformance.cases import SUITE_CASES

        cases = SUITE_CASES
    metafunc.parametrize("case", cases, ids=[case.name for case in cases])
