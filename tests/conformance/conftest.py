"""Parametrises the conformance checks over this suite's cases (cases.py).

`pytest --env-id pkg:Env-v0` runs the checks on another env through gym-conformance's plugin instead."""

from __future__ import annotations

import pytest


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" in metafunc.fixturenames:
        from conformance.cases import SUITE_CASES

        metafunc.parametrize("case", SUITE_CASES, ids=[case.name for case in SUITE_CASES])
