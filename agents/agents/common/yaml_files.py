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
    except IsADirectoryError:
        raise ValueError(f"{path} is a folder, not a YAML file") from None
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise ValueError(f"{path} is not a text (UTF-8) file: {error}") from error
    except (yaml.YAMLError, RecursionError) as error:  # RecursionError: absurdly deep nesting
        raise ValueError(f"{path} is not valid YAML: {error}") from error
