"""`check_conformance`: every check on one env, collected into a report instead of raised."""

from __future__ import annotations

import itertools
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from gym_conformance.checks import ALL_CHECKS, N_STEPS, EnvCase, NotApplicable

PASSED, FAILED, NOT_APPLICABLE = "passed", "failed", "not applicable"
_factory_ids = itertools.count()


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: `status` is "passed", "failed" or "not applicable"; `reason` says
    why for the last two (the assertion message, or why the check cannot run)."""

    name: str
    status: str
    reason: str = ""
    seconds: float = 0.0

    def line(self) -> str:
        text = f"{self.status.upper():<15}{self.name}"
        return text + (f": {self.reason}" if self.reason else "")


@dataclass
class ConformanceReport:
    """Per-check results for one env case; `passed` is True when no check failed."""

    case: EnvCase
    results: list[CheckResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def failures(self) -> list[CheckResult]:
        return [result for result in self.results if result.status == FAILED]

    def __getitem__(self, name: str) -> CheckResult:
        for result in self.results:
            if result.name == name:
                return result
        raise KeyError(f"no check named {name!r}; checks: {[r.name for r in self.results]}")

    def __str__(self) -> str:
        counts = {status: sum(r.status == status for r in self.results) for status in (PASSED, FAILED, NOT_APPLICABLE)}
        summary = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
        return "\n".join([f"{self.case.name}: {summary}", *(r.line() for r in self.results)])


def check_name(check: Callable) -> str:
    return check.__name__.removeprefix("check_")


def run_check(check: Callable[[EnvCase], None], case: EnvCase) -> CheckResult:
    """Run one check; an AssertionError or any other exception from the env is a failure."""
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # checks that care about warnings record them themselves
            check(case)
    except NotApplicable as why:
        status, reason = NOT_APPLICABLE, str(why)
    except AssertionError as error:
        status, reason = FAILED, str(error) or "assertion failed"
    except Exception as error:
        status, reason = FAILED, f"raised {type(error).__name__}: {error}"
    else:
        status, reason = PASSED, ""
    return CheckResult(check_name(check), status, reason, time.perf_counter() - start)


def as_case(
    env: str | Callable[..., gym.Env] | EnvCase,
    env_kwargs: dict[str, Any] | None = None,
    *,
    stochastic: bool = True,
    n_steps: int = N_STEPS,
) -> EnvCase:
    """An EnvCase from an id ("pkg:Env-v0" imports pkg first), a factory (a class or a module-level
    function taking the make keyword arguments, registered under a generated id), or an EnvCase."""
    if isinstance(env, EnvCase):
        return env
    if callable(env):
        env_id = f"gym_conformance/{getattr(env, '__name__', 'factory')}{next(_factory_ids)}-v0"
        gym.register(env_id, entry_point=env)
        env = env_id
    if not isinstance(env, str):
        raise TypeError(f"env must be an id, an env factory or an EnvCase, got {type(env).__name__}")
    return EnvCase(env, dict(env_kwargs or {}), stochastic=stochastic, n_steps=n_steps)


def check_conformance(
    env: str | Callable[..., gym.Env] | EnvCase,
    env_kwargs: dict[str, Any] | None = None,
    *,
    stochastic: bool = True,
    n_steps: int = N_STEPS,
    checks: Iterable[Callable[[EnvCase], None]] = ALL_CHECKS,
) -> ConformanceReport:
    """Run every conformance check on one env and return the report (nothing raises for a failure).

    `env` is a registered id (`"my_pkg:MyEnv-v0"` imports `my_pkg` first), an env factory or an
    `EnvCase`; `env_kwargs` go to `gym.make`; `stochastic=False` for envs without randomness (skips
    the different-seeds-differ check); `n_steps` random steps per rollout.

    >>> report = check_conformance("FrozenLake-v1")
    >>> report.passed, report["determinism"].status
    (True, 'passed')
    """
    case = as_case(env, env_kwargs, stochastic=stochastic, n_steps=n_steps)
    return ConformanceReport(case, [run_check(check, case) for check in checks])
