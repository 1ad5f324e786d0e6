"""Ctrl-C during training: stop at a consistent point instead of in the middle of an update.

    with DeferredInterrupt() as interrupt:
        while training:
            ...one whole step...
            if interrupt.requested:
                raise KeyboardInterrupt     # the agent is consistent here: save it, then stop

While active (main thread only), the first SIGINT only sets `requested`; the training loop checks it
between whole steps, so the agent it leaves behind can be saved and loaded. A second Ctrl-C raises
KeyboardInterrupt at once (the agent may then be mid-update). Outside the main thread (workers,
Ray tasks) it does nothing and `requested` stays False.
"""

from __future__ import annotations

import signal
import threading
from typing import Any


class DeferredInterrupt:
    """Context manager: the first Ctrl-C sets `requested`; a second one interrupts at once."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def __enter__(self) -> DeferredInterrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc_info: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
