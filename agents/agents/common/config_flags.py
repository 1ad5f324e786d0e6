"""Command-line flags from hyperparameter dataclasses: one typed `--flag` per field, with its default and help.

    parser = argparse.ArgumentParser()
    add_config_flags(parser, DQNConfig)             # --learning-rate, --double-dqn/--no-double-dqn, ...
    overrides = config_overrides(parser.parse_args(argv), DQNConfig)   # only the flags that were given

Used by `python -m agents train` and by `python -m agents.dqn.atari`; it knows no algorithm.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from typing import Any


def add_config_flags(parser: argparse.ArgumentParser, config_class: type) -> None:
    """One `--flag` per field of a hyperparameter dataclass, typed, with its default and help."""
    group = parser.add_argument_group(f"{config_class.__qualname__} hyperparameters")
    hints = typing.get_type_hints(config_class)
    for field in dataclasses.fields(config_class):
        flag = "--" + field.name.replace("_", "-")
        kind = hints[field.name]
        if field.default is not dataclasses.MISSING:
            default = field.default
        elif field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        else:
            raise TypeError(f"{config_class.__qualname__}.{field.name} has no default: every hyperparameter needs one")
        help_text = f"{field.metadata.get('help', '')} (default: {default!r})"
        options: dict[str, Any] = {"dest": field.name, "default": argparse.SUPPRESS, "help": help_text}
        args = typing.get_args(kind)
        if kind is bool:
            group.add_argument(flag, action=argparse.BooleanOptionalAction, **options)
        elif typing.get_origin(kind) is tuple:
            group.add_argument(flag, nargs="+", type=args[0], **options)
        else:
            scalar = next((a for a in args if a is not type(None)), kind) if args else kind
            group.add_argument(flag, type=_none_or(scalar) if type(None) in args else scalar, **options)


def _none_or(kind: type) -> Any:
    def parse(text: str) -> Any:
        return None if text.lower() == "none" else kind(text)

    parse.__name__ = kind.__name__
    return parse


def config_overrides(args: argparse.Namespace, config_class: type) -> dict[str, Any]:
    """The hyperparameters given on the command line (absent flags keep the dataclass default)."""
    values = vars(args)
    return {
        f.name: (tuple(values[f.name]) if isinstance(values[f.name], list) else values[f.name])
        for f in dataclasses.fields(config_class)
        if f.name in values
    }
