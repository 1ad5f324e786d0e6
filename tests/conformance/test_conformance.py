"""Every conformance check on every case (see cases.py, or pass --env-id)."""

from __future__ import annotations

from typing import Callable

import pytest
from conformance.checks import ALL_CHECKS, EnvCase


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda check: check.__name__.removeprefix("check_"))
def test_conformance(case: EnvCase, check: Callable[[EnvCase], None]) -> None:
    check(case)
