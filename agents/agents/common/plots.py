"""Plots people would rather look at than read (matplotlib, written as PNG files)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from agents.common.checkpoint import atomic_path


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of the last `window` values at each point (fewer at the start)."""
    values = np.asarray(values, dtype=float)
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    index = np.arange(1, len(values) + 1)
    start = np.maximum(index - window, 0)
    return (cumulative[index] - cumulative[start]) / (index - start)


def plot_learning_curve(
    steps: np.ndarray,
    returns: np.ndarray,
    path: str | Path,
    *,
    title: str,
    window: int = 100,
    seconds: np.ndarray | None = None,
) -> None:
    """Episode returns against env steps, raw (faint) and as a moving average over at most `window`
    episodes (fewer when the run has few, long episodes, so the average does not lag the whole run);
    with `seconds` (wall time at each episode's end) a second panel shows the same against wall time.
    Saved atomically."""
    window = max(1, min(window, len(returns) // 10))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = (
        [(steps, "env steps")]
        if seconds is None
        else [(steps, "env steps"), (np.asarray(seconds) / 60, "wall time (minutes)")]
    )
    fig, axes = plt.subplots(1, len(panels), figsize=(7 * len(panels), 4), dpi=100, squeeze=False)
    average = moving_average(returns, window)
    for ax, (x, label) in zip(axes[0], panels):
        ax.plot(x, returns, color="tab:blue", alpha=0.25, linewidth=0.8, label="episode return")
        ax.plot(x, average, color="tab:blue", linewidth=2, label=f"mean of last {window}")
        ax.set_xlabel(label)
        ax.set_ylabel("return")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
    fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
