"""Every conformance check (gym-conformance) on every case of this suite (cases.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gym_conformance import ALL_CHECKS, EnvCase
from gym_conformance.report import FAILED, NOT_APPLICABLE, check_name, run_check


@pytest.mark.parametrize("check", ALL_CHECKS, ids=check_name)
def test_conformance(case: EnvCase, check: Callable[[EnvCase], None]) -> None:
    result = run_check(check, case)
    if result.status == NOT_APPLICABLE:
        pytest.skip(result.reason)
    assert result.status != FAILED, result.reason
