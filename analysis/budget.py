"""Bounds for background computations: a time budget and a cancellation check.

The screen's analyses (story overview, claim suggestions, shared passages) run in worker
threads on stories of thousands of articles. Each takes a `Budget` and calls
`budget.check()` between small pieces of work (one article pair, one article's
sentences): a cancelled budget raises `Cancelled` there, so a closed screen or a quitting
app ends the work within milliseconds. `budget.spent` says the time budget is used up;
the caller then stops and reports an honest partial result.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Cancelled(Exception):
    """The computation was cancelled (its screen closed, the app quit)."""


def _never() -> bool:
    return False


class Budget:
    """A deadline (seconds from now; None: no deadline) and a cancellation check."""

    def __init__(self, seconds: float | None = None, cancelled: Callable[[], bool] = _never) -> None:
        self.started = time.monotonic()
        self.deadline = None if seconds is None else self.started + seconds
        self._cancelled = cancelled

    @property
    def cancelled(self) -> bool:
        """Whoever asked for the result no longer wants it."""
        return bool(self._cancelled())

    def check(self) -> None:
        """Raise `Cancelled` if the computation was cancelled (call it between pieces)."""
        if self._cancelled():
            raise Cancelled()

    @property
    def spent(self) -> bool:
        """The time budget is used up (never, without a deadline)."""
        return self.deadline is not None and time.monotonic() >= self.deadline

    @property
    def elapsed(self) -> float:
        """Seconds since the budget was made."""
        return time.monotonic() - self.started


UNBOUNDED = Budget()  # no deadline, never cancelled: the command line's whole answers


class Running:
    """Counts the computations under way (use as a context manager around each);
    `idle` is set while there are none: a quitting app, or a test, can wait for it."""

    def __init__(self) -> None:
        self._count = 0
        self._lock = threading.Lock()
        self.idle = threading.Event()
        self.idle.set()

    def __enter__(self) -> Running:
        with self._lock:
            self._count += 1
            self.idle.clear()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._count -= 1
            if self._count == 0:
                self.idle.set()
