"""Each env package installs alone into an empty venv, pulls no torch/SB3, and registers its ids."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from venv_helpers import fresh_venv, installed

ROOT = Path(__file__).resolve().parents[1]
# package folder -> an id it registers
ENV_PACKAGES = {"gym_mdp": "mdp-v0", "gym_snake": "snake-v0", "gym_gridworld": "gridworld-v0"}


@pytest.mark.slow
@pytest.mark.parametrize("package", sorted(ENV_PACKAGES))
def test_env_package_installs_alone(tmp_path: Path, package: str) -> None:
    python = fresh_venv(tmp_path, "-e", str(ROOT / package))
    packages = installed(python)
    for heavy in ("torch", "stable-baselines3", "ale-py"):
        assert f"{heavy}==" not in packages, f"installing {package} pulled {heavy}"
    env_id = ENV_PACKAGES[package]
    code = (
        f"import gymnasium as gym; env = gym.make('{package}:{env_id}'); env.reset(seed=0); "
        # the vector form too: snake's without numba (an optional extra) takes the numpy engine
        f"venv = gym.make_vec('{env_id}', num_envs=2); venv.reset(seed=0); venv.step(venv.action_space.sample()); "
        "print(env.spec.id)"
    )
    out = subprocess.run(
        [python, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )  # repo root: the outer folder must not shadow the package
    assert out.stdout.strip() == env_id
