"""Hypothesis profiles: `ci` (the default: about 25 examples per property, fast enough for every run,
derandomized so that a CI run is repeatable; the examples change when a test's code changes) and
`nightly` (1000 random examples), chosen with the HYPOTHESIS_PROFILE environment variable, e.g.
`HYPOTHESIS_PROFILE=nightly make test PYTEST_ARGS='tests/test_snake_properties.py'`.

No deadline in either: timing on a shared CI box is not a property; tests that bound a time say so
themselves.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("nightly", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def load_profile() -> None:
    """Load the profile named by HYPOTHESIS_PROFILE (default `ci`)."""
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
