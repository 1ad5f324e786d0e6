"""Fresh, empty virtual environments for packaging tests (nothing of the outer venv leaks in)."""

from __future__ import annotations

import subprocess
import venv
from pathlib import Path


def fresh_venv(where: Path, *requirements: str) -> str:
    """Create a plain venv (no system site-packages) under `where`, pip install `requirements`
    (pip's cache and the configured indexes serve them) and return its python."""
    venv.create(where / "venv", with_pip=True)
    python = str(where / "venv" / "bin" / "python")
    if requirements:
        pip_install(python, *requirements, cwd=where)
    return python


def pip_install(python: str, *requirements: str, cwd: Path) -> None:
    subprocess.run([python, "-m", "pip", "install", "--quiet", *requirements], check=True, cwd=cwd)


def installed(python: str) -> str:
    """`pip list --format=freeze` of that venv, lower-cased."""
    out = subprocess.run([python, "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True, check=True)
    return out.stdout.lower()
