"""Overlay the learning curves of several runs of `python -m agents.dqn.atari` (their `episodes.csv`).

    python benchmarks/plot_episodes.py results/atari/a/episodes.csv:"Nature CNN" \\
        results/atari/b/episodes.csv:"small CNN" --out benchmarks/pong_cpu_runs.png --title "Pong, seed 0"

Each run's mean score of its last 10 games (the issue's measure) is drawn against env steps and against wall
time, with the raw games faint behind it; a dashed line marks `--target` (default +18, Pong's bar), dotted
lines the budget (500k steps, 90 minutes).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from agents.common.plots import moving_average
from agents.dqn.atari import read_episodes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", metavar="EPISODES_CSV:LABEL")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--title", default="DQN on Pong: mean score of the last 10 games")
    parser.add_argument("--window", type=int, default=10)
    parser.add_argument("--target", type=float, default=18.0)
    parser.add_argument("--budget-steps", type=float, default=500_000, help="a dotted line at this step (0: none)")
    parser.add_argument("--budget-minutes", type=float, default=90, help="a dotted line at this minute (0: none)")
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5), dpi=100)
    for run in args.runs:
        path, _, label = run.partition(":")
        episodes = read_episodes(Path(path))
        steps, minutes, scores = episodes[:, 0], episodes[:, 1] / 60, episodes[:, 2]
        average = moving_average(scores, args.window)
        for ax, x in zip(axes, (steps, minutes)):
            (line,) = ax.plot(x, average, linewidth=2, label=label or path)
            ax.plot(x, scores, color=line.get_color(), alpha=0.15, linewidth=0.8)
    for ax, name, budget in zip(axes, ("agent steps", "wall time (minutes)"), (args.budget_steps, args.budget_minutes)):
        ax.axhline(args.target, color="grey", linestyle="--", linewidth=1, label=f"target {args.target:+g}")
        if budget:
            ax.axvline(budget, color="grey", linestyle=":", linewidth=1, label="budget")
        ax.set_xlabel(name)
        ax.set_ylabel(f"score (mean of last {args.window} games)")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize="small")
    fig.suptitle(args.title)
    fig.tight_layout()
    fig.savefig(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
