"""Making environments by id: the suite's own ids, Atari ids and any registered Gymnasium id."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import gymnasium as gym

# The env packages of this suite and the ids they register.
SUITE_PACKAGES = ("gym_mdp", "gym_snake", "gym_gridworld")
SUITE_ENV_IDS = ("snake-v0", "gridworld-v0", "pacman-v0", "mdp-v0")
MAX_N_ENVS = 1024  # env copies of a SyncVectorEnv made from an agent config's n_envs


def register_suite_envs() -> None:
    """Import the suite's env packages (which registers their ids) and ale-py's Atari ids."""
    for package in SUITE_PACKAGES:
        importlib.import_module(package)
    try:
        import ale_py
    except ImportError:  # Atari support is optional for the env packages
        return
    gym.register_envs(ale_py)


def check_env_id(env_id: str) -> None:
    """Raise a ValueError naming the suite's ids if `env_id` is not registered."""
    register_suite_envs()
    if ":" in env_id:  # "module:Id": import the module (which registers Id), as gym.make would
        module, _, env_id = env_id.partition(":")
        if not module or not env_id:
            raise ValueError(
                f"env id {module}:{env_id!s} must be 'module:EnvName-v0' (both parts), e.g. gym_snake:snake-v0"
            )
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise ValueError(f"cannot import module {module!r} of env id {module}:{env_id}: {error}") from error
    if env_id not in gym.registry:
        suite = ", ".join(i for i in SUITE_ENV_IDS if i in gym.registry)
        raise ValueError(
            f"unknown env id {env_id!r}; the suite's ids are {suite}; any registered Gymnasium id also works "
            "(e.g. CartPole-v1, FrozenLake-v1, ALE/Pong-v5)"
        )


# keyword arguments gym.make itself takes (not passed to the env's constructor)
MAKE_KWARGS = ("max_episode_steps", "disable_env_checker", "render_mode")


def _accepted_kwargs(env_id: str) -> tuple[str, ...] | None:
    """The keyword arguments the env's constructor accepts; None if it takes any (**kwargs) or is unknown."""
    try:
        spec = gym.spec(env_id)
        entry_point = spec.entry_point
        if entry_point is None:
            return None
        creator = entry_point if callable(entry_point) else gym.envs.registration.load_env_creator(entry_point)
        parameters = inspect.signature(creator).parameters.values()
    except Exception:
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return tuple(
        p.name
        for p in parameters
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    )


def check_env_kwargs(env_id: str, kwargs: dict[str, Any]) -> None:
    """A ValueError naming the key and the accepted ones if the env's constructor does not take one of `kwargs`."""
    if not isinstance(kwargs, dict) or not all(isinstance(key, str) for key in kwargs):
        raise ValueError(f"env_kwargs of {env_id} must be a mapping of argument names to values, got {kwargs!r}")
    accepted = _accepted_kwargs(env_id)
    if accepted is None:
        return
    unknown = sorted(set(kwargs) - set(accepted) - set(MAKE_KWARGS))
    if unknown:
        raise ValueError(
            f"{env_id} takes no argument(s) {', '.join(map(repr, unknown))}; it accepts: "
            f"{', '.join(a for a in accepted if a not in MAKE_KWARGS) or '(none)'} "
            f"(and gym.make's {', '.join(MAKE_KWARGS)})"
        )


def make_env(env_id: str, **kwargs: Any) -> gym.Env:
    """`gym.make` with the suite's ids registered and a clear error (ValueError) for an unknown id, an argument the
    env does not take, or a value of an argument the env's constructor rejects."""
    check_env_id(env_id)
    check_env_kwargs(env_id, kwargs)
    try:
        return gym.make(env_id, **kwargs)
    except gym.error.Error as error:  # Gymnasium's own complaints about an id or its arguments
        raise ValueError(f"gym.make({env_id!r}) failed: {error}") from error
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as error:
        if not kwargs:
            raise  # no user arguments: a bug, not bad input (or an env's own ValueError)
        # a value of the wrong type or out of the env's range (its own check, or a lookup failing inside it)
        raise ValueError(f"{env_id} rejected env_kwargs {kwargs!r}: {type(error).__name__}: {error}") from error
