"""gym-conformance as a product: its Python API, its command and its pytest plugin, in this venv
and (slow) in a fresh venv holding only the checker and a throwaway env package."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from test_conformance_bites import GOOD, ToyWalk, UsesGlobalRandom
from venv_helpers import fresh_venv, installed, pip_install

from gym_conformance import check_conformance, checks
from gym_conformance.report import FAILED, NOT_APPLICABLE, PASSED

ROOT = Path(__file__).resolve().parents[1]
FAST = [checks.check_observations_in_space, checks.check_determinism, checks.check_close_twice]


def test_report_of_a_good_env_passes_every_check() -> None:
    report = check_conformance(GOOD.env_id, checks=FAST)
    assert report.passed, str(report)
    assert [r.name for r in report.results] == ["observations_in_space", "determinism", "close_twice"]
    assert {r.status for r in report.results} == {PASSED}


def test_report_names_the_failed_check_and_its_reason() -> None:
    report = check_conformance(UsesGlobalRandom, checks=FAST)  # a factory: registered under a generated id
    assert not report.passed
    assert report["determinism"].status == FAILED and "global RNG" in report["determinism"].reason
    assert report["close_twice"].status == PASSED
    assert "FAILED         determinism: the env used numpy's global RNG" in str(report)


def test_a_crashing_env_fails_the_check_instead_of_raising() -> None:
    class CrashesOnStep(ToyWalk):
        def step(self, action):
            raise RuntimeError("boom")

    report = check_conformance(CrashesOnStep, checks=[checks.check_determinism])
    assert report["determinism"].status == FAILED and report["determinism"].reason == "raised RuntimeError: boom"


def test_missing_sb3_is_not_applicable(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("stable_baselines3", "stable_baselines3.common", "stable_baselines3.common.env_checker"):
        monkeypatch.setitem(sys.modules, module, None)  # importing it fails as if not installed
    report = check_conformance(GOOD.env_id, checks=[checks.check_sb3_env_checker])
    assert report["sb3_env_checker"].status == NOT_APPLICABLE
    assert "stable-baselines3 is not installed" in report["sb3_env_checker"].reason
    assert report.passed


def _run(args: list[str], cwd: Path, python: str = sys.executable, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | env
    return subprocess.run([python, *args], capture_output=True, text=True, cwd=cwd, env=environ, timeout=300)


def test_command_prints_one_line_per_check_and_exits_by_outcome(tmp_path: Path) -> None:
    path = os.pathsep.join(sys.path)
    args = ["-m", "gym_conformance", "FrozenLake-v1", "--env-kwargs", '{"is_slippery": true}']
    good = _run(args, tmp_path, PYTHONPATH=path)
    assert good.returncode == 0, good.stdout + good.stderr
    lines = good.stdout.splitlines()
    assert lines[0].startswith("FrozenLake-v1[is_slippery=True]: 11 passed")
    assert len(lines) == 1 + len(checks.ALL_CHECKS) and all(line.startswith("PASSED") for line in lines[1:])

    bad_json = _run(["-m", "gym_conformance", "FrozenLake-v1", "--env-kwargs", "{size: 3}"], tmp_path, PYTHONPATH=path)
    assert bad_json.returncode == 2 and "error: --env-kwargs is not valid JSON" in bad_json.stderr
    unknown = _run(["-m", "gym_conformance", "NoSuchEnv-v0"], tmp_path, PYTHONPATH=path)
    assert unknown.returncode == 2 and "error: cannot make 'NoSuchEnv-v0'" in unknown.stderr


def test_plugin_runs_the_checks_on_env_id(tmp_path: Path) -> None:
    path = os.pathsep.join(sys.path)
    (tmp_path / "test_unrelated.py").write_text("def test_project_own():\n    pass\n")
    out = _run(
        [
            "-m",
            "pytest",
            "-p",
            "gym_conformance.plugin",
            "-p",
            "no:cacheprovider",
            "--env-id",
            "mdp-v0",
            "--env-import",
            "gym_mdp",
            "-q",
            "-rA",
        ],
        tmp_path,
        PYTHONPATH=path,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"{len(checks.ALL_CHECKS)} passed, 1 deselected" in out.stdout
    assert "PASSED conformance::determinism[mdp-v0]" in out.stdout


# ------------------------------------------------------------------------- a fresh venv, slow
THROWAWAY_PYPROJECT = """
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "throwaway-envs"
version = "0.0.1"
dependencies = ["gymnasium"]
"""

THROWAWAY_ENVS = '''
import gymnasium as gym
import numpy as np
from gymnasium import spaces


class Coin(gym.Env):
    """Guess a coin flip: reward 1 when right; 10 flips an episode."""

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, render_mode=None):
        self.observation_space, self.action_space = spaces.Discrete(2), spaces.Discrete(2)
        self.render_mode, self.coin, self.t = render_mode, 0, 0

    def flip(self):
        return int(self.np_random.integers(2))

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.coin, self.t = self.flip(), 0
        return 0, {}

    def step(self, action):
        if not self.action_space.contains(action):
            raise ValueError(f"action {action!r} not in {self.action_space}")
        reward, self.coin, self.t = float(action == self.coin), self.flip(), self.t + 1
        return int(reward), reward, self.t >= 10, False, {}

    def render(self):
        return f"flip {self.t}: coin {self.coin}"


class GlobalCoin(Coin):
    def flip(self):
        return int(np.random.randint(2))  # numpy's global generator: ignores the env's seed


gym.register("throwaway/Coin-v0", entry_point=Coin)
gym.register("throwaway/GlobalCoin-v0", entry_point=GlobalCoin)
'''


@pytest.mark.slow
def test_checker_installs_and_runs_alone_in_a_fresh_venv(tmp_path: Path) -> None:
    package = tmp_path / "throwaway"
    (package / "throwaway_envs").mkdir(parents=True)
    (package / "pyproject.toml").write_text(THROWAWAY_PYPROJECT)
    (package / "throwaway_envs" / "__init__.py").write_text(textwrap.dedent(THROWAWAY_ENVS))
    python = fresh_venv(tmp_path)
    pip_install(python, str(ROOT / "conformance"), str(package), cwd=tmp_path)  # pulls gymnasium, numpy, pytest
    packages = installed(python)
    assert "gym-conformance==" in packages and "throwaway-envs==" in packages
    for ours_or_heavy in ("rlsuite", "gym-snake", "agents", "torch", "stable-baselines3"):
        assert ours_or_heavy not in packages, f"{ours_or_heavy} leaked into the fresh venv:\n{packages}"
    project = tmp_path / "project"  # an unrelated project: the plugin is found by its entry point
    project.mkdir()
    good, broken = "throwaway_envs:throwaway/Coin-v0", "throwaway_envs:throwaway/GlobalCoin-v0"

    out = _run(["-m", "gym_conformance", good], project, python)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "NOT APPLICABLE sb3_env_checker: stable-baselines3 is not installed" in out.stdout
    out = _run(["-m", "gym_conformance", broken], project, python)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "FAILED         determinism: the env used numpy's global RNG" in out.stdout

    out = _run(["-m", "pytest", "--env-id", good, "-q"], project, python)
    assert out.returncode == 0 and "10 passed, 1 skipped" in out.stdout, out.stdout + out.stderr
    out = _run(["-m", "pytest", "--env-id", broken, "-q"], project, python)
    assert out.returncode == 1 and "the env used numpy's global RNG" in out.stdout, out.stdout + out.stderr

    code = (
        "from gym_conformance import check_conformance\n"
        f"good, broken = check_conformance({good!r}), check_conformance({broken!r})\n"
        "print(good.passed, broken.passed, 'determinism' in [r.name for r in broken.failures])\n"
    )
    out = _run(["-c", code], project, python)
    assert out.stdout.strip() == "True False True", out.stdout + out.stderr
