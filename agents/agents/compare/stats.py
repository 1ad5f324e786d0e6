"""Statistics across seeds, as recommended by Agarwal et al. (2021), "Deep RL at the Edge of the
Statistical Precipice" (the rliable library): the interquartile mean and percentile-bootstrap
confidence intervals.

With few seeds these intervals are wide and coarse (with 2 seeds the bootstrap can only return the
two values and their mean), which is the honest answer: compare algorithms with 5+ seeds.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Statistic = Callable[[np.ndarray], np.ndarray]  # reduces the last axis


def mean(samples: np.ndarray) -> np.ndarray:
    return np.mean(samples, axis=-1)


def iqm(samples: np.ndarray) -> np.ndarray:
    """Interquartile mean over the last axis: the mean of the values left after dropping the lowest
    and the highest `floor(n / 4)` (as `scipy.stats.trim_mean(x, 0.25)`, which rliable uses)."""
    samples = np.sort(np.asarray(samples, dtype=float), axis=-1)
    cut = samples.shape[-1] // 4
    return np.mean(samples[..., cut : samples.shape[-1] - cut], axis=-1)


def bootstrap_ci(
    values: np.ndarray,
    statistic: Statistic = mean,
    *,
    confidence: float = 0.95,
    n_resamples: int = 10_000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of `statistic` over `values` (one per seed).

    Resamples the values with replacement `n_resamples` times (with a fixed seed, so a report is
    reproducible) and returns the (1 - confidence) / 2 and (1 + confidence) / 2 quantiles of the
    statistic. One value gives the degenerate interval (value, value).
    """
    values = np.asarray(values, dtype=float).ravel()
    if values.size == 0:
        raise ValueError("bootstrap_ci needs at least one value")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if values.size == 1:
        return float(values[0]), float(values[0])
    rng = np.random.default_rng(seed)
    resampled = values[rng.integers(0, values.size, size=(n_resamples, values.size))]
    estimates = statistic(resampled)
    tail = (1 - confidence) / 2
    low, high = np.quantile(estimates, [tail, 1 - tail])
    return float(low), float(high)
