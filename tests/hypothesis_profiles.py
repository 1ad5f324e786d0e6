"""Hypothesis profiles, chosen by the HYPOTHESIS_PROFILE environment variable (default: ci).

HYPOTHESIS_PROFILE=nightly python -m pytest tests/test_hypothesis_inputs.py    # 1000 examples per test
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("nightly", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
