"""Placeholder: the env of this package is being built (its issue); nothing is registered yet."""

ENV_IDS: tuple[str, ...] = ()


def register_envs() -> None:
    """Register this package's ids with Gymnasium (none yet)."""
