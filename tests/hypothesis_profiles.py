"""Hypothesis profiles, chosen by the HYPOTHESIS_PROFILE environment variable (default `ci`):
`ci` runs about 25 examples per property (the suite stays fast), `nightly` 1000. No deadline in
either: timing on a shared CI box is not a property; tests that bound a time say so themselves."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", max_examples=25, deadline=None)
settings.register_profile("nightly", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
