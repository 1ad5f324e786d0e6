"""Hyperparameter schedules (exploration rate, learning rate) as small callables of the step count.

A schedule can be written as a string, which is how configs and the CLI carry them:
`"0.1"` (constant), `"linear:1.0:0.05:10000"` (from 1.0 to 0.05 over 10,000 steps, then constant),
`"linear:0.001:0:40000:60000"` (0.001 until step 60,000, then to 0 over the next 40,000 steps: a learning
rate annealed at the end of a 100k-step run), `"exp:1.0:0.01:0.999"` (0.01 + (1.0 - 0.01) * 0.999**step).

    >>> epsilon = parse_schedule("linear:1.0:0.05:10000")
    >>> epsilon(0), epsilon(5000), epsilon(10_000), epsilon(10**6)
    (1.0, 0.525, 0.05, 0.05)
    >>> learning_rate = parse_schedule("linear:0.001:0:40000:60000")
    >>> learning_rate(60_000), learning_rate(80_000), learning_rate(100_000)
    (0.001, 0.0005, 0.0)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Constant:
    value: float

    def __call__(self, step: int) -> float:
        return self.value


@dataclass(frozen=True)
class Linear:
    """`start` until step `hold`, then linearly to `end` over `duration` steps, then `end`."""

    start: float
    end: float
    duration: int
    hold: int = 0

    def __call__(self, step: int) -> float:
        progress = step - self.hold
        if progress <= 0:
            return self.start
        if progress >= self.duration:
            return self.end
        return self.start + (self.end - self.start) * progress / self.duration


@dataclass(frozen=True)
class Exponential:
    start: float
    end: float
    decay: float

    def __call__(self, step: int) -> float:
        return self.end + (self.start - self.end) * self.decay**step


Schedule = Constant | Linear | Exponential

SCHEDULE_FORMS = (
    '"<value>", "linear:<start>:<end>:<steps>", "linear:<start>:<end>:<steps>:<hold steps>" or '
    '"exp:<start>:<end>:<decay per step>"'
)


def parse_schedule(spec: str | float | int | Schedule) -> Schedule:
    """Turn a number or a schedule string (see the module docstring) into a schedule."""
    if isinstance(spec, (Constant, Linear, Exponential)):
        return spec
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        return Constant(float(spec))
    if not isinstance(spec, str):
        raise ValueError(f"schedule must be a number or a string {SCHEDULE_FORMS}, got {spec!r}")
    kind, *args = spec.split(":")
    try:
        if not args:
            return Constant(float(kind))
        if kind == "linear" and len(args) in (3, 4):
            duration, hold = int(args[2]), int(args[3]) if len(args) == 4 else 0
            if duration <= 0 or hold < 0:
                raise ValueError
            return Linear(float(args[0]), float(args[1]), duration, hold)
        if kind == "exp" and len(args) == 3:
            decay = float(args[2])
            if not 0 < decay <= 1:
                raise ValueError
            return Exponential(float(args[0]), float(args[1]), decay)
    except ValueError:
        pass
    raise ValueError(
        f"cannot parse schedule {spec!r}; expected {SCHEDULE_FORMS} (steps > 0, hold steps >= 0, 0 < decay <= 1)"
    )
