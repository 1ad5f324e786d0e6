"""gym-conformance: checks that a Gymnasium env keeps the API's promises and its own.

    from gym_conformance import check_conformance
    report = check_conformance("my_pkg:MyEnv-v0", {"size": 8})
    print(report); assert report.passed

Also a pytest plugin (`pytest --env-id my_pkg:MyEnv-v0`) and a command
(`python -m gym_conformance my_pkg:MyEnv-v0`).
"""

from gym_conformance.checks import ALL_CHECKS, EnvCase, NotApplicable
from gym_conformance.report import CheckResult, ConformanceReport, check_conformance

__all__ = ["ALL_CHECKS", "CheckResult", "ConformanceReport", "EnvCase", "NotApplicable", "check_conformance"]
