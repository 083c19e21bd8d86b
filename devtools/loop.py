"""A single-threaded event loop for the session driver (``kiosk.driver.SessionDriver``'s ``marshal`` and
``run_blocking``) in tests, benchmarks and scripted voters.

origin: moved out of kiosk/driver.py (the product runs the driver on Kivy's clock and a worker thread).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable


class InlineLoop:
    """A single-threaded event loop for tests, benchmarks and scripted voters: ``marshal`` and
    ``run_blocking`` queue work, ``run_until_idle`` runs it in order."""

    def __init__(self) -> None:
        self._queue: deque[Callable[[], None]] = deque()

    def call_soon(self, fn: Callable[[], None]) -> None:
        self._queue.append(fn)

    def run_until_idle(self, limit: int = 10_000) -> None:
        for _ in range(limit):
            if not self._queue:
                return
            self._queue.popleft()()
        raise RuntimeError("the loop did not become idle")
