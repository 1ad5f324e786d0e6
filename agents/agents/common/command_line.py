"""What every command-line entry point shares: integer flags checked by argparse, and user errors
reported as one `error:` line with exit code 2 instead of a traceback.

    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="demo")
    >>> _ = parser.add_argument("--steps", type=positive_int)
    >>> parser.parse_args(["--steps", "5"]).steps
    5
    >>> run_reporting_user_errors(lambda: int("five"), debug=False)  # a ValueError: bad input, not our bug
    2
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence


class UserError(Exception):
    """A user error that is not a ValueError (a bad flag combination, a missing run): exit code 2."""


USER_ERRORS: tuple[type[BaseException], ...] = (UserError, FileNotFoundError, ValueError)
"""Bad input found by the envs, agents or files (CheckpointError and RunError are ValueErrors)."""


def int_in(text: str, low: int, high: int | None, what: str) -> int:
    """`text` as an integer in [low, high] (high None: unbounded), else argparse's error naming `what`."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
    if value < low or (high is not None and value > high):
        raise argparse.ArgumentTypeError(f"must be {what}, got {value}")
    return value


def positive_int(text: str) -> int:
    return int_in(text, 1, None, "a positive integer")


def non_negative_int(text: str) -> int:
    return int_in(text, 0, None, "an integer >= 0")


MAX_SEED = 2**31 - 1
"""The largest seed the commands take: numpy's legacy seeding (SB3) takes < 2**32, and evaluations add offsets."""


MAX_STEPS = 10**10
"""The most env steps a command trains for (`train --steps`, a comparison plan's steps): beyond it is a typo."""


def seed_int(text: str) -> int:
    return int_in(text, 0, MAX_SEED, f"an integer from 0 to {MAX_SEED}")


def debug_requested(argv: Sequence[str]) -> bool:
    """True for `--debug` as the first argument or RLSUITE_DEBUG set (not 0): user errors then raise."""
    return "--debug" in argv[:1] or os.environ.get("RLSUITE_DEBUG", "") not in ("", "0")


MAX_ERROR_CHARS = 600
"""The longest `error:` line printed: longer messages (a whole array in a space's repr) are cut."""


def one_line(message: str) -> str:
    r"""`message` on one line (a library's multi-line error joined with spaces), cut after `MAX_ERROR_CHARS`.

    >>> one_line("while parsing a flow mapping\n  in 'x.yml', line 1\n")
    "while parsing a flow mapping in 'x.yml', line 1"
    """
    text = " ".join(message.split())
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 5] + " ..."


def run_reporting_user_errors(command: Callable[[], int], *, debug: bool) -> int:
    """Run `command`; a user error prints `error: <message>` and returns 2 (with `debug`: it raises with its
    traceback), Ctrl-C returns 130. Anything else is a bug of ours and shows its traceback."""
    try:
        return command()
    except USER_ERRORS as error:
        if debug:
            raise
        print(f"error: {one_line(str(error))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
