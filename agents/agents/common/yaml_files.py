"""Reading the YAML files users give us (comparison plans, hyperparameter tables) safely and with clear errors.

    table = read_yaml("my-hyperparams.yml")      # yaml.safe_load: never constructs Python objects
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def read_yaml(path: str | Path) -> Any:
    """A YAML file's content, or a ValueError naming the file and the problem."""
    path = Path(path)
    try:
        return yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"no such file: {path}") from None
    except yaml.YAMLError as error:
        raise ValueError(f"{path} is not valid YAML: {error}") from error
