"""Shared test setup: headless pygame, one thread per worker, and the conformance plugin."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # pygame windows work without a screen
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
# pytest-xdist runs one worker per core: one thread each keeps torch/numpy from oversubscribing
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import hypothesis_profiles  # noqa: E402,F401 - registers and loads the hypothesis profile (HYPOTHESIS_PROFILE)

# The conformance plugin (gym-conformance, `-e ./conformance` in requirements.txt) also registers
# itself by its pytest11 entry point of the same name once installed; naming it here is harmless then.
pytest_plugins = ["gym_conformance.plugin"]


try:  # property-based tests: the profile named by HYPOTHESIS_PROFILE (default "ci")
    from hypothesis_profiles import load_profile
except ImportError:  # hypothesis not installed: the tests that need it skip themselves
    pass
else:
    load_profile()


def pytest_collection_modifyitems(config, items) -> None:
    """Run the slow tests first. pytest-xdist hands tests out in collection order, so a long test
    collected late (the CartPole learning run takes ~4 minutes) would keep one worker busy while the
    other sits idle at the end; longest-first keeps both cores working until the suite is done.
    The sort is stable, so every worker collects the same order (xdist requires it)."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
