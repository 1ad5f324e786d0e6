"""The pixel comparison (`compare --preset pixels`): like-for-like settings and a tiny end-to-end run."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from agents.cli import main
from agents.compare.plan import build_plan, load_plan_file, preset_path
from agents.hyperparams import per_env_settings

PIXEL_LABELS = ("gridworld-rgb", "snake-rgb")


def _plan():
    return build_plan(load_plan_file(preset_path("pixels")))


def test_pixels_preset_lists_the_issue_algorithms_and_the_cell_cnn() -> None:
    plan = _plan()
    assert [spec.label for spec in plan.envs] == list(PIXEL_LABELS) and plan.seeds == (0, 1, 2)
    for spec in plan.envs:
        assert spec.env_kwargs["obs_type"] == "rgb"
        assert set(spec.algos) == {"dqn", "sb3-dqn", "sb3-ppo", "random", "planner"}
        for algo in ("dqn", "sb3-dqn", "sb3-ppo"):
            settings = plan.settings(algo, spec)
            assert settings.hyperparameters["cell_pixels"] in (12, 4), (algo, spec.label)
    assert plan.envs[0].env_kwargs["partial"] is False  # the full 84x84x3 view


@pytest.mark.parametrize("label", PIXEL_LABELS)
def test_sb3_dqn_gets_the_same_hyperparameters_and_network_as_dqn(label: str) -> None:
    ours = per_env_settings("dqn", "unused", label=label).hyperparameters
    theirs = per_env_settings("sb3-dqn", "unused", label=label).hyperparameters
    assert ours["network"] == "cell-cnn" and list(ours["hidden_sizes"]) == list(theirs["net_arch"])
    start, end, steps = ours["exploration"].split(":")[1:]
    assert (float(start), float(end), int(steps)) == (1.0, theirs["exploration_final_eps"], theirs["exploration_steps"])
    assert float(ours["learning_rate"]) == theirs["learning_rate"]
    shared = (
        "n_envs",
        "cell_pixels",
        "cnn_channels",
        "gamma",
        "buffer_size",
        "learning_starts",
        "batch_size",
        "train_freq",
        "target_update_interval",
    )
    assert {k: ours.get(k) for k in shared} == {k: theirs.get(k) for k in shared}


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_tiny_pixels_preset_end_to_end_with_the_planner_columns(tmp_path) -> None:
    """`compare --preset pixels` through the CLI, with tiny budgets: every job finishes, the report has the
    planner column and every algorithm's gap to it, and the planner is far above random."""
    run_dir = tmp_path / "run"
    args = [
        "compare",
        "--preset",
        "pixels",
        "--seeds",
        "1",
        "--steps",
        "300",
        "--eval-every",
        "300",
        "--eval-episodes",
        "1",
        "--workers",
        "1",
        "--no-progress",
        "--out",
        str(run_dir),
    ]
    assert main(args) == 0
    seeds = _rows(run_dir / "seeds.csv")
    assert len(seeds) == 10 and {r["status"] for r in seeds} == {"done"}
    summary = {(r["env"], r["algo"]): r for r in _rows(run_dir / "summary.csv")}
    for label in PIXEL_LABELS:
        planner = summary[(label, "planner")]
        assert planner["privileged"] == "True" and summary[(label, "dqn")]["privileged"] == "False"
        assert float(planner["planner_return"]) == float(planner["final_return_mean"])
        random = summary[(label, "random")]
        gap = float(random["gap_to_planner"])
        assert gap == pytest.approx(float(planner["final_return_mean"]) - float(random["final_return_mean"]), abs=1e-3)
        assert gap > 10  # one greedy episode: ~26 goals vs ~0 (gridworld), ~90 food vs ~-1 (snake)
    report = (run_dir / "report.md").read_text()
    assert "planner (privileged reference)" in report and "| gap to planner |" in report
    config = json.loads(next((run_dir / "jobs").glob("gridworld-rgb__dqn__s0*/config.json")).read_text())
    assert config["agent_hyperparameters"]["network"] == "cell-cnn"
    assert config["agent_hyperparameters"]["cell_pixels"] == 12
