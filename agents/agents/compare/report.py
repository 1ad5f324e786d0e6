"""The report of a run: tables (markdown + CSV) and plots from the jobs' files.

For each env, each algorithm's "final return" of a seed is the mean greedy return of the last
evaluation (at the end of training); across seeds the table gives their mean with a 95% percentile
bootstrap confidence interval, the interquartile mean (IQM) with its own interval (`stats.py`),
the gap to the optimum where the env's model is known (`reference.py`), the gap to the reference
planner where the run has one (an algorithm whose class is marked `privileged`, e.g. `planner`, which
reads the env's true state: its mean final return becomes the "planner" column, it is listed as a
privileged reference and never ranked with the learners), and the speed: training
env steps per second (evaluation time excluded) and wall time per seed (evaluation included).
Only finished jobs count; failed or unfinished ones are listed.

Files written into the run folder:
    report.md            the tables, the protocol, the plots, failed jobs, hyperparameter sources
    summary.csv          one row per (env, algorithm)
    seeds.csv            one row per job
    curves_<env>.png     learning curves: mean over seeds and a 95% bootstrap band, at each evaluation
    final_returns.png    every seed's final return and the mean with its interval, per env
    episode_<env>.gif    one greedy evaluation episode of the env's best learner (highest mean final return),
                         from its best seed's saved agent, starting from that seed's first evaluation seed; at most
                         GIF_MAX_FRAMES frames, downscaled to GIF_MAX_SIDE pixels; skipped (with a note) for envs
                         without `render_mode="rgb_array"` or agents that cannot be loaded
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agents import base
from agents.common.checkpoint import atomic_path, atomic_write_text
from agents.common.envs import make_env
from agents.common.video import record_episodes
from agents.compare import stats
from agents.compare.backends import read_status
from agents.compare.plan import EVAL_SEED_BASE, MAX_EVAL_EPISODES, Job, slug
from agents.compare.reference import Reference, reference_returns
from agents.compare.rundir import job_dir, load_run
from agents.hyperparams import apply_wrappers

SUMMARY_COLUMNS = (
    "env",
    "algo",
    "seeds",
    "seeds_done",
    "final_return_mean",
    "ci95_low",
    "ci95_high",
    "iqm",
    "iqm_ci95_low",
    "iqm_ci95_high",
    "final_return_std_across_seeds",
    "exact_return_mean",
    "exact_ci95_low",
    "exact_ci95_high",
    "optimum",
    "gap_to_optimum",
    "planner_return",
    "gap_to_planner",
    "privileged",
    "steps_per_second",
    "wall_seconds",
    "source",
)
SEED_COLUMNS = (
    "env",
    "algo",
    "seed",
    "status",
    "final_return_mean",
    "final_return_std",
    "final_exact_return",
    "steps_per_second",
    "wall_seconds",
    "error",
)
BAND_RESAMPLES = 2000
GIF_MAX_FRAMES = 300  # frames of the report's episode GIFs (the rest of a longer episode is cut)
GIF_MAX_SIDE = 256  # larger renderings are shrunk by an integer stride to at most this many pixels a side


@dataclass
class AlgoResult:
    """One algorithm on one env: the finished seeds' final returns and learning curves."""

    algo: str
    source: str
    jobs: list[Job]
    statuses: list[dict[str, Any] | None]
    curves: dict[int, np.ndarray] = field(default_factory=dict)  # seed -> rows (step, return_mean, exact_return)

    @property
    def done(self) -> list[tuple[Job, dict[str, Any]]]:
        return [(job, s) for job, s in zip(self.jobs, self.statuses) if s is not None and s["status"] == "done"]

    @property
    def finals(self) -> np.ndarray:
        return np.array([s["final_return_mean"] for _, s in self.done], dtype=float)

    @property
    def exact_finals(self) -> np.ndarray | None:
        """Exact final returns of the finished seeds, if every one has one (model-known envs)."""
        values = [s.get("final_exact_return") for _, s in self.done]
        return np.array(values, dtype=float) if values and None not in values else None

    def summary(self) -> dict[str, Any]:
        finals = self.finals
        row: dict[str, Any] = {
            "algo": self.algo,
            "seeds": len(self.jobs),
            "seeds_done": len(finals),
            "source": self.source,
        }
        if len(finals) == 0:
            return row
        row["final_return_mean"] = float(finals.mean())
        row["ci95_low"], row["ci95_high"] = stats.bootstrap_ci(finals, stats.mean)
        row["iqm"] = float(stats.iqm(finals))
        row["iqm_ci95_low"], row["iqm_ci95_high"] = stats.bootstrap_ci(finals, stats.iqm)
        row["final_return_std_across_seeds"] = float(finals.std())
        exact = self.exact_finals
        if exact is not None:
            row["exact_return_mean"] = float(exact.mean())
            row["exact_ci95_low"], row["exact_ci95_high"] = stats.bootstrap_ci(exact, stats.mean)
        row["steps_per_second"] = float(np.mean([s["steps_per_second"] for _, s in self.done]))
        row["wall_seconds"] = float(np.mean([s["wall_seconds"] for _, s in self.done]))
        return row

    def curve(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool] | None:
        """Evaluation steps shared by every finished seed, the mean return there, a 95% band, and
        whether these are exact returns (used when every seed has them) rather than episode means."""
        runs = [self.curves[job.seed] for job, _ in self.done if job.seed in self.curves]
        if not runs:
            return None
        steps = sorted(set.intersection(*(set(run[:, 0].tolist()) for run in runs)))
        rows = np.array([[run[run[:, 0] == step][0] for step in steps] for run in runs])  # seeds x steps x columns
        exact = not np.isnan(rows[:, :, 2]).any()
        values = rows[:, :, 2] if exact else rows[:, :, 1]
        bands = np.array([stats.bootstrap_ci(values[:, i], n_resamples=BAND_RESAMPLES) for i in range(len(steps))])
        return np.array(steps), values.mean(axis=0), bands[:, 0], bands[:, 1], exact


@dataclass(frozen=True)
class PlannerReference:
    """The mean final return of a privileged reference (the `planner`) over its finished seeds."""

    algo: str
    mean: float
    seeds: int


@dataclass
class EnvResult:
    label: str
    env_id: str
    spec: dict[str, Any]
    algos: list[AlgoResult]
    reference: Reference | None
    planner: PlannerReference | None = None


def is_privileged(algo: str) -> bool:
    """Whether `algo` reads the env's true state (a reference, not a learner); False for unknown names."""
    try:
        return bool(getattr(base.get_agent_class(algo), "privileged", False))
    except (ValueError, ImportError, AttributeError):
        return False


def planner_reference(algos: list[AlgoResult]) -> PlannerReference | None:
    """The first privileged algorithm with finished seeds, as the env's planner reference."""
    for algo in algos:
        if is_privileged(algo.algo) and len(algo.finals):
            return PlannerReference(algo.algo, float(algo.finals.mean()), len(algo.finals))
    return None


def read_metrics(path: Path) -> np.ndarray | None:
    """(step, return_mean, exact_return or NaN) rows of a metrics.csv, or None if absent/empty."""
    try:
        with open(path, newline="") as f:
            rows = [
                (float(r["step"]), float(r["return_mean"]), float(r.get("exact_return") or "nan"))
                for r in csv.DictReader(f)
            ]
    except (OSError, KeyError, ValueError):
        return None
    return np.array(rows) if rows else None


def collect(run_dir: Path) -> tuple[dict[str, Any], list[EnvResult]]:
    run, jobs = load_run(run_dir)
    results = []
    for spec in run["envs"]:
        algos = []
        for algo in spec["algos"]:
            algo_jobs = [j for j in jobs if j.env_label == spec["label"] and j.algo == algo]
            statuses = [read_status(job_dir(run_dir, j)) for j in algo_jobs]
            result = AlgoResult(algo, algo_jobs[0].source if algo_jobs else "", algo_jobs, statuses)
            for job in algo_jobs:
                metrics = read_metrics(job_dir(run_dir, job) / "metrics.csv")
                if metrics is not None:
                    result.curves[job.seed] = metrics
            algos.append(result)
        try:
            reference = reference_returns(spec["id"], spec["env_kwargs"])
        except Exception:
            reference = None
        results.append(EnvResult(spec["label"], spec["id"], spec, algos, reference, planner_reference(algos)))
    return run, results


# ----------------------------------------------------------------------------- tables
def _fmt(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 10**digits else f"{value:,.0f}"
    return str(value)


def summary_rows(results: list[EnvResult]) -> list[dict[str, Any]]:
    rows = []
    for env in results:
        for algo in env.algos:
            row = {"env": env.label, **algo.summary()}
            if env.reference is not None:
                row["optimum"] = env.reference.optimum
                measured = row.get("exact_return_mean", row.get("final_return_mean"))
                if measured is not None:
                    row["gap_to_optimum"] = env.reference.optimum - measured
            row["privileged"] = is_privileged(algo.algo)
            if env.planner is not None:
                row["planner_return"] = env.planner.mean
                if "final_return_mean" in row:
                    row["gap_to_planner"] = env.planner.mean - row["final_return_mean"]
            rows.append(row)
    return rows


def _csv(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    return buffer.getvalue()


def seed_rows(results: list[EnvResult]) -> list[dict[str, Any]]:
    rows = []
    for env in results:
        for algo in env.algos:
            for job, status in zip(algo.jobs, algo.statuses):
                status = status or {"status": "not started"}
                rows.append(
                    {
                        "env": env.label,
                        "algo": algo.algo,
                        "seed": job.seed,
                        **{k: status.get(k) for k in SEED_COLUMNS[3:]},
                    }
                )
    return rows


def env_table(env: EnvResult, rows: list[dict[str, Any]]) -> str:
    has_gap = env.reference is not None
    header = ["algorithm", "seeds", "final return (mean)", "95% CI", "IQM", "IQM 95% CI"]
    header += ["exact return", "exact 95% CI", "gap to optimum"] if has_gap else []
    header += ["planner", "gap to planner"] if env.planner is not None else []
    header += ["steps/s", "wall time / seed"]
    learners = [r["final_return_mean"] for r in rows if "final_return_mean" in r and not r.get("privileged")]
    best = max(learners, default=None)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    for r in rows:
        mean = _fmt(r.get("final_return_mean"))
        if best is not None and r.get("final_return_mean") == best and not r.get("privileged"):
            mean = f"**{mean}**"
        name = f"{r['algo']} (privileged reference)" if r.get("privileged") else r["algo"]
        cells = [
            name,
            f"{r['seeds_done']}/{r['seeds']}",
            mean,
            f"[{_fmt(r.get('ci95_low'))}, {_fmt(r.get('ci95_high'))}]" if "ci95_low" in r else "-",
            _fmt(r.get("iqm")),
            f"[{_fmt(r.get('iqm_ci95_low'))}, {_fmt(r.get('iqm_ci95_high'))}]" if "iqm" in r else "-",
        ]
        if has_gap:
            exact_ci = (
                f"[{_fmt(r.get('exact_ci95_low'))}, {_fmt(r.get('exact_ci95_high'))}]" if "exact_ci95_low" in r else "-"
            )
            cells += [_fmt(r.get("exact_return_mean")), exact_ci, _fmt(r.get("gap_to_optimum"))]
        if env.planner is not None:
            cells += [_fmt(r.get("planner_return")), _fmt(r.get("gap_to_planner"))]
        cells += [
            _fmt(r.get("steps_per_second"), 3),
            f"{_fmt(r.get('wall_seconds'), 3)} s" if "wall_seconds" in r else "-",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- plots
def _save(fig: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


# tab10 slots of the built-in algorithms: the same colour in every report (random is grey)
FIXED_COLOR_SLOTS = {
    "tabular-q": 0,
    "dqn": 1,
    "sb3-dqn": 2,
    "sb3-ppo": 3,
    "sb3-a2c": 4,
    "sb3-maskable-ppo": 5,
    "sarsa": 6,
    "random": 7,
    "expected-sarsa": 8,
    "double-q": 9,
}


def algo_colors(results: list[EnvResult]) -> dict[str, Any]:
    """One colour per algorithm for the whole report, so a curve and its dots match across plots; the
    built-in algorithms keep theirs from report to report, others take the free slots in order."""
    import matplotlib.pyplot as plt

    palette = plt.get_cmap("tab10")
    names = list(dict.fromkeys(a.algo for env in results for a in env.algos))
    taken = {FIXED_COLOR_SLOTS[name] for name in names if name in FIXED_COLOR_SLOTS}
    free = [slot for slot in range(10) if slot not in taken] or list(range(10))
    others = [name for name in names if name not in FIXED_COLOR_SLOTS]
    slots = {
        **{name: free[i % len(free)] for i, name in enumerate(others)},
        **{name: FIXED_COLOR_SLOTS[name] for name in names if name in FIXED_COLOR_SLOTS},
    }
    return {name: palette(slots[name]) for name in names}


def _reference_lines(ax: Any, reference: Reference | None, planner: PlannerReference | None = None) -> None:
    if planner is not None:
        ax.axhline(
            planner.mean,
            color="black",
            linestyle="-.",
            linewidth=1.2,
            label=f"{planner.algo}, privileged reference ({planner.mean:.4g})",
        )
    if reference is None:
        return
    ax.axhline(
        reference.optimum,
        color="black",
        linestyle="--",
        linewidth=1.2,
        label=f"optimum, any policy ({reference.optimum:.4g})",
    )
    ax.axhline(
        reference.stationary,
        color="dimgray",
        linestyle=":",
        linewidth=1.4,
        label=f"{reference.stationary_label} ({reference.stationary:.4g})",
    )


def plot_curves(env: EnvResult, path: Path, colors: dict[str, Any]) -> bool:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4.8), dpi=110)
    plotted = any_exact = False
    for algo in env.algos:
        curve = algo.curve()
        if curve is None:
            continue
        steps, mean, low, high, exact = curve
        color = colors[algo.algo]
        kind = "exact" if exact else "episodes"
        any_exact = any_exact or exact
        ax.plot(
            steps,
            mean,
            color=color,
            linewidth=2,
            marker="o",
            markersize=3,
            label=f"{algo.algo} ({len(algo.done)} seed{'s' if len(algo.done) > 1 else ''}, {kind})",
        )
        ax.fill_between(steps, low, high, color=color, alpha=0.18, linewidth=0)
        plotted = True
    if not plotted:
        plt.close(fig)
        return False
    _reference_lines(ax, env.reference, env.planner)
    ax.set_xlabel("training env steps")
    episodes = f"mean of {env.spec['eval_episodes']} episodes"
    ax.set_ylabel(f"greedy return ({episodes}; exact: from the model)" if any_exact else f"greedy return ({episodes})")
    ax.set_title(f"{env.label}: mean over seeds, 95% bootstrap band")
    ax.grid(alpha=0.3)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)  # outside: curves often overlap
    fig.tight_layout()
    _save(fig, path)
    return True


def plot_finals(results: list[EnvResult], path: Path, colors: dict[str, Any]) -> bool:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    envs = [env for env in results if any(len(a.finals) for a in env.algos)]
    if not envs:
        return False
    fig, axes = plt.subplots(1, len(envs), figsize=(3.6 * len(envs) + 1, 4.4), dpi=110, squeeze=False)
    for ax, env in zip(axes[0], envs):
        names = []
        for i, algo in enumerate(env.algos):
            exact = algo.exact_finals
            finals = exact if exact is not None else algo.finals
            names.append(f"{algo.algo} (exact)" if exact is not None else algo.algo)
            if len(finals) == 0:
                continue
            color = colors[algo.algo]
            jitter = np.linspace(-0.12, 0.12, len(finals)) if len(finals) > 1 else np.zeros(1)
            ax.scatter(i + jitter, finals, color=color, alpha=0.55, s=18, zorder=3)
            low, high = stats.bootstrap_ci(finals)
            ax.errorbar(
                i,
                finals.mean(),
                yerr=[[finals.mean() - low], [high - finals.mean()]],
                fmt="D",
                color="black",
                markersize=5,
                capsize=4,
                zorder=4,
            )
        _reference_lines(ax, env.reference, env.planner)
        ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
        ax.set_title(env.label, fontsize=10)
        ax.grid(alpha=0.3, axis="y")
        if env.reference is not None or env.planner is not None:
            ax.legend(loc="best", fontsize=6)
    axes[0][0].set_ylabel("final greedy return")
    fig.suptitle("Final returns: dots are seeds, diamonds the mean with its 95% bootstrap CI", fontsize=10)
    fig.tight_layout()
    _save(fig, path)
    return True


# ----------------------------------------------------------------------------- episode GIFs
def best_learner_job(env: EnvResult) -> tuple[str, Job] | None:
    """The learner with the highest mean final return on `env` and its best finished seed's job."""
    learners = [a for a in env.algos if len(a.finals) and not is_privileged(a.algo)]
    if not learners:
        return None
    best = max(learners, key=lambda a: float(a.finals.mean()))
    job, _ = max(best.done, key=lambda done: float(done[1]["final_return_mean"]))
    return best.algo, job


def episode_gif(env: EnvResult, run_dir: Path) -> list[str]:
    """Record one greedy episode of `env`'s best learner into episode_<env>.gif; the report's lines about it."""
    found = best_learner_job(env)
    if found is None:
        return []
    algo, job = found
    gif = f"episode_{slug(env.label)}.gif"
    try:
        agent_file = next(iter(sorted(job_dir(run_dir, job).glob("agent.*"))), None)
        if agent_file is None:
            raise FileNotFoundError(f"no saved agent in {job_dir(run_dir, job)}")
        render_env = apply_wrappers(
            make_env(job.env_id, render_mode="rgb_array", **job.env_kwargs),
            [(target, kwargs) for target, kwargs in job.wrappers],
        )
        try:
            agent = base.load_agent(agent_file, render_env)
            frames = record_episodes(
                agent,
                render_env,
                1,
                run_dir / gif,
                seed=job.eval_seed,
                max_frames=GIF_MAX_FRAMES,
                max_side=GIF_MAX_SIDE,
            )
        finally:
            render_env.close()
    except Exception as error:  # a report is still useful without its GIF: say why it is missing
        (run_dir / gif).unlink(missing_ok=True)  # an older run's GIF would no longer match
        first_line = (str(error).splitlines() or [""])[0]
        return [f"No episode GIF for {env.label}: {type(error).__name__}: {first_line}", ""]
    return [
        f"![{algo} on {env.label}, one greedy episode]({gif})",
        "",
        f"One greedy episode of {algo} (seed {job.seed}, its best), from `reset(seed={job.eval_seed})`: "
        f"{frames} frames{' (cut)' if frames >= GIF_MAX_FRAMES else ''}.",
        "",
    ]


# ----------------------------------------------------------------------------- markdown
def _protocol(run: dict[str, Any]) -> str:
    return (
        "Protocol (identical for every algorithm): each job trains on `gym.make(id, **env_kwargs)` (plus the "
        "algorithm's observation wrappers, listed below; several copies in a `SyncVectorEnv` when its config has "
        "`n_envs` > 1) for the env's budget of env steps. At env steps 0, eval_every, 2 x eval_every, ... and at the "
        "end, the greedy policy plays `eval_episodes` episodes on a separate env; episode i of seed s starts from "
        f"`reset(seed={EVAL_SEED_BASE:_} + {MAX_EVAL_EPISODES:_} s + i)`, the same for every algorithm. The final "
        "return of a seed is its "
        "last evaluation. Across seeds: mean with a 95% percentile-bootstrap CI (10,000 resamples) and the "
        "interquartile mean (IQM, rliable). steps/s counts training env steps per second of training (evaluation "
        "excluded); wall time per seed includes evaluation."
    )


def _hyperparameter_section(results: list[EnvResult]) -> list[str]:
    lines = [
        "## Hyperparameters",
        "",
        "Per-env overrides of each algorithm's defaults (full values in each job's config.json):",
        "",
    ]
    for env in results:
        for algo in env.algos:
            if not algo.jobs:
                continue
            job = algo.jobs[0]
            values = json.dumps(job.hyperparameters, sort_keys=True) if job.hyperparameters else "defaults"
            wrappers = f"; observation wrappers: {', '.join(w[0] for w in job.wrappers)}" if job.wrappers else ""
            lines.append(f"- {env.label} / {algo.algo}: `{values}`{wrappers} (source: {algo.source or 'defaults'})")
    return lines


def write_report(run_dir: Path) -> Path:
    """Write report.md, summary.csv, seeds.csv and the plots of `run_dir`; returns report.md's path."""
    run, results = collect(run_dir)
    rows = summary_rows(results)
    atomic_write_text(run_dir / "summary.csv", _csv(SUMMARY_COLUMNS, rows))
    atomic_write_text(run_dir / "seeds.csv", _csv(SEED_COLUMNS, seed_rows(results)))
    command = " ".join(run.get("command") or [])
    lines = [f"# Comparison: {run['name']}", ""]
    if run.get("description"):
        lines += [run["description"], ""]
    lines += [
        f"- command: `{command}`",
        *[f"- extended {e['time']}: `{' '.join(e['command'])}`" for e in run.get("extended", [])],
        f"- started {run['created']} on {run['host']} ({run['cpus']} CPUs); seeds {run['seeds']}",
        f"- versions: {', '.join(f'{k} {v}' for k, v in run['versions'].items())}",
        "",
        _protocol(run),
        "",
    ]
    colors = algo_colors(results)
    for env in results:
        spec = env.spec
        kwargs = f", env_kwargs `{json.dumps(spec['env_kwargs'])}`" if spec["env_kwargs"] else ""
        lines += [
            f"## {env.label}",
            "",
            f"`{env.env_id}`{kwargs}: {spec['steps']:,} training steps, evaluation every {spec['eval_every']:,} "
            f"steps on {spec['eval_episodes']} episodes.",
            "",
        ]
        lines.append(env_table(env, [r for r in rows if r["env"] == env.label]))
        lines.append("")
        if env.reference is not None:
            ref = env.reference
            lines += [
                f"The env's model is known, so besides the evaluation episodes each greedy policy's exact expected "
                f'undiscounted {ref.horizon}-step return is computed ("exact return"; none for stochastic policies). '
                f"References: optimum over all policies {ref.optimum:.4g} (finite-horizon value iteration; it may "
                f"depend on the time left, which the agents do not see); {ref.stationary_label} "
                f"{ref.stationary:.4g}. Gap = optimum - exact return (or - episode mean where there is none).",
                "",
            ]
        if env.planner is not None:
            lines += [
                f"Planner: `{env.planner.algo}` reads the env's true state (`env.unwrapped`), which no learner "
                f"sees, so it is a privileged reference, not a competitor: its mean final return over "
                f'{env.planner.seeds} seed(s), {env.planner.mean:.4g}, is the "planner" column, and '
                f"gap to planner = planner - final return (mean).",
                "",
            ]
        curve_file = f"curves_{slug(env.label)}.png"
        if plot_curves(env, run_dir / curve_file, colors):
            lines += [f"![learning curves on {env.label}]({curve_file})", ""]
        lines += episode_gif(env, run_dir)
    if plot_finals(results, run_dir / "final_returns.png", colors):
        lines += ["## Final returns", "", "![final returns](final_returns.png)", ""]
    unfinished = [r for r in seed_rows(results) if r["status"] != "done"]
    if unfinished:
        lines += ["## Unfinished jobs", "", "Re-run them with `python -m agents compare --resume <this folder>`.", ""]
        lines += [
            f"- {r['env']} / {r['algo']} / seed {r['seed']}: {r['status']}{': ' + r['error'] if r.get('error') else ''}"
            for r in unfinished
        ]
        lines.append("")
    lines += _hyperparameter_section(results)
    path = run_dir / "report.md"
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path
