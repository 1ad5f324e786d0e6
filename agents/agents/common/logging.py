"""What a training loop shows and records: a progress bar, TensorBoard scalars, episode returns.

    logger = TrainLogger(total_steps, log_dir="runs/q", desc="tabular-q mdp-v0")
    ...                                         # in the loop:
    logger.step()                               # cheap: the bar is refreshed every `refresh_every` calls
    logger.episode(step, episode_return, episode_length)
    logger.scalar("train/epsilon", eps, step)
    logger.close()                              # flushes TensorBoard, closes the bar

`episodes` keeps every (step, return, length) so a caller can plot the learning curve.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np


class TrainLogger:
    def __init__(
        self,
        total_steps: int | None,
        log_dir: str | Path | None = None,
        *,
        progress: bool = True,
        desc: str = "training",
        refresh_every: int = 1000,
    ) -> None:
        from tqdm.auto import tqdm

        self.total_steps = total_steps
        self.refresh_every = refresh_every
        self.episodes: list[tuple[int, float, int]] = []
        self._pending = 0
        self._writer = None
        if log_dir is not None:  # before the bar starts: importing TensorBoard takes seconds
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(log_dir))
        self._start = time.perf_counter()
        self._bar = tqdm(total=total_steps, desc=desc, unit="step", disable=not progress, dynamic_ncols=True)

    def step(self, n: int = 1) -> None:
        self._pending += n
        if self._pending >= self.refresh_every:
            self._bar.update(self._pending)
            self._pending = 0

    def episode(self, step: int, episode_return: float, length: int) -> None:
        self.episodes.append((step, float(episode_return), int(length)))
        if self._writer is not None:
            self._writer.add_scalar("episode/return", episode_return, step)
            self._writer.add_scalar("episode/length", length, step)
        if len(self.episodes) % 10 == 0:
            recent = np.mean([r for _, r, _ in self.episodes[-100:]])
            self._bar.set_postfix(episodes=len(self.episodes), mean_return_100=f"{recent:.3g}", refresh=False)

    def scalar(self, name: str, value: float, step: int) -> None:
        if self._writer is not None:
            self._writer.add_scalar(name, value, step)

    def steps_per_second(self, step: int) -> float:
        return step / max(time.perf_counter() - self._start, 1e-9)

    def close(self) -> None:
        self._bar.update(self._pending)
        self._pending = 0
        self._bar.close()
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> TrainLogger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
